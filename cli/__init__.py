"""The `pulse` command: a thin layer that parses options and calls the library."""

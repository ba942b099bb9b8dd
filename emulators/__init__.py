"""Built-in Jira and Trello emulators: real HTTP on loopback, deterministic data, known truth.

They power the test suite, the benchmarks and `pulse demo`.
"""

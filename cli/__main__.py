"""`python -m cli` runs the pulse command (used where the console script is not on PATH)."""

from cli.main import main

main()

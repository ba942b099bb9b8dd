"""`python -m cli` runs the pulse command (used where the console script is not on PATH)."""

from cli.launch import main

main()

"""`python -m pulse.cli` runs the pulse command (used where the console script is not on PATH)."""

from pulse.cli.launch import main

main()

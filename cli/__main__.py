"""`python -m cli` runs the `nongedai` command."""

from cli.main import main

main()

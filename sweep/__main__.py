"""``python -m sweep`` runs the CLI."""

from sweep.cli import main

main()

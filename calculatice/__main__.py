"""``python -m calculatice`` runs the command."""

from calculatice.cli import main

main()

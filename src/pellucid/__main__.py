"""``python -m pellucid`` runs the command line."""

from pellucid._cli.main import main

main()

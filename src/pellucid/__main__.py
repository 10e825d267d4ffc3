"""``python -m pellucid`` runs the command line."""

from pellucid._cli.entry import main

main()

"""``python -m teamform`` runs the command line."""

from teamform.cli import main

main()

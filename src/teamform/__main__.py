"""``python -m teamform`` runs the command line."""

import gc

# importing the command line builds some 400 000 objects and no garbage cycles: with the
# collector on, a hundred collections walk them (0.05-0.1 s of the start-up)
gc.disable()
try:
    from teamform.cli import main
finally:
    gc.enable()

main()

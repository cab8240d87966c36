"""``python -m seethink``: the command line by its distribution's name (the code is ``seethink_core``)."""

"""The ``seethink`` command line: one module per subcommand."""

"""Example seethink plugin: a keyword reward."""

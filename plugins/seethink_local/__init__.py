"""seethink first-party plugin: local."""

"""seethink first-party plugin: synthetic."""

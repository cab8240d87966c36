"""seethink first-party plugin: data."""

"""seethink first-party plugin: eval."""

"""seethink first-party plugin: rewards."""

"""seethink first-party plugin: openrlhf."""

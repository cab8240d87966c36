"""seethink first-party plugin: the verl 0.9.1 backend (docs/verl.md)."""

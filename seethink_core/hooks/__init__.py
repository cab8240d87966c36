"""The plugin core: the hooks, what plugins register, the plugin manager and the backend contract."""

"""Entry point of the seethink first-party plugin 'openrlhf'. Imports nothing heavy."""

from __future__ import annotations

from seethink_core.hookspecs import hookimpl  # noqa: F401

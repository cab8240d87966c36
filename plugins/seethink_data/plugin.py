"""Entry point of the seethink first-party plugin 'data'. Imports nothing heavy."""

from __future__ import annotations

from seethink_core.hookspecs import hookimpl  # noqa: F401

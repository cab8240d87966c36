"""Collecting every problem of a file before raising one ``DslError`` with all of them."""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from seethink_core.errors import Diagnostic, DslError, SourcePos


class Diags:
    """An ordered set of diagnostics (a curriculum-level mistake seen from many stages counts once)."""

    def __init__(self, limit: int | None = None) -> None:
        self.items: list[Diagnostic] = []
        self._seen: set[tuple] = set()
        self.limit = limit  # errors kept before ``add`` stops the compile (None: no limit)
        self._errors = 0

    def add(self, diag: Diagnostic) -> None:
        if diag.pos is not None and diag.pos.end_col is None:
            # Same caret as None (one column), and positions stay comparable: SeethinkError sorts
            # diagnostics by position, and None cannot be compared with a number.
            diag = diag.with_pos(replace(diag.pos, end_col=diag.pos.col + 1))
        key = (diag.message, diag.pos, diag.hint, diag.severity)
        if key not in self._seen:
            self._seen.add(key)
            self.items.append(diag)
            if diag.severity == "error":
                self._errors += 1
                if self.limit is not None and self._errors >= self.limit:
                    self._stop()

    def _stop(self) -> None:
        """Stop at ``limit`` errors: what was found, and a last line saying the rest was not looked at."""
        last = self.items[-1]
        # Placed at the last error looked at, so the message has a position like every other.
        self.items.append(Diagnostic(f"too many errors: stopped after {self.limit}", last.pos,
                                     hint="fix these and check again"))
        raise DslError(self.items)

    def error(self, message: str, pos: SourcePos | None, hint: str | None = None) -> None:
        self.add(Diagnostic(message, pos, hint))

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        for d in diags:
            self.add(d)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def __bool__(self) -> bool:
        return self._errors > 0  # asked once per phase: counting the list each time was quadratic

    def raise_if_any(self) -> None:
        if self.errors:
            raise DslError(self.items)


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """``did_you_mean``, skipped for absurdly long names (a 3 MB word must not take seconds)."""
    from seethink_core.errors import did_you_mean

    return did_you_mean(name, candidates) if len(name) <= 100 else None

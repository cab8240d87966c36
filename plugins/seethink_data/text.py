"""Small text helpers shared by the adapters."""

from __future__ import annotations

import re

_IMAGE_MARKER = re.compile(r"\s*<image>\s*")
# "A: text" or "A. text" or "(A) text", one option per line or all on one line after "Options:".
_OPTION = re.compile(r"(?:^|\s|,)\(?([A-H])[:.)]\s*(.+?)(?=(?:,?\s+\(?[A-H][:.)]\s)|$)", re.S)


def strip_image_markers(text: str) -> str:
    """Remove ``<image>`` placeholders: the backend's chat template places images itself."""
    return _IMAGE_MARKER.sub(" ", text).strip()


def parse_options(text: str) -> list[str] | None:
    """The options of a multiple-choice question, A first, if the text lists any after "Options:"."""
    _, sep, tail = text.partition("Options:")
    if not sep:
        return None
    # Stop at a trailing instruction line ("Respond using only the letter ...").
    lines = [ln for ln in tail.strip().splitlines() if ln.strip()]
    body = "\n".join(ln for ln in lines if re.match(r"\s*\(?[A-H][:.)]", ln)) if len(lines) > 1 else tail
    found = [(m[1], m[2].strip().rstrip(",")) for m in _OPTION.finditer(body.strip())]
    letters = [letter for letter, _ in found]
    if not found or letters != [chr(ord("A") + i) for i in range(len(found))]:
        return None
    return [option for _, option in found]

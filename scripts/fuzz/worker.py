"""The child process of the harness: checks one file per request, as ``seethink check`` would.

Protocol: one JSON line in (``{"path": ...}``), one JSON line out (the result of ``check_file``). The
first line out, ``{"ready": true}``, comes after a warm-up compile, so that importing the plugins and
building the parser are not charged to the first input.
"""

from __future__ import annotations

import json
import os
import re
import resource
import sys
import time
import traceback
from typing import Any, Iterable

from seethink_core.errors import MAX_MESSAGE, MAX_SOURCE_BYTES

MEMORY_LIMIT = 4 * 1024**3  # a runaway allocation becomes a MemoryError (a crash), not a swapping machine
# What leaks from Python into a message: a repr, a traceback, a Lark class or terminal name. (Not
# backslash escapes: `import "\u0000"` is quoted back as written, and that is right.)
GARBAGE = re.compile(r"Traceback|Token\(|Tree\(|<[\w.]+ object at 0x|<class '|NoneType|lark\.|"
                     r"Unexpected(Token|Characters|EOF|Input)|__ANON|\$END")


def _unprintable(text: str) -> bool:
    return any(not ch.isprintable() for ch in text)


def message_problems(diags: Iterable[Any], file: str, lines: int) -> list[str]:
    """Why these diagnostics are not clean: one printable line each, no Python garbage, and for an
    error in the checked file a position inside it."""
    problems = []
    for d in diags:
        for part, text in (("message", d.message), ("hint", d.hint or "")):
            if part == "message" and not text.strip():
                problems.append("empty message")
            if "\n" in text or _unprintable(text):
                problems.append(f"{part} is not one printable line: {text[:120]!r}")
            if len(text) > MAX_MESSAGE:  # longer than a list of every option name: quoted input
                problems.append(f"{part} is {len(text)} characters long: {text[:80]!r}...")
            if GARBAGE.search(text):
                problems.append(f"{part} shows Python internals: {text[:160]!r}")
        if d.severity != "error":
            continue
        if d.pos is None:
            problems.append(f"error without file:line:col: {d.message[:120]!r}")
        elif d.pos.file == file and not (1 <= d.pos.line <= lines and d.pos.col >= 1):
            problems.append(f"position {d.pos} is outside the file ({lines} lines): {d.message[:80]!r}")
    return problems


def _render_problems(rendered: list[str]) -> list[str]:
    """What ``seethink check`` prints must reach the terminal as text: no escape sequences, no bidi controls."""
    bad = [ln for text in rendered for ln in text.split("\n") if _unprintable(ln)]
    return [f"printed line is not printable text: {ln[:120]!r}" for ln in bad[:3]]


def check_file(path: str) -> dict[str, Any]:
    """Check ``path`` like ``seethink check`` (compile every curriculum, render every diagnostic)."""
    from seethink_core.compiler import check_paths
    from seethink_core.errors import SeethinkError, render

    with open(path, "rb") as f:  # the reader refuses a larger file unread, so neither reads past the limit
        lines = f.read(MAX_SOURCE_BYTES + 1).count(b"\n") + 1
    # CPU time, not wall time: the machine is shared, and a busy neighbour must not make an input slow.
    start = time.process_time()
    try:
        results = check_paths([path])
        diags = [d for r in results for d in r.diagnostics]
        rendered = [render(d) for d in diags]
    except SeethinkError as e:  # escaped check_paths, but the CLI's main still reports it cleanly
        diags, rendered = list(e.diagnostics), [str(e)]
    except (Exception, SystemExit):  # noqa: BLE001 - anything else is what the fuzzer looks for
        return {"cls": "crash", "seconds": time.process_time() - start, "detail": traceback.format_exc()}
    seconds = time.process_time() - start
    problems = message_problems(diags, path, lines) + _render_problems(rendered)
    if problems:
        return {"cls": "bad_message", "seconds": seconds, "detail": "\n".join(problems + [""] + rendered)}
    errors = [d for d in diags if d.severity == "error"]
    cls = "error" if errors else "accepted"
    return {"cls": cls, "seconds": seconds, "detail": errors[0].message[:200] if errors else ""}


def _warm_up() -> None:
    from scripts.fuzz.corpus import ROOT

    check_file(str(ROOT / "curricula" / "demo.curr"))


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    # Keep the protocol on a private copy of stdout; anything the checked code prints goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    _warm_up()
    proto.write(json.dumps({"ready": True}) + "\n")
    hang = bool(os.environ.get("SEETHINK_FUZZ_HANG"))  # for the harness's own test of its watchdog
    for line in sys.stdin:
        request = json.loads(line)
        if hang:
            time.sleep(3600)
        proto.write(json.dumps(check_file(request["path"])) + "\n")


if __name__ == "__main__":
    main()

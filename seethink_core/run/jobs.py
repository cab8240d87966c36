"""A cluster backend's training job as a child process: its output to a log (and the terminal), its
metrics collected while it runs, and never left running when seethink stops.

The OpenRLHF and verl backends each launch one job per phase; how they read the job's metrics is
their own (TensorBoard events, a JSONL file), what is done with the process is this module's.
"""

from __future__ import annotations

import collections
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from seethink_core.errors import BackendError

TAIL_LINES = 40  # of the job's output, kept for the error message when it fails


@dataclass
class JobOutcome:
    returncode: int
    tail: list[str]
    last_step: int
    metrics: dict[str, float] = field(default_factory=dict)


def _pump(stream: TextIO, log: TextIO, echo: TextIO | None, tail: collections.deque) -> None:
    for line in stream:
        log.write(line)
        log.flush()
        tail.append(line.rstrip("\n"))
        if echo is not None:
            echo.write(line)
            echo.flush()


def supervise(argv: list[str], *, env: dict[str, str], log_path: Path, collect: Callable[[], None],
              poll_seconds: float = 5.0, echo: TextIO | None = None, cwd: Path | None = None) -> tuple[int, list[str]]:
    """Run ``argv`` to its end, its output appended to ``log_path`` (and ``echo``), ``collect()`` called
    every ``poll_seconds`` while it runs and once after. Returns its exit code and the last lines it
    printed. Ctrl-C, or an error in ``collect``, terminates the job (killed after 30 s) and is raised."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    with log_path.open("a", encoding="utf-8") as log:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                                    env=env, cwd=cwd, errors="replace")
        except OSError as e:
            raise BackendError(f"cannot start `{argv[0]}`: {e}") from None
        reader = threading.Thread(target=_pump, args=(proc.stdout, log, echo, tail), daemon=True)
        reader.start()
        try:
            while True:
                try:
                    proc.wait(timeout=poll_seconds)
                    break
                except subprocess.TimeoutExpired:
                    collect()
        except BaseException:  # Ctrl-C or a failing callback: never leave the job running
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            raise
        reader.join(timeout=2)  # stray grandchildren may hold the pipe; the job itself has ended
    collect()
    return proc.returncode, list(tail)

"""The watchdog: inputs go one at a time to a child process (scripts/fuzz/worker.py); a child that runs
past the kill time is killed and restarted, so a hang is recorded as ``slow`` instead of waited on.

One child, restarted only after a hang or a death, keeps the cost per input at a compile; a child per
input would spend a second importing for each.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from scripts.fuzz.corpus import ROOT
from scripts.fuzz.generate import FuzzInput

CLASSES = ("accepted", "error", "bad_message", "crash", "slow")
READY_TIMEOUT = 120.0  # importing the plugins on a loaded two-core machine


@dataclass
class Outcome:
    input: FuzzInput
    cls: str  # one of CLASSES
    seconds: float
    detail: str  # the first error, the traceback, the message problems, or why it was killed


class Worker:
    """One child process and the pipe to it."""

    def __init__(self, log: Path):
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.buffer = b""

    def start(self) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "scripts.fuzz.worker"], cwd=ROOT, env=env,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                         start_new_session=True)
        self.buffer = b""
        if self._reply(READY_TIMEOUT) is None:
            raise RuntimeError(f"the fuzz worker did not start; see {self.log}")

    def stop(self) -> int | None:
        """Kill the child (and anything it started: it leads its own session); its exit code."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        return proc.wait()

    def ask(self, path: Path, timeout: float) -> dict[str, Any] | None:
        """The child's result for ``path``, or ``None`` when it did not answer in ``timeout`` seconds."""
        if self.proc is None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"path": str(path)}) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            return None
        return self._reply(timeout)

    def _reply(self, timeout: float) -> dict[str, Any] | None:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b"\n" not in self.buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:  # the child died
                    return None
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def log_tail(self, size: int = 2000) -> str:
        try:
            return self.log.read_bytes()[-size:].decode("utf-8", errors="replace")
        except OSError:
            return ""


def _lost(worker: Worker, fuzz: FuzzInput, waited: float, kill_after: float) -> Outcome:
    """The child did not answer: it hung (killed here) or died by itself."""
    alive = worker.proc is not None and worker.proc.poll() is None
    code = worker.stop()
    if alive:
        return Outcome(fuzz, "slow", waited, f"killed after {kill_after:g} s without an answer")
    return Outcome(fuzz, "crash", waited, f"the worker died (exit code {code})\n{worker.log_tail()}")


def run_inputs(inputs: Iterable[FuzzInput], *, limit: float = 2.0, kill_after: float | None = None,
               on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Check every input in the child; ``slow`` when it took over ``limit`` seconds of CPU time or was
    killed at ``kill_after`` seconds of wall time (default three times the limit and two seconds: room
    for a loaded machine, so that a slow input's real time is usually measured rather than cut off)."""
    kill_after = kill_after if kill_after is not None else 3 * limit + 2
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="seethink-fuzz-") as tmp:
        worker = Worker(Path(tmp) / "worker.log")
        path = Path(tmp) / "fuzz.curr"
        try:
            for fuzz in inputs:
                path.write_bytes(fuzz.data)
                started = time.monotonic()
                reply = worker.ask(path, kill_after)
                if reply is None:
                    outcome = _lost(worker, fuzz, time.monotonic() - started, kill_after)
                else:
                    slow = reply["seconds"] > limit and reply["cls"] != "crash"
                    cls = "slow" if slow else reply["cls"]
                    detail = f"took {reply['seconds']:.2f} s ({reply['cls']})" if slow else reply["detail"]
                    outcome = Outcome(fuzz, cls, reply["seconds"], detail)
                outcomes.append(outcome)
                if on_outcome is not None:
                    on_outcome(outcome)
        finally:
            worker.stop()
    return outcomes

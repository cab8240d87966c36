"""Run ``seethink run`` in separate processes without paying torch's import each time.

A killed run must be a real process that dies by SIGKILL, so each run is its own process. Starting
``python -m seethink_core.cli.main`` costs about 7 s of imports (torch, transformers) on a small CPU
machine, which a dozen kill-and-resume cycles cannot afford. So one server process imports the
CLI and the local backend once and ``fork``s a child per run: the child executes the same
``main(["run", ...])`` as ``python -m seethink_core.cli.main run ...``, with its own environment
(``SEETHINK_FAULT``) and output file, and the server reports the child's exit status the way
``subprocess`` does (``-9`` for SIGKILL). The server itself never runs a torch op, so forking
it is safe (no thread pools exist yet).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SERVER = r'''
import json, os, sys, traceback
import importlib
import seethink_core.cli.main as cli
from seethink_core.hooks.manager import get_plugins

# Everything a run imports, imported once before any fork (pure Python: no torch op runs here).
for name in ("seethink_local.backend", "seethink_core.cli.run", "seethink_core.run.runner", "seethink_core.compiler",
             "seethink_core.run.rewards.combine", "seethink_core.run.metrics", "seethink_synthetic.source",
             "seethink_rewards.accuracy", "seethink_rewards.length", "rich.console", "rich.table", "tensorboard",
             "transformers.models.qwen2_5_vl.modeling_qwen2_5_vl"):
    importlib.import_module(name)
get_plugins()
try:  # transformers builds a table of regular expressions on the first from_pretrained
    from transformers.conversion_mapping import get_checkpoint_conversion_mapping
    get_checkpoint_conversion_mapping("qwen2_5_vl")
except ImportError:
    pass

for line in sys.stdin:
    req = json.loads(line)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            if req.get("group"):  # lead a process group, as a terminal's foreground job does (Ctrl-C tests)
                os.setpgid(0, 0)
            os.environ.update(req["env"])
            for k in req["unset"]:
                os.environ.pop(k, None)
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            code = cli.main(req["argv"]) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    if req.get("group"):
        try:  # set here too, as shells do: the group exists before anyone signals it
            os.setpgid(pid, pid)
        except OSError:
            pass  # the child has set it already, or is gone
        print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print(json.dumps({"rc": rc}), flush=True)
'''


class ForkRunner:
    def __init__(self, env: dict[str, str]):
        self.env = {**os.environ, **env}
        self.env.pop("SEETHINK_FAULT", None)
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=self.env)

    def run(self, curr: Path, run_dir: Path, *, fault: str | None = None, progress: bool = False
            ) -> tuple[int, str]:
        """``seethink run CURR --run-dir RUN_DIR [--no-progress]`` in a fresh process: (returncode, output)."""
        argv = ["run", str(curr), "--run-dir", str(run_dir)] + ([] if progress else ["--no-progress"])
        log = run_dir.parent / f"{run_dir.name}.{fault or 'clean'}.log"
        req = {"argv": argv, "env": {"SEETHINK_FAULT": fault} if fault else {},
               "unset": [] if fault else ["SEETHINK_FAULT"], "log": str(log)}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the fork server died (exit {self.proc.wait()})")
        return int(json.loads(reply)["rc"]), log.read_text()

    def start(self, argv: list[str], log: Path) -> int:
        """``seethink ARGV`` in a forked child that leads its own process group, output to ``log``; its
        pid (signal it with ``os.killpg``). Collect its exit status with ``wait``."""
        req = {"argv": argv, "env": {}, "unset": ["SEETHINK_FAULT"], "log": str(log), "group": True}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return int(json.loads(self.proc.stdout.readline())["pid"])

    def wait(self) -> int:
        """The exit status of the child ``start`` began (``-N`` for death by signal N)."""
        assert self.proc.stdout is not None
        reply = self.proc.stdout.readline()
        if not reply:
            raise RuntimeError(f"the fork server died (exit {self.proc.wait()})")
        return int(json.loads(reply)["rc"])

    def main(self, argv: list[str], log: Path) -> tuple[int, str]:
        """``seethink ARGV`` in a fresh process, to the end: (returncode, output)."""
        self.start(argv, log)
        return self.wait(), log.read_text()

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=30)

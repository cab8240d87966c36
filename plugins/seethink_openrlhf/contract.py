"""OpenRLHF's own command-line contract, built from its source without importing it.

``openrlhf/cli/train_ppo_ray.py`` builds its parser inside ``if __name__ == "__main__":`` and the
module imports Ray and vLLM at the top, so it cannot be imported on a machine without a GPU stack.
This module lifts the ``__main__`` block out of the file's syntax tree and runs it with:

- ``parser.parse_args()`` rewritten to parse a given argv, and a parser whose errors raise
  ``ContractError`` instead of exiting;
- ``hierarchize`` taken from the same release's ``openrlhf/utils/config.py`` (pure Python);
- ``train(args)`` replaced by a function that returns the validated arguments.

So a command passes only if OpenRLHF's parser accepts every flag *and* its post-parse assertions
(group size for group estimators, dynamic filtering needs, batch arithmetic) hold. The source comes
from a wheel (the tests pin 0.11.2) or from the installed package (``seethink doctor``).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import importlib.util
import io
import types
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

TRAIN_PPO_RAY = "openrlhf/cli/train_ppo_ray.py"
CONFIG = "openrlhf/utils/config.py"


class ContractError(Exception):
    """OpenRLHF's parser or its checks rejected a command."""


class _RaisingParser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any):
        # OpenRLHF's parser allows abbreviations; seethink's commands must spell every flag in full.
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # argparse would print and sys.exit(2)
        raise ContractError(message)


class _ParseWithArgv(ast.NodeTransformer):
    """``parser.parse_args()`` → ``parser.parse_args(__argv__)``."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "parse_args" and not node.args and not node.keywords:
            node.args = [ast.Name("__argv__", ast.Load())]
        return node


def _main_block(tree: ast.Module) -> list[ast.stmt]:
    for node in tree.body:
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"):
            return node.body
    raise ContractError("train_ppo_ray.py has no `if __name__ == \"__main__\":` block")


@dataclass
class TrainPPOContract:
    """Parses and validates ``train_ppo_ray`` argv exactly as that OpenRLHF release would."""

    code: types.CodeType
    hierarchize: Any
    origin: str

    @classmethod
    def from_sources(cls, train_ppo_ray: str, config: str, origin: str = "source") -> TrainPPOContract:
        tree = ast.parse(train_ppo_ray)
        body = [s for s in _main_block(tree)
                if not (isinstance(s, ast.ImportFrom) and (s.module or "").startswith("openrlhf"))]
        module = ast.fix_missing_locations(_ParseWithArgv().visit(ast.Module(body=body, type_ignores=[])))
        config_ns: dict[str, Any] = {}
        exec(compile(config, f"{origin}:{CONFIG}", "exec"), config_ns)
        return cls(compile(module, f"{origin}:{TRAIN_PPO_RAY}", "exec"), config_ns["hierarchize"], origin)

    @classmethod
    def from_wheel(cls, wheel: Path) -> TrainPPOContract:
        """From a downloaded wheel (its files may sit under ``<name>.data/purelib/``)."""
        with zipfile.ZipFile(wheel) as z:
            names = z.namelist()

            def read(suffix: str) -> str:
                match = [n for n in names if n == suffix or n.endswith("/" + suffix)]
                if not match:
                    raise ContractError(f"{wheel.name} has no {suffix}")
                return z.read(sorted(match, key=len)[0]).decode("utf-8")

            return cls.from_sources(read(TRAIN_PPO_RAY), read(CONFIG), origin=wheel.name)

    @classmethod
    def from_installed(cls) -> TrainPPOContract:
        """From the installed ``openrlhf`` package's files (nothing of it is imported)."""
        spec = importlib.util.find_spec("openrlhf")
        if spec is None or not spec.submodule_search_locations:
            raise ContractError("openrlhf is not installed")
        root = Path(list(spec.submodule_search_locations)[0])
        return cls.from_sources((root / "cli" / "train_ppo_ray.py").read_text(encoding="utf-8"),
                                (root / "utils" / "config.py").read_text(encoding="utf-8"), origin=str(root))

    def _run(self, argv: list[str]) -> dict[str, Any]:
        shim = types.ModuleType("argparse")
        shim.__dict__.update(argparse.__dict__)
        shim.ArgumentParser = _RaisingParser
        captured: dict[str, Any] = {}
        ns: dict[str, Any] = {
            "__name__": "__main__", "__argv__": list(argv), "argparse": shim, "datetime": datetime,
            "os": __import__("os"), "hierarchize": self.hierarchize,
            "train": lambda args: captured.setdefault("args", args),
        }
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                exec(self.code, ns)
            except AssertionError as e:
                raise ContractError(f"OpenRLHF's own check failed: {e}") from None
        captured["warnings"] = [line for line in out.getvalue().splitlines() if line.strip()]
        return captured

    def validate(self, argv: list[str]) -> types.SimpleNamespace:
        """The hierarchical args OpenRLHF would train with; raises ``ContractError`` on any rejection."""
        result = self._run(argv)
        if "args" not in result:
            raise ContractError("train_ppo_ray's __main__ did not reach train(args)")
        return result["args"]

    def warnings(self, argv: list[str]) -> list[str]:
        """What OpenRLHF prints about the command (its "[Warning]" / "Recommend" lines)."""
        return self._run(argv)["warnings"]

    def flags(self) -> set[str]:
        """Every option string the parser knows."""
        return {s for a in self.parser()._actions for s in a.option_strings}

    def parser(self) -> argparse.ArgumentParser:
        """The parser alone: the block runs until ``parse_args`` is called."""
        return self._build_parser_only({})

    def _build_parser_only(self, ns: dict[str, Any]) -> argparse.ArgumentParser:
        holder: dict[str, Any] = {}

        class _Stop(Exception):
            pass

        class _Capture(_RaisingParser):
            def parse_args(self, *a: Any, **k: Any) -> Any:
                holder["parser"] = self
                raise _Stop

        shim = types.ModuleType("argparse")
        shim.__dict__.update(argparse.__dict__)
        shim.ArgumentParser = _Capture
        ns.update({"__argv__": [], "argparse": shim, "datetime": datetime, "os": __import__("os"),
                   "hierarchize": self.hierarchize, "train": lambda args: None})
        with contextlib.suppress(_Stop):
            exec(self.code, ns)
        return holder["parser"]

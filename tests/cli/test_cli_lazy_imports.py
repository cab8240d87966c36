"""What a start imports: one command builds only its own subcommand, and ``seethink_core`` exposes its
API lazily, every name of ``__all__`` still importable from it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import seethink_core
from seethink_core.cli.main import COMMANDS, build_parser, chosen_command

ROOT = Path(__file__).resolve().parents[2]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_the_command_table_names_what_each_module_registers():
    assert list(subcommands(build_parser())) == list(COMMANDS)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_command_built_alone_is_the_command_of_the_whole_parser(command):
    alone = subcommands(build_parser(only=command))
    assert list(alone) == [command]
    assert alone[command].format_help() == subcommands(build_parser())[command].format_help()


@pytest.mark.parametrize(("argv", "chosen"), [
    (["check", "a.curr"], "check"),
    (["--debug", "plan", "a.curr"], "plan"),
    (["-h", "check"], None),  # the top-level help lists every command
    (["--version"], None),
    (["--deb", "check"], None),  # an abbreviation is argparse's to resolve
    (["nope"], None),  # "invalid choice" lists every command
    ([], None),
])
def test_only_a_plain_command_line_builds_one_command(argv, chosen):
    assert chosen_command(argv) == chosen


def test_every_public_name_is_importable_from_the_package():
    namespace: dict[str, object] = {}
    exec(f"from seethink_core import {', '.join(seethink_core.__all__)}", namespace)  # noqa: S102
    assert all(namespace[name] is getattr(seethink_core, name) for name in seethink_core.__all__)
    assert set(seethink_core.__all__) <= set(dir(seethink_core))
    assert seethink_core.TrainingPlan.__module__ == "seethink_core.types.plan"
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        seethink_core.nothing_here  # noqa: B018


STARTUP = """
import json, sys
from seethink_core.cli.main import main
code = main(["check", {demo!r}])
print(json.dumps({{"code": code, "modules": sorted(sys.modules)}}))
"""


def test_check_imports_neither_other_commands_nor_rich_nor_reporting(tmp_path):
    code = textwrap.dedent(STARTUP.format(demo=str(ROOT / "curricula" / "demo.curr")))
    env = {**os.environ, "SEETHINK_CACHE": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                           cwd=tmp_path) for _ in range(2)]  # the second start finds the plugin cache
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    result = json.loads(runs[1].stdout.strip().splitlines()[-1])
    assert result["code"] == 0
    modules = set(result["modules"])
    commands = {f"seethink_core.cli.{m}" for m in COMMANDS.values()} - {"seethink_core.cli.check"}
    unwanted = commands | {"rich", "seethink_core.report.data", "seethink_core.run.rundir", "importlib.metadata"}
    # importlib.metadata: the plugin discovery cache answers a second start (seethink_core.hooks.manager)
    assert sorted(modules & unwanted) == [], "a cold `seethink check` imported what it does not use"


def test_importing_the_package_imports_none_of_its_parts():
    code = "import sys, seethink_core; print(sorted(m for m in sys.modules if m.startswith('seethink_core.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"

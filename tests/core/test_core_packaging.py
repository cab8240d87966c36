"""Packaging: the hand-written package list is complete, and a third-party plugin installs with pip."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_in_pyproject():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(cfg["packages"])
    dirs = cfg["package-dir"]
    found = set()
    plugins = [p.name for p in (ROOT / "plugins").iterdir() if (p / "__init__.py").exists()]
    for top in ["seethink", "seethink_core", *plugins]:
        base = ROOT / dirs.get(top, top)
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([top, *rel.parts]))
    found.add("seethink_core.grammar")
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"


def test_core_import_pulls_no_heavy_library():
    code = ("import sys, seethink_core; seethink_core.load_plugins(); "
            "heavy = [m for m in ('torch','transformers','datasets','ray','vllm','pyarrow') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.venv
def test_example_plugin_installs_into_a_fresh_venv_and_is_listed(tmp_path):
    """pip-install seethink and the example plugin into a new venv; `seethink plugins` lists the reward and it runs.

    seethink's own dependencies (pip and setuptools too) are borrowed from this environment through a .pth file so
    the test needs no network; seethink and the plugin themselves are installed by pip, entry points and all.
    """
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).exists()]
    (Path(purelib) / "borrowed_deps.pth").write_text("\n".join(deps) + "\n")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for target in (ROOT, ROOT / "examples" / "seethink-example-reward"):
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(target)],
                       check=True, timeout=300, env=env, cwd=tmp_path)
    out = subprocess.run([str(venv / "bin" / "seethink"), "plugins", "--json"], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert '"plugin": "example_reward"' in out.stdout and '"name": "keyword"' in out.stdout
    call = ("from seethink_core import load_plugins\n"
            "spec = load_plugins().registry.get('reward', 'keyword')\n"
            "from seethink_core.types.options import validate\n"
            "opts, _ = validate(spec.options, {'words': ['circle']})\n"
            "print(spec.load()(opts)(['q', 'q'], ['a red circle', 'a square']))\n")
    out = subprocess.run([str(py), "-c", call], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[1.0, 0.0]"

"""Fixtures of the verl backend tests: the pinned release's wheel and contract, phases, contexts, rewards.

The contract fixture downloads ``verl==0.9.1`` with ``pip download --no-deps`` once and caches the wheel
(``$SEETHINK_CACHE`` or ``~/.cache/seethink``, as the OpenRLHF tests do); it never skips: without the
wheel the contract tests fail, because an unchecked configuration is what they exist to prevent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from seethink_core.hooks.backend import Checkpoint, PhaseContext, RewardBatch
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import RewardSpec
from seethink_core.types.methods import METHODS
from seethink_core.types.plan import BackendRef, Budget, DataRef, Phase, RewardRef, TrainingPlan
from seethink_core.types.sample import Sample

HERE = Path(__file__).parent


def _by_path(name: str, path: Path) -> Any:
    """A helper module by its file (``tests/`` itself must not go on ``sys.path``: ``tests/verl`` would
    shadow the ``verl`` package)."""
    import importlib.util

    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


stand_ins = _by_path("verl_stand_ins", HERE / "stand_ins.py")
ListStream = _by_path("streams", HERE.parent / "streams.py").ListStream

VERL_VERSION = "0.9.1"
MODEL = "Qwen/Qwen2.5-VL-7B-Instruct"
PROMPT = "{question} Think inside <think> </think>, then put the final answer in \\boxed{}."


def _cache_dir() -> Path:
    root = Path(os.environ.get("SEETHINK_CACHE", Path.home() / ".cache" / "seethink"))
    return root / "verl-wheels"


def download_wheel() -> Path:
    """The pinned wheel, downloaded once (pure Python: one py3-none-any file for every machine)."""
    dest = _cache_dir()
    found = sorted(dest.glob(f"verl-{VERL_VERSION}-*.whl"))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", f"verl=={VERL_VERSION}", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    found = sorted(dest.glob(f"verl-{VERL_VERSION}-*.whl"))
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"could not download verl=={VERL_VERSION}: {proc.stderr[-2000:]}")
    return found[0]


@pytest.fixture(scope="session")
def verl_wheel() -> Path:
    return download_wheel()


@pytest.fixture(scope="session")
def contract(verl_wheel: Path):
    """verl 0.9.1's own composition and checks, imported from the wheel (stand-ins for tensordict/orjson)."""
    from seethink_verl.contract import VerlContract

    c = VerlContract.from_wheel(verl_wheel)
    with stand_ins.installed():
        c.check(make_overrides(make_phase()))  # imports verl's checks while the stand-ins are there
    return c


def make_phase(method: str = "grpo", *, index: int = 0, name: str = "perception", init_from: str = "base",
               freeze: list[str] | None = None, capabilities: list[str] | None = None, **algo: Any) -> Phase:
    defaults = {"batch_size": 16, "rollout_batch_size": 32, "group": 4} if method != "sft" else {}
    options = METHODS[method](**{**defaults, **algo})
    return Phase(index=index, name=name, stages=[name.split(".")[0]], capabilities=capabilities or ["perception"],
                 model=MODEL, init_from=init_from, method=method, algorithm=options,
                 data=[DataRef("synthetic", {"capability": "perception"})],
                 rewards=[RewardRef("fake_boxed", 0.9), RewardRef("fake_think", 0.1)],
                 budget=Budget(steps=4), prompt=PROMPT, freeze=freeze or [], seed=7)


def make_plan(phases: list[Phase], **backend_options: Any) -> TrainingPlan:
    return TrainingPlan(curriculum="test", model=MODEL, backend=BackendRef("verl", dict(backend_options)),
                        phases=phases)


def make_overrides(phase: Phase, total_steps: int = 4, resume: Path | None = None, **options: Any) -> list[str]:
    from seethink_verl.options import VerlOptions
    from seethink_verl.overrides import JobSettings, PhaseFiles, build_overrides

    root = Path("/run")
    files = PhaseFiles(root / "train.parquet", root / "val.parquet", root / "reward_fn.py", root / "ckpt",
                       root / "metrics.jsonl", root / "tb")
    opts = VerlOptions(**{"gpus_per_node": 4, **options})
    job = JobSettings(init_path=MODEL, total_steps=total_steps, experiment="test", resume_from=resume)
    return build_overrides(phase, opts, files, job)


def image_samples(n: int = 6) -> list[Sample]:
    from PIL import Image

    return [Sample(id=f"s{i}", prompt=f"How many circles are there? ({i})",
                   images=[Image.new("RGB", (28, 28), (40 * i % 255, 10, 200))], answer=str(i),
                   capability="perception", difficulty=i / n, facts=f"{i} circles", source="synthetic",
                   meta={"choices": ["1", "2", "3", "4"], "level": "easy"}) for i in range(n)]


class Recorder:
    def __init__(self) -> None:
        self.rows: list[tuple[int, dict[str, float]]] = []

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        self.rows.append((step, dict(metrics)))


def make_ctx(tmp_path: Path, plan: TrainingPlan, phase: Phase, stream: Any, total_steps: int = 4) -> PhaseContext:
    phase_dir = tmp_path / "phases" / f"{phase.index:02d}-{phase.name}"
    phase_dir.mkdir(parents=True, exist_ok=True)

    def no_reward(prompts, completions, samples) -> RewardBatch:  # the job scores through the reward file
        raise AssertionError("the verl backend must not score in-process")

    return PhaseContext(plan=plan, run_dir=tmp_path, phase_dir=phase_dir,
                        checkpoint_dir=phase_dir / "checkpoint.partial", data=stream, reward=no_reward,
                        total_steps=total_steps, reference=None, log=Recorder(),
                        should_stop=lambda s, m: None, dump_rollouts=lambda s, rows: None, progress=Recorder(),
                        resume_dir=phase_dir / "resume")


# ---- a fake reward plugin: \boxed{} equals the answer; the response starts with <think> ----

def _boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    end = text.find("}", start)
    return text[start + 7:end] if start >= 0 and end > 0 else None


def fake_boxed_factory(options: Any) -> Callable[..., list]:
    def fake_boxed(prompts, completions, answer, **_: Any) -> list:
        return [None if a is None else float(_boxed(c) == a) for c, a in zip(completions, answer)]
    return fake_boxed


def fake_think_factory(options: Any) -> Callable[..., list]:
    def fake_think(prompts, completions, **_: Any) -> list:
        if any("RAISE" in c for c in completions):
            raise RuntimeError("a reward that raises")
        return [float(c.startswith("<think>") and "</think>" in c) for c in completions]
    return fake_think


class FakeRewardPlugin:
    @staticmethod
    @hookimpl
    def register_rewards(register: Callable[..., None]) -> None:
        register(RewardSpec(name="fake_boxed", factory=fake_boxed_factory, needs=frozenset({"answer"})))
        register(RewardSpec(name="fake_think", factory=fake_think_factory))


@pytest.fixture
def fake_rewards(with_plugins):
    return with_plugins(("verl_test_rewards", FakeRewardPlugin()))


@pytest.fixture(scope="session")
def vt() -> SimpleNamespace:
    """The helpers above (test modules cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(make_phase=make_phase, make_plan=make_plan, make_ctx=make_ctx, make_overrides=make_overrides,
                           replace=replace, ListStream=ListStream, image_samples=image_samples, HERE=HERE,
                           BASE=Checkpoint(MODEL), Recorder=Recorder, stand_ins=stand_ins)


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """A stand-in ``verl.trainer.main_ppo`` on PYTHONPATH (standin_main_ppo.py)."""
    import shutil

    root = tmp_path / "fake-verl"
    (root / "verl" / "trainer").mkdir(parents=True)
    (root / "verl" / "__init__.py").write_text("")
    (root / "verl" / "trainer" / "__init__.py").write_text("")
    shutil.copy(HERE / "standin_main_ppo.py", root / "verl" / "trainer" / "main_ppo.py")
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.delenv("STANDIN_FAIL", raising=False)
    return root

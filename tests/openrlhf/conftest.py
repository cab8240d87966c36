"""Fixtures of the OpenRLHF backend tests: the pinned release's parser, phases, contexts and streams.

The contract fixture downloads ``openrlhf==0.11.2`` with ``pip download --no-deps`` once and caches
the wheel (``$SEETHINK_CACHE`` or ``~/.cache/seethink``); it never skips: without the wheel the
contract tests fail, because an untested command line is exactly what they exist to prevent.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field, replace
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

sys.path.insert(0, str(Path(__file__).parents[1]))
from streams import ListStream  # noqa: E402  (the shared double)

OPENRLHF_VERSION = "0.11.2"
HERE = Path(__file__).parent


def _cache_dir() -> Path:
    root = Path(os.environ.get("SEETHINK_CACHE", Path.home() / ".cache" / "seethink"))
    return root / "openrlhf-wheels"


def download_wheel() -> Path:
    """The pinned wheel, downloaded once. The platform and Python tags are fixed so every CI machine
    gets the same file (the package is pure Python inside a platform-tagged wheel)."""
    dest = _cache_dir()
    found = sorted(dest.glob(f"openrlhf-{OPENRLHF_VERSION}-*.whl"))
    if found:
        return found[0]
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", f"openrlhf=={OPENRLHF_VERSION}", "--no-deps",
           "--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux1_x86_64",
           "--disable-pip-version-check", "-d", str(dest)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    found = sorted(dest.glob(f"openrlhf-{OPENRLHF_VERSION}-*.whl"))
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"could not download openrlhf=={OPENRLHF_VERSION}: {proc.stderr[-2000:]}")
    return found[0]


@pytest.fixture(scope="session")
def openrlhf_wheel() -> Path:
    return download_wheel()


@pytest.fixture(scope="session")
def contract(openrlhf_wheel: Path):
    from seethink_openrlhf.contract import TrainPPOContract

    return TrainPPOContract.from_wheel(openrlhf_wheel)


@pytest.fixture(scope="session")
def partial_openrlhf(openrlhf_wheel: Path, tmp_path_factory) -> Path:
    """OpenRLHF 0.11.2's prompt-data code from the wheel as a partial package (see ``openrlhf_src.py``)."""
    return _openrlhf_src().build_partial_openrlhf(openrlhf_wheel, tmp_path_factory.mktemp("partial-openrlhf"))


@pytest.fixture(scope="module")
def openrlhf_code(partial_openrlhf: Path):
    """The partial package's modules, imported in this process for one test module, then taken out
    again (other tests expect no ``openrlhf`` here) with the ordered launcher's import hook."""
    from seethink_openrlhf import ordered_train

    sys.path.insert(0, str(partial_openrlhf))
    import openrlhf.trainer.ppo_trainer as ppo_trainer
    import openrlhf.utils as utils
    import openrlhf.utils.deepspeed.deepspeed as deepspeed

    yield SimpleNamespace(ppo_trainer=ppo_trainer, utils=utils, deepspeed=deepspeed, root=partial_openrlhf)
    ordered_train.uninstall()
    _openrlhf_src().forget_partial_openrlhf(partial_openrlhf)


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory) -> Path:
    """The local plugin's tiny Qwen2.5-VL folder (config, processor, chat template), built offline."""
    from seethink_local.tiny_model import build_tiny_vlm

    return build_tiny_vlm(None, tmp_path_factory.mktemp("tiny") / "tiny-vlm")


def _openrlhf_src() -> Any:
    """tests/openrlhf/openrlhf_src.py (test modules and conftest import helpers by path here)."""
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    import openrlhf_src

    return openrlhf_src


# The reference recipe's instruction after the question, as a phase's prompt template would carry it.
PROMPT = ("{question} You FIRST think about the reasoning process as an internal monologue and then provide the "
          "final answer. The reasoning process MUST BE enclosed within <think> </think> tags. The final answer "
          "MUST BE put in \\boxed{}.")


def make_phase(method: str = "grpo", *, index: int = 0, name: str = "perception", init_from: str = "base",
               freeze: list[str] | None = None, capabilities: list[str] | None = None, **algo: Any) -> Phase:
    """A fully resolved phase, as the compiler would produce (built directly: no DSL needed)."""
    options = METHODS[method](**algo)
    return Phase(index=index, name=name, stages=[name.split(".")[0]], capabilities=capabilities or ["perception"],
                 model="Qwen/Qwen2.5-VL-7B-Instruct", init_from=init_from, method=method, algorithm=options,
                 data=[DataRef("synthetic", {"capability": "perception"})],
                 rewards=[RewardRef("fake_boxed", 0.9), RewardRef("fake_think", 0.1)],
                 budget=Budget(epochs=1), prompt=PROMPT, freeze=freeze or [], seed=7)


def make_plan(phases: list[Phase], **backend_options: Any) -> TrainingPlan:
    return TrainingPlan(curriculum="test", model="Qwen/Qwen2.5-VL-7B-Instruct",
                        backend=BackendRef("openrlhf", dict(backend_options)), phases=phases)


def paper_like_phases() -> list[Phase]:
    """The reference recipe's three stages (perception → textual → visual reasoning)."""
    base = dict(group=5, lr=1e-6, kl=0.01, batch_size=128, rollout_batch_size=512)
    return [
        make_phase("grpo", index=0, name="perception", **base),
        make_phase("grpo", index=1, name="textual_reasoning", init_from="perception", freeze=["vision"],
                   capabilities=["textual_reasoning"], **base),
        make_phase("grpo", index=2, name="visual_reasoning", init_from="textual_reasoning",
                   capabilities=["visual_reasoning"], **base),
    ]


def sample_curricula() -> dict[str, TrainingPlan]:
    """Every test curriculum the contract test turns into commands: each method, each cluster shape."""
    plans = {
        "paper": make_plan(paper_like_phases(), vllm_engines=8, gpus_per_node=8, zero_stage=3),
        "merged": make_plan([make_phase("grpo", name="all",
                                        capabilities=["perception", "textual_reasoning", "visual_reasoning"])],
                            colocate="none", vllm_engines=4, gpus_per_node=4, vllm_gpu_memory_utilization=0.9),
        "methods": make_plan([
            make_phase("dr_grpo", index=0, name="dr_grpo"),
            make_phase("dapo", index=1, name="dapo", init_from="dr_grpo"),
            make_phase("rloo", index=2, name="rloo", init_from="dapo"),
            make_phase("reinforce_pp", index=3, name="reinforce_pp", init_from="rloo", std_normalize=False),
            make_phase("reinforce_pp_baseline", index=4, name="reinforce_pp_baseline", init_from="reinforce_pp"),
            make_phase("grpo", index=5, name="grpo_nostd", init_from="reinforce_pp_baseline",
                       std_normalize=False, kl=0.0, schedule="cosine", warmup_steps=5, update_epochs=2),
        ], colocate="actor_ref", vllm_engines=2, vllm_tensor_parallel=2, gpus_per_node=4, num_nodes=2,
            wandb_project="seethink", wandb_org="lab", adam_offload=True, gradient_checkpointing=False,
            extra_args=["--ds.use_liger_kernel"]),
        "levels": make_plan([
            make_phase("grpo", index=0, name="perception.easy"),
            make_phase("grpo", index=1, name="perception.hard", init_from="perception.easy",
                       kl_mode="reward", kl_estimator="k1"),
        ], vllm_engines=8, save_steps=-1),
    }
    return plans


def image_samples(n: int = 6) -> list[Sample]:
    from PIL import Image

    out = []
    for i in range(n):
        img = Image.new("RGB", (28, 28), (40 * i % 255, 10, 200))
        out.append(Sample(id=f"s{i}", prompt=f"How many circles are there? ({i})", images=[img], answer=str(i),
                          capability="perception", difficulty=i / n, facts=f"{i} circles", source="synthetic",
                          meta={"choices": ["1", "2", "3", "4"], "level": "easy"}))
    return out


@dataclass
class Recorder:
    rows: list[tuple[int, dict[str, float]]] = field(default_factory=list)

    def __call__(self, step: int, metrics: dict[str, float]) -> None:
        self.rows.append((step, dict(metrics)))


def make_ctx(tmp_path: Path, plan: TrainingPlan, phase: Phase, stream: Any, total_steps: int = 2) -> PhaseContext:
    phase_dir = tmp_path / "phases" / f"{phase.index:02d}-{phase.name}"
    phase_dir.mkdir(parents=True, exist_ok=True)

    def no_reward(prompts, completions, samples) -> RewardBatch:  # the job scores through the reward file
        raise AssertionError("the openrlhf backend must not score in-process")

    return PhaseContext(plan=plan, run_dir=tmp_path, phase_dir=phase_dir,
                        checkpoint_dir=phase_dir / "checkpoint.partial", data=stream, reward=no_reward,
                        total_steps=total_steps, reference=None, log=Recorder(), should_stop=lambda s, m: None,
                        dump_rollouts=lambda s, rows: None, progress=Recorder(), resume_dir=phase_dir / "resume")


BASE = Checkpoint("Qwen/Qwen2.5-VL-7B-Instruct")


# ---- a fake reward plugin: \boxed{} equals the answer; the response starts with <think> ----

def _boxed(text: str) -> str | None:
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    end = text.find("}", start)
    return text[start + 7:end] if end > 0 else None


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
    return with_plugins(("openrlhf_test_rewards", FakeRewardPlugin()))


@pytest.fixture
def orl() -> SimpleNamespace:
    """The helpers above (test modules cannot import conftest under --import-mode=importlib)."""
    return SimpleNamespace(make_phase=make_phase, make_plan=make_plan, make_ctx=make_ctx, replace=replace,
                           ListStream=ListStream, image_samples=image_samples, BASE=BASE, HERE=HERE,
                           curricula=sample_curricula, paper_like_phases=paper_like_phases, Recorder=Recorder)


@pytest.fixture
def standin(tmp_path, monkeypatch):
    """A stand-in ``openrlhf.cli.train_ppo_ray`` on PYTHONPATH (standin_train_ppo_ray.py): the job the launcher
    runs calls the reward file and writes TensorBoard events as OpenRLHF's would."""
    import shutil

    root = tmp_path / "fake-openrlhf"
    (root / "openrlhf" / "cli").mkdir(parents=True)
    (root / "openrlhf" / "__init__.py").write_text("")
    (root / "openrlhf" / "cli" / "__init__.py").write_text("")
    shutil.copy(HERE / "standin_train_ppo_ray.py", root / "openrlhf" / "cli" / "train_ppo_ray.py")
    monkeypatch.setenv("PYTHONPATH", str(root))
    monkeypatch.delenv("STANDIN_FAIL", raising=False)
    return root

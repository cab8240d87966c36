"""Fixtures for the local backend: a tiny model built once per session, a toy counting world, a bare PhaseContext."""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from seethink_core.hooks.backend import Checkpoint, PhaseContext, RewardBatch  # noqa: E402
from seethink_core.types.methods import SFTOptions  # noqa: E402
from seethink_core.types.plan import BackendRef, Budget, Phase, TrainingPlan  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1]))
from streams import ListStream  # noqa: E402  (the shared double)


def counting_samples(n: int, seed: int = 0, max_count: int = 3) -> list[Sample]:
    """Images with 1..max_count red squares on white; the answer is the count."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    out = []
    for i in range(n):
        k = rng.randint(1, max_count)
        img = Image.new("RGB", (112, 112), "white")
        draw = ImageDraw.Draw(img)
        cells = rng.sample(range(9), k)
        for c in cells:
            x, y = (c % 3) * 37 + 6, (c // 3) * 37 + 6
            draw.rectangle([x, y, x + 24, y + 24], fill="red")
        out.append(Sample(id=f"c{i}", prompt="How many squares?", images=[img], answer=str(k),
                          facts=f"{k} red squares", capability="perception"))
    return out


def exact_reward(prompts, completions, samples, **_: Any) -> RewardBatch:
    """1 when the completion starts with the answer (lenient: sampled tails do not matter)."""
    acc = [1.0 if c.strip().startswith(s.answer or "\0") else 0.0 for c, s in zip(completions, samples)]
    return RewardBatch(total=acc, components={"accuracy": list(acc)})


@dataclass
class Recorder:
    logs: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    dumps: list[tuple[int, list[dict[str, Any]]]] = field(default_factory=list)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.logs.append((step, dict(metrics)))

    def dump(self, step: int, rows: list[dict[str, Any]]) -> None:
        self.dumps.append((step, rows))

    def series(self, name: str) -> list[float]:
        return [m[name] for _, m in self.logs if name in m]


def make_phase(method: str, algorithm: Any, *, name: str = "p", freeze: list[str] | None = None,
               steps: int = 10, seed: int = 0, prompt: str | None = None) -> Phase:
    return Phase(index=0, name=name, stages=[name], capabilities=["perception"], model="tiny-vlm",
                 init_from="base", method=method, algorithm=algorithm, data=[], rewards=[],
                 budget=Budget(steps=steps), prompt=prompt, freeze=freeze or [], seed=seed)


def make_ctx(tmp: Path, phase: Phase, samples: list[Sample], *, reward: Callable = exact_reward,
             reference: Checkpoint | None = None, recorder: Recorder | None = None,
             should_stop: Callable[[int, dict[str, float]], str | None] = lambda s, m: None) -> PhaseContext:
    rec = recorder or Recorder()
    plan = TrainingPlan(curriculum="t", model="tiny-vlm", backend=BackendRef("local"), phases=[phase])
    return PhaseContext(plan=plan, run_dir=tmp, phase_dir=tmp / phase.name, checkpoint_dir=tmp / phase.name / "ckpt",
                        data=ListStream(samples), reward=reward, total_steps=phase.budget.steps or 1,
                        reference=reference, log=rec.log, should_stop=should_stop, dump_rollouts=rec.dump)


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    from seethink_local.tiny_model import build_tiny_vlm

    return build_tiny_vlm(None, tmp_path_factory.mktemp("tiny") / "tiny-vlm")


@dataclass
class Warm:
    path: Path
    recorder: Recorder


@pytest.fixture(scope="session")
def warm(tiny_dir, tmp_path_factory) -> Warm:
    """The tiny model after a short SFT warm-up on counting (shared by the RL tests)."""
    from seethink_local.backend import LocalBackend
    from seethink_local.options import LocalOptions

    tmp = tmp_path_factory.mktemp("warm")
    phase = make_phase("sft", SFTOptions(lr=5e-4, batch_size=16), steps=120, name="warm")
    rec = Recorder()
    ctx = make_ctx(tmp, phase, counting_samples(256, seed=1), recorder=rec)
    LocalBackend(LocalOptions(device="cpu", memory_estimate=False)).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    return Warm(ctx.checkpoint_dir, rec)



@pytest.fixture
def kit():
    """The helpers above (test modules cannot import conftest under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(counting_samples=counting_samples, make_phase=make_phase, make_ctx=make_ctx,
                                 Recorder=Recorder, exact_reward=exact_reward, ListStream=ListStream)

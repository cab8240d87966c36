"""Resume inside a phase, in process: LoRA adapters, dynamic sampling and the `until` smoothing window
continue exactly (the crash tests in test_resume_faults.py cover full fine-tuning end to end)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from seethink_local.options import LocalOptions  # noqa: E402
from seethink_local.resume import WEIGHTS  # noqa: E402

from seethink_core.hooks.backend import RewardBatch  # noqa: E402
from seethink_core.run.transitions import TransitionMonitor  # noqa: E402
from seethink_core.types.methods import DAPOOptions, SFTOptions  # noqa: E402
from seethink_core.types.plan import Condition, Transition  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from doubles import run_phase  # noqa: E402


def length_reward(prompts: Any, completions: list[str], samples: list[Sample], **_: Any) -> RewardBatch:
    """Graded by completion length, and constant for every third prompt (dynamic sampling drops those)."""
    total = [0.25 if int(s.id[1:]) % 3 == 0 else min(1.0, len(c) / 10) for c, s in zip(completions, samples)]
    return RewardBatch(total=total, components={"length": list(total)})


def options(**kw: Any) -> LocalOptions:
    return LocalOptions(device="cpu", threads=1, memory_estimate=False, rollout_dump_every=0, **kw)


def test_lora_dapo_phase_resumes_exactly(tiny, tmp_path):
    algo = DAPOOptions(lr=1e-2, batch_size=2, rollout_batch_size=2, group=3, max_response_tokens=4,
                       overlong_buffer=0, temperature=1.5)
    opts = options(lora_rank=4, checkpoint_every=2, keep_checkpoints=3)
    full = run_phase(tiny, tmp_path / "full", "dapo", algo, length_reward, 5, options=opts)
    resume = tmp_path / "full/p/resume"
    assert sorted(p.name for p in resume.iterdir()) == ["step-00000002", "step-00000004"]
    from safetensors.torch import load_file

    saved = load_file(str(resume / "step-00000002" / WEIGHTS))
    assert saved and all("lora_" in k for k in saved)  # only the adapters are trained, so only they are saved
    again = run_phase(tiny, tmp_path / "again", "dapo", algo, length_reward, 5, options=opts,
                      resume_from=resume / "step-00000002")
    want = full.logs.without_wall_clock()
    assert again.logs.without_wall_clock() == want[2:]
    assert any(m["dynamic_sampling.kept_fraction"] < 1 for _, m in want)  # the refill path ran


def test_until_smoothing_window_survives_a_resume(tiny, tmp_path):
    """`until samples_seen >= 6` over a window of 3 steps fires at step 4; a resumed phase must not wait for
    a fresh window (it would stop at step 5)."""
    transition = Transition([Condition("samples_seen", ">=", 6.0)], window=3, min_steps=0)
    algo = SFTOptions(lr=1e-3, batch_size=2)
    opts = options(checkpoint_every=2)

    def go(name: str, resume_from: Path | None = None):
        monitor = TransitionMonitor(transition)
        return run_phase(tiny, tmp_path / name, "sft", algo, None, 8, options=opts, transition=transition,
                         should_stop=monitor.update, resume_from=resume_from)

    full = go("full")
    assert full.steps == 4 and full.stopped_by.startswith("until samples_seen >= 6")
    again = go("again", tmp_path / "full/p/resume/step-00000002")
    assert (again.steps, again.stopped_by) == (full.steps, full.stopped_by)
    assert again.logs.without_wall_clock() == full.logs.without_wall_clock()[2:]

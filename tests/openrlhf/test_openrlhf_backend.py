"""The backend end to end against a stand-in ``openrlhf.cli.train_ppo_ray`` (no GPU, Ray or vLLM).

The stand-in (``standin_train_ppo_ray.py``) is installed as that module on ``PYTHONPATH``; it calls
the generated reward file (with seethink's real ``accuracy`` and ``format`` rewards, isolated in
their worker process) and writes TensorBoard events like OpenRLHF's ``TensorboardLogger``.
"""

from __future__ import annotations

import json
import sys

import pytest
from seethink_openrlhf.backend import OpenRLHFBackend
from seethink_openrlhf.options import OpenRLHFOptions

from seethink_core.errors import BackendError
from seethink_core.hooks.backend import Checkpoint
from seethink_core.types.plan import RewardRef


def real_reward_phase(orl, **kw):
    phase = orl.make_phase("grpo", batch_size=2, rollout_batch_size=2, **kw)
    return orl.replace(phase, rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1)])


def backend(**kw) -> OpenRLHFBackend:
    options = OpenRLHFOptions(ray_address="127.0.0.1:6379", poll_seconds=0.2, python=sys.executable, gpus_per_node=1,
                              **kw)
    return OpenRLHFBackend(options)


def test_dry_run_writes_everything_for_every_phase(orl, tmp_path):
    phases = orl.paper_like_phases()
    plan = orl.make_plan(phases, dry_run=True, gpus_per_node=1)
    b = backend(dry_run=True)
    b.prepare(plan, tmp_path)
    init = orl.BASE
    for phase in phases:
        ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(orl.image_samples(5)), total_steps=1)
        result = b.run_phase(orl.replace(phase, algorithm=orl.replace(phase.algorithm, batch_size=4)), init, ctx)
        work = ctx.phase_dir / "openrlhf"
        recorded = json.loads((work / "command.json").read_text())
        assert recorded["init"] == init.path and recorded["prompts"] == 4 and recorded["resume"] is False
        assert "--actor.model_name_or_path" in recorded["argv"]
        assert recorded["argv"][recorded["argv"].index("--actor.model_name_or_path") + 1] == init.path
        assert (work / "reward_func.py").is_file() and (work / "prompts.jsonl").is_file()
        assert (work / "command.sh").read_text().count("-m seethink_openrlhf.ordered_train") == 1
        assert result.stopped_by == "dry_run" and result.steps == 0
        # The folder a real run writes, as a real run returns it; the runner names the final one (below).
        assert result.checkpoint.path == str(ctx.checkpoint_dir)
        assert not (ctx.phase_dir / "checkpoint.partial").exists()
        init = result.checkpoint
    b.close()


def test_prepare_refuses_a_plan_it_cannot_run(orl, tmp_path):
    plan = orl.make_plan([orl.make_phase("sft", name="caption")], gpus_per_node=1)
    with pytest.raises(BackendError, match="phase 'caption': method 'sft'"):
        backend().prepare(plan, tmp_path)


def test_job_runs_streams_and_logs_metrics(orl, tmp_path, standin, capsys):
    phase = real_reward_phase(orl)
    plan = orl.make_plan([phase], gpus_per_node=1)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(orl.image_samples(4)), total_steps=3)
    b = backend()
    b.prepare(plan, tmp_path)
    result = b.run_phase(phase, orl.BASE, ctx)
    assert result.checkpoint == Checkpoint(str(ctx.checkpoint_dir), "perception")
    assert (ctx.checkpoint_dir / "config.json").is_file()
    assert result.steps == 3 and result.samples_seen == 6
    steps = [s for s, _ in ctx.log.rows]
    assert steps == sorted(steps) and set(steps) == {1, 2, 3}
    merged = {k: v for _, m in ctx.log.rows for k, v in m.items()}
    assert {"loss", "kl", "lr", "reward.total", "length.mean", "time.generation", "reward.accuracy",
            "reward.format", "reward.malformed"} <= set(merged)
    assert "openrlhf.reward" not in merged and "openrlhf.generated_samples" not in merged
    assert merged["reward.accuracy"] == 1.0 and merged["reward.malformed"] == 0.0
    assert 0.9 <= merged["reward.total"] <= 1.0
    assert ctx.progress.rows  # progress reported while it ran
    assert "Global step 3" in (ctx.phase_dir / "openrlhf" / "job.log").read_text()
    assert "Global step 1" in capsys.readouterr().out  # streamed


def test_failed_job_is_one_error_naming_the_phase_and_rerun_resumes(orl, tmp_path, standin, monkeypatch):
    phase = real_reward_phase(orl)
    plan = orl.make_plan([phase], gpus_per_node=1)
    b = backend()
    monkeypatch.setenv("STANDIN_FAIL", "1")
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(orl.image_samples(4)), total_steps=3)
    with pytest.raises(BackendError) as err:
        b.run_phase(phase, orl.BASE, ctx)
    message = str(err.value)
    assert message.startswith("phase 'perception': the OpenRLHF job failed (exit status 3)")
    assert "VLM prompt length exceeds" in message and "job.log" in message
    assert (ctx.resume_dir / "_actor").is_dir()
    monkeypatch.delenv("STANDIN_FAIL")
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(orl.image_samples(4)), total_steps=3)
    b.run_phase(phase, orl.BASE, ctx)
    argv = json.loads((ctx.checkpoint_dir / "argv.json").read_text())
    assert "--ckpt.load_enable" in argv and argv[argv.index("--ckpt.path") + 1] == str(ctx.resume_dir)


def test_a_job_that_writes_no_model_is_an_error(orl, tmp_path, monkeypatch):
    fake = tmp_path / "py"
    fake.write_text("#!/bin/sh\necho quiet job\nexit 0\n")
    fake.chmod(0o755)
    phase = real_reward_phase(orl)
    plan = orl.make_plan([phase], gpus_per_node=1)
    b = OpenRLHFBackend(OpenRLHFOptions(ray_address="x:1", python=str(fake), poll_seconds=0.1, gpus_per_node=1))
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(orl.image_samples(2)), total_steps=1)
    with pytest.raises(BackendError, match="phase 'perception': the OpenRLHF job ended but wrote no model"):
        b.run_phase(phase, orl.BASE, ctx)


def test_in_phase_evaluation_becomes_openrlhfs_own_validation(orl, tmp_path, contract):
    """`eval SET every N steps`: the eval set is exported beside the prompts (with the eval's prompt and system
    prompt) and the job validates on it every N steps in rollout batches, with the eval's sampling."""
    from pathlib import Path

    from seethink_core.types.plan import DataRef, EvalSpec
    from seethink_core.types.sample import Sample

    text = [Sample(id=f"t{i}", prompt=f"What is {i} + 1?", answer=str(i + 1), capability="textual_reasoning")
            for i in range(8)]
    spec = EvalSpec(sets=[DataRef("synthetic", {"capability": "visual_reasoning", "count": 6, "level": 0,
                                                "families": ["empty_cells"], "seed": 3})],
                    every_steps=8, greedy=False, temperature=0.6, top_p=0.95, n=1, prompt="{question|trim} Think.",
                    system="Be brief.")
    phase = orl.replace(orl.make_phase("grpo", batch_size=4, rollout_batch_size=16, capabilities=["textual_reasoning"]),
                        eval=spec)
    plan = orl.make_plan([phase], dry_run=True, gpus_per_node=1)
    b = backend(dry_run=True)
    b.prepare(plan, tmp_path)
    ctx = orl.make_ctx(tmp_path, plan, phase, orl.ListStream(text), total_steps=2)
    b.run_phase(phase, orl.BASE, ctx)
    work = ctx.phase_dir / "openrlhf"
    recorded = json.loads((work / "command.json").read_text())
    args = contract.validate(recorded["argv"][3:])
    assert args.eval.dataset == str(work / "eval.jsonl") and args.eval.split == "train"
    assert args.eval.steps == 2  # 8 steps at 4 steps (16 ÷ 4 prompts) per rollout batch
    assert args.eval.temperature == 0.6 and args.eval.n_samples_per_prompt == 1
    assert args.data.max_images_per_prompt >= 1  # text-only training prompts, but the eval set has images
    rows = [json.loads(line) for line in (work / "eval.jsonl").read_text().splitlines()]
    assert len(rows) == 6 == recorded["eval"]["prompts"]
    assert rows[0]["prompt"][0] == {"role": "system", "content": "Be brief."}
    assert rows[0]["prompt"][1]["content"][-1]["text"].endswith(" Think.")
    assert all(Path(p).is_file() for r in rows for p in r["images"])
    b.close()

"""The verl backend: dry runs, a job end to end with a stand-in ``main_ppo``, resume, failures, hand-off,
compile-time rules."""

from __future__ import annotations

import json

import pytest
from seethink_verl.backend import VerlBackend
from seethink_verl.checks import check_plan
from seethink_verl.options import VerlOptions

from seethink_core.errors import BackendError
from seethink_core.types.plan import RewardRef

REAL = [RewardRef("accuracy", 0.9), RewardRef("format", 0.1)]  # the job runs in its own process


def _phase(vt, **kw):
    return vt.replace(vt.make_phase(batch_size=2, rollout_batch_size=4, group=2, **kw), rewards=REAL)


def test_dry_run_writes_everything_for_the_phase(vt, tmp_path):
    phase = _phase(vt)
    plan = vt.make_plan([phase], dry_run=True, gpus_per_node=2)
    ctx = vt.make_ctx(tmp_path, plan, phase, vt.ListStream(vt.image_samples(6)), total_steps=3)
    result = VerlBackend(VerlOptions(dry_run=True, gpus_per_node=2)).run_phase(phase, vt.BASE, ctx)
    work = ctx.phase_dir / "verl"
    assert result.stopped_by == "dry_run" and result.steps == 0
    for name in ("train.parquet", "val.parquet", "reward_fn.py", "command.json", "command.sh"):
        assert (work / name).is_file(), name
    record = json.loads((work / "command.json").read_text())
    assert record["prompts"] == 8  # 3 steps of 2 prompts → 2 whole rollout batches of 4
    assert record["argv"][1:3] == ["-m", "verl.trainer.main_ppo"] and record["resume_from"] is None
    assert "trainer.total_training_steps=2" in record["argv"]
    assert "python -m verl.trainer.main_ppo" in (work / "command.sh").read_text().replace(record["argv"][0], "python")
    assert [n for n, _ in ctx.data.calls] == [2, 2, 2, 2]  # pulled step by step, the runner's order


def test_a_job_end_to_end_logs_metrics_and_hands_off_the_hf_folder(vt, tmp_path, standin):
    phase = _phase(vt)
    plan = vt.make_plan([phase], gpus_per_node=2, save_steps=1, poll_seconds=0.2)
    ctx = vt.make_ctx(tmp_path, plan, phase, vt.ListStream(vt.image_samples(8)), total_steps=4)
    backend = VerlBackend(VerlOptions(gpus_per_node=2, save_steps=1, poll_seconds=0.2))
    result = backend.run_phase(phase, vt.BASE, ctx)
    assert (ctx.checkpoint_dir / "model.safetensors").read_bytes() == b"stand-in weights"
    assert json.loads((ctx.checkpoint_dir / "config.json").read_text()) == {"step": 2}  # the last verl step
    steps = [s for s, _ in ctx.log.rows]
    assert steps == [2, 4]  # verl steps 1, 2 × 2 optimizer steps per rollout batch
    first = ctx.log.rows[0][1]
    # Every other response is right and well formatted (0.9 + 0.1), the others score 0.
    assert first["reward.total"] == pytest.approx(0.5) and first["loss"] == pytest.approx(0.1)
    assert first["time.step"] == 1.5 and first["verl.training.global_step"] == 1.0
    assert result.steps == 4 and result.samples_seen == 8


def test_a_rerun_resumes_from_verls_newest_checkpoint(vt, tmp_path, standin):
    phase = _phase(vt)
    plan = vt.make_plan([phase], gpus_per_node=2)
    opts = VerlOptions(gpus_per_node=2, save_steps=1, poll_seconds=0.2)
    ckpt = tmp_path / "phases" / "00-perception" / "resume"
    (ckpt / "global_step_1" / "actor").mkdir(parents=True)
    (ckpt / "latest_checkpointed_iteration.txt").write_text("1")
    ctx = vt.make_ctx(tmp_path, plan, phase, vt.ListStream(vt.image_samples(8)), total_steps=4)
    VerlBackend(opts).run_phase(phase, vt.BASE, ctx)
    calls = [json.loads(line) for line in (ckpt.parent / "standin_calls.jsonl").read_text().splitlines()]
    assert calls == [{"resume_mode": "resume_path", "start": 1}]
    assert [s for s, _ in ctx.log.rows] == [4]
    argv = json.loads((ctx.phase_dir / "verl" / "command.json").read_text())["argv"]
    assert f"trainer.resume_from_path='{ckpt / 'global_step_1'}'" in argv


def test_a_failed_job_says_why(vt, tmp_path, standin, monkeypatch):
    monkeypatch.setenv("STANDIN_FAIL", "1")
    phase = _phase(vt)
    ctx = vt.make_ctx(tmp_path, vt.make_plan([phase], gpus_per_node=2), phase,
                      vt.ListStream(vt.image_samples(4)), total_steps=2)
    with pytest.raises(BackendError) as err:
        VerlBackend(VerlOptions(gpus_per_node=2, poll_seconds=0.2)).run_phase(phase, vt.BASE, ctx)
    message = err.value.diagnostics[0].message
    assert "exit status 3" in message and "failing as asked" in message


def test_a_reward_stop_file_becomes_the_phases_error(vt, tmp_path):
    from seethink_verl.backend import stopped_by_reward

    from seethink_core.run.rewards.errors import RewardFailuresExceeded

    stop = tmp_path / "reward_stop.json"
    stop.write_text(json.dumps({"message": "reward 'format' failed on 60% of samples", "hint": "fix it"}))
    with pytest.raises(RewardFailuresExceeded, match="60%"):
        stopped_by_reward(stop)


def test_a_job_without_weights_uses_verls_model_merger(tmp_path):
    from seethink_verl.handoff import merge_command

    argv = merge_command("py", tmp_path / "global_step_3" / "actor", tmp_path / "out")
    assert argv[1:6] == ["-m", "verl.model_merger", "merge", "--backend", "fsdp"]


def _messages(plan):
    return [(d.severity, d.message) for d in check_plan(plan)]


def test_compile_time_rules(vt):
    sft = vt.make_phase("sft", name="warmup", freeze=["vision"])
    assert any("SFT trainer has no freeze switch" in m for _, m in _messages(vt.make_plan([sft])))
    assert any("torchrun on one node" in m for _, m in _messages(vt.make_plan([vt.make_phase("sft")], nnodes=2)))
    frozen = vt.make_phase(freeze=["vision", "projector"])
    assert any("cannot freeze 'projector'" in m for _, m in _messages(vt.make_plan([frozen])))
    linear = vt.make_phase(schedule="linear")
    assert any("no 'linear' schedule" in m for _, m in _messages(vt.make_plan([linear])))
    uneven = vt.make_phase(batch_size=3, rollout_batch_size=3, group=3)
    assert any(s == "error" and "does not split evenly" in m
               for s, m in _messages(vt.make_plan([uneven], gpus_per_node=8)))
    single = vt.make_phase(group=1)
    assert any("needs group ≥ 2" in m for _, m in _messages(vt.make_plan([single])))
    later = vt.make_phase(index=1, init_from="perception", name="reasoning")
    carry = vt.replace(later, handoff=vt.replace(later.handoff, optimizer="carry", reference="base"))
    msgs = [m for _, m in _messages(vt.make_plan([vt.make_phase(), carry]))]
    assert any("fresh optimizer" in m for m in msgs) and any("KL reference" in m for m in msgs)
    assert _messages(vt.make_plan([vt.make_phase()], gpus_per_node=4)) == []
    tp = _messages(vt.make_plan([vt.make_phase()], gpus_per_node=4, rollout_tensor_parallel=3))
    assert any("rollout_tensor_parallel (3) must divide" in m for _, m in tp)


def test_kl_anchors_other_than_the_phase_start_are_refused(vt):
    """verl's reference worker loads the phase's start: `stage_init` compiles for a stage's first phase."""
    import dataclasses

    from seethink_core.types.plan import HandOff

    def phase(index, name, init_from, reference):
        return dataclasses.replace(vt.make_phase("grpo", index=index, name=name, init_from=init_from, kl=0.01),
                                   handoff=HandOff(reference=reference))

    ok = [phase(0, "p.easy", "base", "stage_init"), phase(1, "t", "p.easy", "stage_init")]
    assert not [d for d in check_plan(vt.make_plan(ok)) if d.severity == "error"]
    levels = [phase(0, "p.easy", "base", "stage_init"), phase(1, "p.hard", "p.easy", "stage_init")]
    errors = [d.message for d in check_plan(vt.make_plan(levels)) if d.severity == "error"]
    assert len(errors) == 1 and "reference 'stage_init' is the start of phase 'p.easy'" in errors[0]

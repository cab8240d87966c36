"""Ray discovery, TensorBoard event reading and metric naming of the launcher."""

from __future__ import annotations

import sys

import pytest
from seethink_openrlhf.launcher import connect_ray, run_job, seethink_metrics
from seethink_openrlhf.tb_events import EventTail

from seethink_core.errors import BackendError


def test_events_written_by_torch_summary_writer_are_read(tmp_path):
    tb = pytest.importorskip("torch.utils.tensorboard")
    writer = tb.SummaryWriter(str(tmp_path / "run"))
    writer.add_scalar("train/policy_loss", 0.25, 1)
    writer.add_text("train/generated_samples", "| a | b |", 1)
    writer.add_scalar("train/rollout/reward_mean", 0.75, 2)
    writer.add_scalar("train/kl", 0.5, 2, new_style=True)  # a tensor-valued summary
    writer.flush()
    tail = EventTail(tmp_path)
    assert tail.read() == [(1, {"train/policy_loss": 0.25}), (2, {"train/rollout/reward_mean": 0.75}),
                           (2, {"train/kl": 0.5})]
    assert tail.read() == []  # only new records
    writer.add_scalar("train/actor_lr", 1e-6, 3)
    writer.close()
    ((step, scalars),) = tail.read()
    assert step == 3 and scalars["train/actor_lr"] == pytest.approx(1e-6)


def test_a_half_written_record_waits_for_the_next_read(tmp_path):
    tb = pytest.importorskip("torch.utils.tensorboard")
    writer = tb.SummaryWriter(str(tmp_path))
    writer.add_scalar("train/kl", 0.125, 4)
    writer.close()
    (path,) = tmp_path.glob("events.out.tfevents.*")
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    tail = EventTail(tmp_path)
    first = tail.read()
    path.write_bytes(data)
    assert [s for _, s in first + tail.read()][-1] == {"train/kl": 0.125}
    (tmp_path / "events.out.tfevents.garbage").write_bytes(b"\x05" * 40)
    assert tail.read() == []  # unreadable bytes are skipped, never fatal


def test_openrlhf_names_become_seethink_names():
    got = seethink_metrics({
        "train/policy_loss": 1.0, "train/kl": 2.0, "train/actor_lr": 3.0, "train/actor_grad_norm": 4.0,
        "train/rollout/reward_mean": 5.0, "train/rollout/response_length_mean": 6.0, "train/reward_accuracy": 7.0,
        "train/reward": 8.0, "train/timing/ppo_train": 9.0, "train/something_new": 10.0, "eval/eval_pass1": 11.0,
    })
    assert got == {"loss": 1.0, "kl": 2.0, "lr": 3.0, "grad_norm": 4.0, "reward.total": 5.0, "length.mean": 6.0,
                   "reward.accuracy": 7.0, "time.ppo_train": 9.0, "openrlhf.something_new": 10.0,
                   "openrlhf_eval.eval_pass1": 11.0}


def test_an_existing_cluster_is_used_as_is(tmp_path):
    assert connect_ray("ray://head:10001", sys.executable).address == "ray://head:10001"
    cluster = connect_ray("", sys.executable, env={"RAY_ADDRESS": "10.0.0.1:6379"})
    assert cluster.address == "10.0.0.1:6379" and not cluster.started
    cluster.stop()  # not ours: nothing to stop


def _fake_ray(tmp_path, rc: int):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "ray-calls.txt"
    ray = bindir / "ray"
    ray.write_text(f"#!/bin/sh\necho \"$@\" >> {log}\necho 'head failed: port 6379 in use' >&2\nexit {rc}\n")
    ray.chmod(0o755)
    return bindir / "python", log


def test_a_local_head_is_started_and_stopped(tmp_path):
    python, log = _fake_ray(tmp_path, 0)
    cluster = connect_ray("", str(python), env={})
    assert cluster.started and cluster.env() == {"RAY_ADDRESS": "auto"}
    cluster.stop()
    assert log.read_text().splitlines() == ["start --head --disable-usage-stats", "stop"]


def test_a_head_that_cannot_start_is_one_clear_error(tmp_path):
    python, _ = _fake_ray(tmp_path, 1)
    with pytest.raises(BackendError, match="`ray start --head` failed:\n    head failed: port 6379 in use"):
        connect_ray("", str(python), env={})


def test_run_job_reports_the_exit_status_and_tail(tmp_path):
    script = "import sys\nfor i in range(50): print('line', i)\nsys.exit(4)"
    out = run_job([sys.executable, "-c", script], env={}, log_path=tmp_path / "job.log",
                  tensorboard_dir=tmp_path / "tb", on_metrics=lambda s, m: None, poll_seconds=0.05)
    assert out.returncode == 4 and out.tail[-1] == "line 49" and len(out.tail) == 40
    assert (tmp_path / "job.log").read_text().count("line") == 50
    with pytest.raises(BackendError, match="cannot start"):
        run_job([str(tmp_path / "missing")], env={}, log_path=tmp_path / "j.log", tensorboard_dir=tmp_path,
                on_metrics=lambda s, m: None)

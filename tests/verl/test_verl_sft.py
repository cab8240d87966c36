"""SFT phases on verl 0.9.1's own SFT trainer: the export, the job composed over ``sft_trainer_engine.yaml`` and
checked as ``SFTTrainer._build_config`` converts it, and the launcher that keeps the exported order."""

from __future__ import annotations

import ast
import json
import zipfile

import pytest
from seethink_verl.contract import ContractError
from seethink_verl.options import VerlOptions
from seethink_verl.overrides import PhaseFiles
from seethink_verl.sft import build_sft_overrides, export_sft

from seethink_core.samples.targets import sft_target


def _overrides(vt, phase, **options):
    r = vt.HERE
    files = PhaseFiles(r / "sft.parquet", r / "v.parquet", r / "rf.py", r / "ck", r / "m.jsonl", r / "tb")
    return build_sft_overrides(phase, VerlOptions(**{"gpus_per_node": 4, **options}), files, init_path="m",
                               total_steps=6, experiment="x", resume_from=None)


def test_an_sft_job_passes_verls_sft_config_and_holds_the_plan(contract, vt):
    phase = vt.make_phase("sft", batch_size=16, lr=2e-5, warmup_steps=2, schedule="cosine")
    cfg = contract.check_sft(_overrides(vt, phase))
    assert cfg.data.train_batch_size == 16 and cfg.trainer.total_training_steps == 6  # samples; optimizer steps
    assert (cfg.optim.lr, cfg.optim.lr_warmup_steps, cfg.optim.lr_scheduler_type) == (2e-5, 2, "cosine")
    assert cfg.data.messages_key == "messages" and "hf_model" in cfg.checkpoint.save_contents
    assert cfg.trainer.resume_mode == "disable" and cfg.model.path == "m"


@pytest.mark.parametrize("key,new,says", [
    ("optim.lr_scheduler_type", "optim.lr_scheduler_type='linear'", "FSDPOptimizerConfig"),
    ("data.messages_key", "data.message_key='messages'", "Hydra"),
])
def test_a_mutated_sft_override_fails(contract, vt, key, new, says):
    overrides = [o for o in _overrides(vt, vt.make_phase("sft")) if not o.startswith(key + "=")] + [new]
    with pytest.raises(ContractError, match=says):
        contract.check_sft(overrides)


def test_the_export_holds_the_targets_in_order(vt, tmp_path):
    import pyarrow.parquet as pq

    phase = vt.replace(vt.make_phase("sft", batch_size=2, target="reasoned"), system="Be brief.")
    summary = export_sft(phase, vt.ListStream(vt.image_samples(3)), n_samples=4, out_dir=tmp_path)
    rows = pq.read_table(summary.path).to_pylist()
    assert summary.prompts == 4 and [json.dumps(r["messages"][0]) for r in rows][0].count("Be brief.") == 1
    system, user, assistant = rows[1]["messages"]
    assert user["content"].startswith("<image>") and "(1)" in user["content"]
    assert assistant == {"role": "assistant", "content": "<think>1 circles</think> \\boxed{1}"}
    assert [r["messages"][1]["content"].count("<image>") for r in rows] == [1, 1, 1, 1]
    caption = vt.make_phase("sft", target="facts", caption_prompt="Describe it.")
    assert sft_target(vt.image_samples(1)[0], "facts") == "0 circles"
    row = export_sft(caption, vt.ListStream(vt.image_samples(1)), n_samples=1, out_dir=tmp_path / "c")
    user = pq.read_table(row.path).to_pylist()[0]["messages"][0]
    assert user["content"] == "<image>Describe it."  # a caption asks its own question, no template


def test_the_wheels_sft_trainer_still_shuffles_with_the_name_the_launcher_patches(verl_wheel):
    with zipfile.ZipFile(verl_wheel) as z:
        tree = ast.parse(z.read("verl/trainer/sft_trainer.py"))
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "DistributedSampler"]
    shuffles = [k.value.value for c in calls for k in c.keywords if k.arg == "shuffle"]
    assert True in shuffles  # the train sampler: what ordered_sft turns off
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "torch.utils.data"]
    assert any(a.name == "DistributedSampler" for n in imports for a in n.names)


def test_the_patched_sampler_serves_the_file_order_on_every_rank():
    from types import SimpleNamespace

    from seethink_verl.ordered_sft import OrderPatchError, patch
    from torch.utils.data import DistributedSampler

    module = SimpleNamespace(DistributedSampler=DistributedSampler, __name__="verl.trainer.sft_trainer")
    patch(module)
    data = list(range(12))
    ranks = [list(module.DistributedSampler(data, shuffle=True, num_replicas=3, rank=r, drop_last=True))
             for r in range(3)]
    assert ranks == [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]  # step k's global batch: rows kW..kW+W-1
    with pytest.raises(OrderPatchError):
        patch(SimpleNamespace(DistributedSampler=object))


def test_an_sft_phase_dry_runs_with_a_torchrun_command(vt, tmp_path):
    from seethink_verl.backend import VerlBackend

    phase = vt.make_phase("sft", batch_size=4)
    plan = vt.make_plan([phase], dry_run=True, gpus_per_node=2)
    ctx = vt.make_ctx(tmp_path, plan, phase, vt.ListStream(vt.image_samples(5)), total_steps=3)
    VerlBackend(VerlOptions(dry_run=True, gpus_per_node=2)).run_phase(phase, vt.BASE, ctx)
    record = json.loads((ctx.phase_dir / "verl" / "command.json").read_text())
    assert record["argv"][1:10] == ["-m", "torch.distributed.run", "--standalone", "--nnodes", "1",
                                    "--nproc_per_node", "2", "-m", "seethink_verl.ordered_sft"]
    assert record["prompts"] == 12 and (ctx.phase_dir / "verl" / "sft.parquet").is_file()

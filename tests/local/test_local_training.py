"""run_phase: SFT learns, GRPO raises reward, frozen parts stay put, every method and path runs."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from seethink_local.backend import LocalBackend  # noqa: E402
from seethink_local.options import LocalOptions  # noqa: E402

from seethink_core.errors import BackendError  # noqa: E402
from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.types.methods import (  # noqa: E402
    DAPOOptions,
    DrGRPOOptions,
    GRPOOptions,
    ReinforcePPBaselineOptions,
    ReinforcePPOptions,
    RLOOOptions,
    SFTOptions,
)

CPU = LocalOptions(device="cpu", memory_estimate=False, rollout_dump_every=2)
SMALL = dict(lr=5e-4, batch_size=4, rollout_batch_size=4, group=3, max_response_tokens=4)


def _state(path):
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


def test_sft_loss_drops_a_lot(warm):
    loss = warm.recorder.series("loss")
    assert len(loss) == 120
    first, last = sum(loss[:10]) / 10, sum(loss[-10:]) / 10
    assert last < 0.3 * first
    assert {"grad_norm", "lr", "samples_seen", "time.step_s", "tokens_per_s"} <= set(warm.recorder.logs[-1][1])


def test_grpo_raises_reward_after_the_warm_up(warm, kit, tmp_path):
    rec = kit.Recorder()
    algo = GRPOOptions(lr=1e-3, batch_size=8, rollout_batch_size=8, group=4, max_response_tokens=4, kl=0.0)
    phase = kit.make_phase("grpo", algo, steps=30, name="rl")
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(240, seed=2), recorder=rec)
    result = LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    acc = rec.series("reward.accuracy")
    print("GRPO accuracy per step:", [round(a, 2) for a in acc])
    assert result.steps == 30 and len(acc) == 30
    assert sum(acc[-8:]) / 8 > sum(acc[:8]) / 8 + 0.05
    assert rec.dumps and {"prompt", "completion", "answer", "reward.accuracy"} <= set(rec.dumps[0][1][0])
    assert (ctx.checkpoint_dir / "config.json").exists()


def test_frozen_vision_tower_is_bit_identical_and_not_optimized(tiny_dir, kit, tmp_path):
    phase = kit.make_phase("sft", SFTOptions(lr=1e-3, batch_size=4), steps=3, freeze=["vision"])
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(12))
    result = LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    before, after = _state(tiny_dir), _state(ctx.checkpoint_dir)
    vision = [k for k in before if "visual" in k]  # the tower and its merger (saved as "visual.*")
    assert vision
    assert all(torch.equal(before[k], after[k]) for k in vision)
    language = [k for k in before if k not in vision]
    assert any(not torch.equal(before[k], after[k]) for k in language)
    state = torch.load(result.optimizer_state, weights_only=True)
    n_optimized = sum(len(g["params"]) for g in state["param_groups"])
    n_language = len([k for k in before if k not in vision])
    assert n_optimized == n_language  # the vision tower (and its merger) hold no optimizer state


@pytest.mark.parametrize("method,options", [
    ("dr_grpo", DrGRPOOptions(**SMALL)),
    ("dapo", DAPOOptions(**SMALL, overlong_buffer=0)),
    ("rloo", RLOOOptions(**SMALL)),
    ("reinforce_pp", ReinforcePPOptions(**SMALL, kl=0.05)),
    ("reinforce_pp_baseline", ReinforcePPBaselineOptions(**SMALL, kl=0.0)),
])
def test_every_method_trains(method, options, warm, kit, tmp_path):
    rec = kit.Recorder()
    phase = kit.make_phase(method, options, steps=2)
    ref = Checkpoint(str(warm.path)) if options.kl > 0 else None
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(16), recorder=rec, reference=ref)
    result = LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    assert result.steps == 2
    assert all(torch.isfinite(torch.tensor(m["loss"])) for _, m in rec.logs)


def test_kl_loss_with_a_reference_and_several_updates_per_rollout(warm, kit, tmp_path):
    """Two minibatches x two epochs per rollout: old log-probs are recomputed and the ratio moves."""
    rec = kit.Recorder()
    algo = GRPOOptions(lr=2e-3, batch_size=2, rollout_batch_size=4, group=3, max_response_tokens=4, kl=0.1,
                       update_epochs=2)
    phase = kit.make_phase("grpo", algo, steps=4)
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(8), recorder=rec, reference=Checkpoint(str(warm.path)))
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    kls = rec.series("kl")
    assert kls[0] == pytest.approx(0.0, abs=1e-6)  # the first update still equals the reference
    assert max(kls[1:]) > 0


def test_lora_uses_the_base_as_reference_and_saves_a_plain_folder(warm, kit, tmp_path):
    from transformers import AutoModelForImageTextToText

    options = LocalOptions(device="cpu", memory_estimate=False, lora_rank=4, micro_batch_size=3,
                           gradient_checkpointing=True)
    phase = kit.make_phase("grpo", GRPOOptions(**{**SMALL, "lr": 1e-2}, kl=0.1), steps=2)
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(8), reference=Checkpoint(str(warm.path)))
    LocalBackend(options).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    reloaded = AutoModelForImageTextToText.from_pretrained(ctx.checkpoint_dir)
    assert not any("lora" in n for n, _ in reloaded.named_parameters())


def test_should_stop_ends_the_phase_early(warm, kit, tmp_path):
    phase = kit.make_phase("sft", SFTOptions(lr=1e-4, batch_size=2), steps=50)
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(8),
                       should_stop=lambda step, m: "loss low" if step >= 3 else None)
    result = LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    assert (result.steps, result.stopped_by) == (3, "loss low")


def test_carry_optimizer_and_bad_freeze(warm, kit, tmp_path):
    phase = kit.make_phase("sft", SFTOptions(lr=1e-4, batch_size=2), steps=1)
    first = LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)),
                                        kit.make_ctx(tmp_path / "a", phase, kit.counting_samples(4)))
    ctx = kit.make_ctx(tmp_path / "b", phase, kit.counting_samples(4))
    ctx.carry_optimizer = first.optimizer_state
    assert LocalBackend(CPU).run_phase(phase, first.checkpoint, ctx).steps == 1
    bad = kit.make_phase("sft", SFTOptions(), steps=1, freeze=["eyes"])
    with pytest.raises(BackendError, match="cannot freeze"):
        LocalBackend(CPU).run_phase(bad, Checkpoint(str(warm.path)), kit.make_ctx(tmp_path / "c", bad, []))


def test_caption_sft_and_text_only_samples(tiny_dir, kit, tmp_path):
    from seethink_core.types.sample import Sample

    samples = kit.counting_samples(4) + [Sample(id="t", prompt="One plus one?", answer="2")] * 2
    for target in ("facts", "reasoned"):
        rec = kit.Recorder()
        phase = kit.make_phase("sft", SFTOptions(lr=1e-3, batch_size=3, target=target), steps=2, name=target)
        data = kit.counting_samples(6) if target == "facts" else samples
        ctx = kit.make_ctx(tmp_path, phase, data, recorder=rec)
        LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
        assert len(rec.series("loss")) == 2


def test_in_phase_evaluation_gets_a_loadable_snapshot_of_the_current_model(warm, kit, tmp_path):
    """The backend offers a snapshot after every step; the runner's evaluate decides when to take one."""
    import dataclasses

    from seethink_local.modeling import load_model

    algo = GRPOOptions(lr=1e-3, batch_size=4, rollout_batch_size=4, group=2, max_response_tokens=4, kl=0.0)
    phase = kit.make_phase("grpo", algo, steps=4, name="rl")
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(16, seed=4))
    taken: list[tuple[int, str]] = []

    def evaluate(step, save):
        assert 1 <= step <= 4
        if step % 2 == 0:  # "every 2 steps"
            folder = tmp_path / f"snap-{step}"
            save(folder)
            taken.append((step, str(folder)))

    ctx = dataclasses.replace(ctx, evaluate=evaluate)
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    assert [s for s, _ in taken] == [2, 4]
    final = load_model(str(ctx.checkpoint_dir), CPU, torch.device("cpu")).model.state_dict()
    at4 = load_model(taken[-1][1], CPU, torch.device("cpu")).model.state_dict()
    assert all(torch.equal(final[k], at4[k]) for k in final)  # the last snapshot is the final model


def test_generate_reloads_a_folder_rewritten_in_place(tiny_dir, warm, kit, tmp_path):
    """The runner's in-phase evaluation rewrites one snapshot folder every N steps: generation must
    score what the folder holds now, not the model it loaded from that path the first time."""
    import shutil

    samples = kit.counting_samples(8, seed=9)
    folder = tmp_path / "eval-model"
    backend = LocalBackend(CPU)
    outputs = []
    for source in (tiny_dir, warm.path, tiny_dir):
        if folder.exists():
            shutil.rmtree(folder)
        shutil.copytree(source, folder)
        outs = backend.generate(Checkpoint(str(folder)), samples, n=1, temperature=0.0, max_new_tokens=6)
        outputs.append([c[0].text for c in outs])
    fresh = LocalBackend(CPU)
    expected = [[c[0].text for c in fresh.generate(Checkpoint(str(src)), samples, n=1, temperature=0.0,
                                                  max_new_tokens=6)] for src in (tiny_dir, warm.path)]
    assert outputs == [expected[0], expected[1], expected[0]]
    assert expected[0] != expected[1]  # the two models do differ, so the check above means something


def test_bf16_parameters_and_optimizer_with_the_reference_clip_settings(warm, kit, tmp_path):
    """param_dtype bfloat16: weights, gradients and AdamW state in bf16 (EasyR1's adamw_bf16), trained with the
    reference's clip pair 0.2/0.3, dual clip 3.0, token-mean loss and KL to the phase's start."""
    rec = kit.Recorder()
    algo = GRPOOptions(lr=1e-3, batch_size=4, rollout_batch_size=4, group=3, max_response_tokens=4, kl=0.01,
                       clip_low=0.2, clip_high=0.3, dual_clip=3.0, loss_agg="token_mean", update_epochs=2)
    phase = kit.make_phase("grpo", algo, steps=2)
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(8), recorder=rec, reference=Checkpoint(str(warm.path)))
    options = LocalOptions(device="cpu", memory_estimate=False, param_dtype="bfloat16")
    result = LocalBackend(options).run_phase(phase, Checkpoint(str(warm.path)), ctx)
    assert result.steps == 2
    assert all("dual_clip_frac" in m and 0.0 <= m["dual_clip_frac"] <= 1.0 for _, m in rec.logs)
    assert all(torch.isfinite(torch.tensor(m["loss"])) for _, m in rec.logs)
    saved = _state(ctx.checkpoint_dir)
    assert {t.dtype for t in saved.values()} == {torch.bfloat16}
    before = _state(warm.path)
    assert any(not torch.equal(before[k].to(torch.bfloat16), saved[k]) for k in saved)
    state = torch.load(result.optimizer_state, weights_only=True)
    moments = [s["exp_avg"] for s in state["state"].values()]
    assert moments and {m.dtype for m in moments} == {torch.bfloat16}

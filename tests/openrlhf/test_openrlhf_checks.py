"""Compile-time rules: what OpenRLHF cannot run is an error naming the phase; doubtful settings warn."""

from __future__ import annotations

import pytest
from seethink_openrlhf.checks import check_plan

from seethink_core.hooks.manager import get_plugins
from seethink_core.types.plan import Difficulty, HandOff, Transition


def errors(plan) -> list[str]:
    return [d.message for d in check_plan(plan) if d.severity == "error"]


def warnings(plan) -> list[str]:
    return [d.message for d in check_plan(plan) if d.severity == "warning"]


def test_registered_with_its_checks(with_plugins):
    spec = with_plugins().registry.get("backend", "openrlhf")
    assert spec.methods == {"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline"}
    from seethink_core.hooks.registry import load_factory

    assert load_factory(spec.check, "check") is check_plan
    assert spec.load().__name__ == "OpenRLHFBackend"
    assert get_plugins().registry.plugin_of("backend", "openrlhf") == "openrlhf"


def test_test_curricula_have_no_errors(orl):
    for name, plan in orl.curricula().items():
        assert errors(plan) == [], name


def test_sft_phase_is_an_error_naming_it(orl):
    plan = orl.make_plan([orl.make_phase("grpo"), orl.make_phase("sft", index=1, name="caption")], vllm_engines=8)
    (msg,) = errors(plan)
    assert msg.startswith("phase 'caption': method 'sft' cannot run on backend openrlhf")


@pytest.mark.parametrize("change, expected", [
    (dict(freeze=["projector"]), "cannot freeze 'projector'"),
    (dict(handoff=HandOff(optimizer="carry")), "fresh optimizer"),
    (dict(handoff=HandOff(reference="base")), "reference 'base' is not possible"),
])
def test_unsupported_handoff_and_freeze(orl, change, expected):
    second = orl.replace(orl.make_phase("grpo", index=1, name="reasoning", init_from="perception"), **change)
    (msg,) = errors(orl.make_plan([orl.make_phase("grpo"), second], vllm_engines=8))
    assert msg.startswith("phase 'reasoning': ") and expected in msg


def test_kl_anchors_other_than_the_phase_start(orl):
    """OpenRLHF's reference is the phase's start: `stage_init` compiles for a stage's first phase only."""
    def phase(index, name, init_from, reference):
        return orl.replace(orl.make_phase("grpo", index=index, name=name, init_from=init_from, kl=0.01),
                           handoff=HandOff(reference=reference))

    ok = [phase(0, "p.easy", "base", "stage_init"), phase(1, "t", "p.easy", "stage_init")]
    assert errors(orl.make_plan(ok, vllm_engines=8)) == []
    levels = [phase(0, "p.easy", "base", "stage_init"), phase(1, "p.hard", "p.easy", "stage_init")]
    (msg,) = errors(orl.make_plan(levels, vllm_engines=8))
    assert msg.startswith("phase 'p.hard': ") and "reference 'stage_init' is the start of phase 'p.easy'" in msg
    previous = [phase(0, "p", "base", "previous_init"), phase(1, "t", "p", "previous_init")]
    (msg,) = errors(orl.make_plan(previous, vllm_engines=8))
    assert msg.startswith("phase 't': ") and "'previous_init' is the start of phase 'p'" in msg


def test_group_of_one(orl):
    msgs = errors(orl.make_plan([orl.make_phase("grpo", group=1)], vllm_engines=8))
    assert any("needs group ≥ 2" in m for m in msgs)
    assert errors(orl.make_plan([orl.make_phase("reinforce_pp", group=1)], vllm_engines=8)) == []


def test_backend_options_validated_together(orl):
    msgs = errors(orl.make_plan([orl.make_phase()], vllm_engines=3, gpus_per_node=8, zero_stage=4, colocat="all"))
    assert not any("colocate 'all'" in m for m in msgs)  # cross-option rules run on valid options only
    assert any("option 'zero_stage' must be at most 3" in m for m in msgs)
    assert any("unknown option 'colocat'" in m for m in msgs)
    (msg,) = errors(orl.make_plan([orl.make_phase()], vllm_engines=3, gpus_per_node=8))
    assert "to equal vllm_engines × vllm_tensor_parallel (3)" in msg


def test_warnings_name_the_phase(orl):
    phase = orl.replace(orl.make_phase("grpo", batch_size=100, rollout_batch_size=256),
                        difficulty=Difficulty(source="column", order="easy_to_hard"),
                        transition=Transition(any_of=[]))
    msgs = warnings(orl.make_plan([phase], colocate="none", vllm_sleep=True, vllm_engines=8))
    assert not any("order inside this phase is lost" in m for m in msgs)  # the ordered launcher keeps it
    # OpenRLHF reorders inside a rollout batch, as EasyR1 does: not a warning.
    assert not any("rollout batch" in m and "order" in m for m in msgs)
    assert any("not a multiple of batch_size 100" in m for m in msgs)
    assert any("transition is ignored" in m for m in msgs)
    assert any("vllm_sleep only applies" in m for m in msgs)
    assert all(m.startswith(("phase 'perception'", "backend openrlhf")) for m in msgs)


def test_order_and_pacing_are_kept_except_where_openrlhf_reorders(orl):
    from seethink_core.types.plan import Pacing

    paced = Difficulty(source="column", order="easy_to_hard", pacing=Pacing())
    step_by_step = orl.replace(orl.make_phase("grpo", batch_size=64, rollout_batch_size=64), difficulty=paced)
    assert warnings(orl.make_plan([step_by_step], vllm_engines=8)) == []
    per_rollout = orl.replace(orl.make_phase("grpo", batch_size=64, rollout_batch_size=256), difficulty=paced)
    assert warnings(orl.make_plan([per_rollout], vllm_engines=8)) == []
    dynamic = orl.replace(orl.make_phase("dapo", batch_size=64, rollout_batch_size=64), difficulty=paced)
    (msg,) = warnings(orl.make_plan([dynamic], vllm_engines=8))
    assert msg.startswith("phase 'perception': with dynamic sampling OpenRLHF refills every filtered group")
    shuffled = orl.replace(orl.make_phase("dapo", batch_size=64, rollout_batch_size=256))
    (msg,) = warnings(orl.make_plan([shuffled], vllm_engines=8))  # no order to lose, but updates to miss
    assert "the job ends when the export runs out, making fewer updates" in msg and "order" not in msg


def test_rollout_too_small_for_the_actor_gpus(orl):
    # OpenRLHF asserts n_samples × rollout_batch // micro_rollout_batch ≥ actor processes
    phase = orl.make_phase("grpo", group=5, batch_size=4, rollout_batch_size=8)
    (msg,) = errors(orl.make_plan([phase], gpus_per_node=8))
    assert msg.startswith("phase 'perception': a rollout of 40 samples") and "fewer than the 8 actor GPUs" in msg
    assert errors(orl.make_plan([phase], gpus_per_node=8, micro_rollout_batch=4)) == []

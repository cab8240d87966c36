"""The plan is plain data: JSON/YAML round trips and a stable content hash."""

from __future__ import annotations

import dataclasses
import json

from seethink_core.types.methods import GRPOOptions, SFTOptions
from seethink_core.types.plan import (
    BackendRef,
    Budget,
    Condition,
    DataRef,
    Difficulty,
    EvalSpec,
    HandOff,
    Pacing,
    Phase,
    RewardRef,
    TrainingPlan,
    Transition,
    canonical_json,
    plan_hash,
)


def make_plan(source: str | None = "curricula/x.curr") -> TrainingPlan:
    warm = Phase(
        index=0, name="warmup", stages=["warmup"], capabilities=["perception"], model="tiny-vlm", init_from="base",
        method="sft", algorithm=SFTOptions(lr=5e-4), data=[DataRef("synthetic", {"count": 100}, 1.0)],
        rewards=[], budget=Budget(steps=300), freeze=[], seed=0,
    )
    perception = Phase(
        index=1, name="perception.easy", stages=["perception"], capabilities=["perception"], model="tiny-vlm",
        init_from="warmup", method="grpo", algorithm=GRPOOptions(lr=1e-6, group=5),
        data=[DataRef("synthetic", {"capability": "perception"}, 2.0, {"prompt": "question"}, "shapes",
                      "perception")],
        rewards=[RewardRef("accuracy", 0.9), RewardRef("format", 0.1, {"pattern": "x"})],
        budget=Budget(steps=500), prompt="{question} Think.",
        transition=Transition([Condition("reward.accuracy", ">=", 0.8)], window=10, min_steps=20),
        difficulty=Difficulty("column", "easy_to_hard", 0.0, 0.33, "easy", Pacing("linear", 0.3, 0.8, 3),
                              {"samples": 16}),
        freeze=["vision"], handoff=HandOff("previous", "phase_init", "reset"),
        eval=EvalSpec([DataRef("synthetic", {"split": "eval"})], ["accuracy"], every_steps=50), seed=1,
    )
    return TrainingPlan("demo", "tiny-vlm", BackendRef("local", {"device": "cpu"}), [warm, perception], seed=0,
                        source=source)


# Pinned: any change to the plan types or their serialisation must be a deliberate one (last: execution-only
# options such as max_reward_failures left out of the hash).
GOLDEN_HASH = "cb3362f5fffd61a335e98da4d4efdfc53c0a6dbb892ac8eb4ce257c7423c707f"


def test_json_round_trip_is_exact():
    plan = make_plan()
    again = TrainingPlan.from_json(plan.to_json())
    assert again == plan
    assert isinstance(again.phases[1].algorithm, GRPOOptions)
    assert isinstance(again.phases[0].algorithm, SFTOptions)
    assert again.phases[1].transition.any_of[0] == Condition("reward.accuracy", ">=", 0.8)


def test_yaml_round_trip_is_exact():
    plan = make_plan()
    assert TrainingPlan.from_yaml(plan.to_yaml()) == plan


def test_hash_is_golden():
    assert plan_hash(make_plan()) == GOLDEN_HASH


def test_hash_ignores_key_order_and_source_path():
    plan = make_plan()
    shuffled = json.loads(plan.to_json())
    shuffled = dict(reversed(list(shuffled.items())))
    shuffled["phases"] = [dict(reversed(list(p.items()))) for p in shuffled["phases"]]
    assert plan_hash(TrainingPlan.from_dict(shuffled)) == plan_hash(plan)
    assert plan_hash(make_plan(source="/elsewhere/y.curr")) == plan_hash(plan)
    assert plan_hash(make_plan(source=None)) == plan_hash(plan)


def test_hash_changes_with_any_training_field():
    plan = make_plan()
    base = plan_hash(plan)
    p1 = plan.phases[1]
    variants = [
        dataclasses.replace(p1, algorithm=dataclasses.replace(p1.algorithm, lr=2e-6)),
        dataclasses.replace(p1, seed=2),
        dataclasses.replace(p1, freeze=[]),
        dataclasses.replace(p1, rewards=[RewardRef("accuracy", 0.8), RewardRef("format", 0.2)]),
        dataclasses.replace(p1, budget=Budget(steps=501)),
        dataclasses.replace(p1, difficulty=dataclasses.replace(p1.difficulty, order="hard_to_easy")),
        dataclasses.replace(p1, handoff=HandOff("previous", "base", "reset")),
        dataclasses.replace(p1, data=[dataclasses.replace(p1.data[0], weight=3.0)]),
        dataclasses.replace(p1, prompt="{question}"),
    ]
    hashes = {plan_hash(dataclasses.replace(plan, phases=[plan.phases[0], v])) for v in variants}
    assert base not in hashes and len(hashes) == len(variants)
    assert plan_hash(dataclasses.replace(plan, backend=BackendRef("openrlhf"))) != base
    assert plan_hash(dataclasses.replace(plan, model="other")) != base


def test_canonical_json_is_key_order_free():
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == canonical_json({"a": [1, {"c": 3, "d": 2}], "b": 1})


def test_execution_only_options_do_not_change_the_hash():
    plan = make_plan()
    base = plan_hash(plan)
    p1 = plan.phases[1]
    guard = dataclasses.replace(p1, algorithm=dataclasses.replace(p1.algorithm, max_reward_failures=0.5))
    assert plan_hash(dataclasses.replace(plan, phases=[plan.phases[0], guard])) == base
    logging = BackendRef("local", {"device": "cpu", "threads": 2, "log_every": 5, "keep_checkpoints": 4,
                                   "cuda_graphs": True})
    assert plan_hash(dataclasses.replace(plan, backend=logging)) == base
    assert plan_hash(dataclasses.replace(plan, backend=BackendRef("local", {"device": "cuda"}))) != base
    own = dataclasses.replace(p1, backend=BackendRef("local", {"threads": 1}))
    again = dataclasses.replace(p1, backend=BackendRef("local", {"threads": 4}))
    assert plan_hash(dataclasses.replace(plan, phases=[plan.phases[0], own])) == \
        plan_hash(dataclasses.replace(plan, phases=[plan.phases[0], again]))


# The first-party backends' options that are in the plan hash. A plan compiled before a hashed option
# existed has no such key in its plan.json, so it would hash differently from the same plan compiled
# after, and a run started before the upgrade would be refused on resume: a new hashed option goes into
# BACKEND_OPTIONS_ADDED with its default (decisions.md 62), or is execution-only (40).
HASHED_BACKEND_OPTIONS = {
    "local": {"deterministic", "device", "dtype", "lora_alpha", "lora_dropout", "lora_rank", "param_dtype"},
    "openrlhf": {"adam_offload", "assistant_marker", "attn_implementation", "colocate", "extra_args",
                 "gpus_per_node", "gradient_checkpointing", "max_images_per_prompt", "micro_rollout_batch",
                 "micro_train_batch", "num_nodes", "param_dtype", "reward_timeout", "vllm_engines",
                 "vllm_gpu_memory_utilization", "vllm_sleep", "vllm_tensor_parallel", "zero_stage"},
    "verl": {"extra_overrides", "extra_sft_overrides", "gpu_memory_utilization", "gpus_per_node",
             "gradient_checkpointing", "log_prob_micro_batch_per_gpu", "micro_batch_per_gpu", "nnodes",
             "optimizer_offload", "param_offload", "reward_timeout", "rollout_engine", "rollout_tensor_parallel",
             "sft_max_length", "strategy"},
}


def test_the_hashed_options_of_the_first_party_backends_are_pinned():
    from seethink_local.options import LocalOptions
    from seethink_openrlhf.options import OpenRLHFOptions
    from seethink_verl.options import VerlOptions

    from seethink_core.types.plan import BACKEND_OPTIONS_ADDED, EXECUTION_ONLY_BACKEND_OPTIONS

    for name, schema in (("local", LocalOptions), ("openrlhf", OpenRLHFOptions), ("verl", VerlOptions)):
        fields = {f.name: f for f in dataclasses.fields(schema)}
        only = EXECUTION_ONLY_BACKEND_OPTIONS.get(name, frozenset())
        assert only <= fields.keys(), (name, only - fields.keys())  # a stale entry would hide nothing but mislead
        added = BACKEND_OPTIONS_ADDED.get(name, {})
        assert fields.keys() - only - added.keys() == HASHED_BACKEND_OPTIONS[name], name
        for key, default in added.items():  # left out of the hash at the default it was added with
            assert fields[key].default == default, (name, key)


def test_a_plan_made_before_a_hashed_option_existed_keeps_its_hash(monkeypatch):
    from seethink_core.types import plan as plan_module

    plan = make_plan()
    before = dataclasses.replace(plan, backend=BackendRef("local", {"device": "cpu"}))  # its plan.json
    after = dataclasses.replace(plan, backend=BackendRef("local", {"device": "cpu", "new_knob": 4}))
    changed = dataclasses.replace(plan, backend=BackendRef("local", {"device": "cpu", "new_knob": 8}))
    assert plan_hash(after) != plan_hash(before)  # what an upgrade adding a hashed option did
    monkeypatch.setattr(plan_module, "BACKEND_OPTIONS_ADDED", {"local": {"new_knob": 4}})
    assert plan_hash(after) == plan_hash(before)
    assert plan_hash(changed) != plan_hash(before)  # set away from its default, it is in the hash
    as_float = dataclasses.replace(plan, backend=BackendRef("local", {"device": "cpu", "new_knob": 4.0}))
    assert plan_hash(as_float) != plan_hash(before)  # 4.0 is not the default 4 (the hash keeps types)
    assert plan_hash(dataclasses.replace(plan, backend=BackendRef("verl", {"new_knob": 4}))) != \
        plan_hash(dataclasses.replace(plan, backend=BackendRef("verl", {})))  # another backend's option


def test_a_verl_runs_logging_and_polling_do_not_change_its_hash():
    plan = make_plan()
    verl = dataclasses.replace(plan, backend=BackendRef("verl", {"strategy": "fsdp", "poll_seconds": 5.0}))
    quieter = dataclasses.replace(plan, backend=BackendRef("verl", {"strategy": "fsdp", "poll_seconds": 30.0,
                                                                    "tensorboard": True, "save_steps": 50}))
    assert plan_hash(quieter) == plan_hash(verl)
    assert plan_hash(dataclasses.replace(plan, backend=BackendRef("verl", {"strategy": "megatron"}))) != \
        plan_hash(dataclasses.replace(plan, backend=BackendRef("verl", {"strategy": "fsdp"})))


def test_the_kl_reference_of_a_phase_without_kl_does_not_stop_its_reuse():
    from seethink_core.compiler import compile_text
    from seethink_core.types.plan import phase_prefix_hash

    def plan(reference: str, kl: float):
        return compile_text(f'''
curriculum c {{
    model "tiny-vlm"
    algorithm grpo(kl: {kl})
    handoff reference: {reference}
    reward accuracy weight 1
    stage warm {{ method sft() data synthetic(count: 8) steps 2 }}
    stage rl {{ data synthetic(count: 8) steps 2 }}
}}''')

    a, b = plan("phase_init", 0.01), plan("stage_init", 0.01)
    assert phase_prefix_hash(a, 0) == phase_prefix_hash(b, 0)  # the SFT warm-up loads no reference
    assert phase_prefix_hash(a, 1) != phase_prefix_hash(b, 1)  # the RL phase computes KL against it
    assert phase_prefix_hash(plan("phase_init", 0.0), 1) == phase_prefix_hash(plan("base", 0.0), 1)

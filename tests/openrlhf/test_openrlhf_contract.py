"""Every command seethink generates is accepted by OpenRLHF 0.11.2's own parser and post-parse checks.

The parser is built from the pinned wheel's ``train_ppo_ray.py`` (its ``__main__`` block, by AST):
nothing of OpenRLHF is imported, so no vLLM or GPU is needed, and the test is never skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from seethink_openrlhf.commands import JobSettings, PhaseFiles, build_command
from seethink_openrlhf.contract import ContractError
from seethink_openrlhf.options import OpenRLHFOptions

from seethink_core.types.options import validate


def files(root: Path) -> PhaseFiles:
    return PhaseFiles(root / "prompts.jsonl", root / "reward_func.py", root / "checkpoint.partial",
                      root / "resume", root / "tensorboard")


def commands_for(plan, root: Path, *, resume: bool) -> list[tuple[str, list[str]]]:
    options, problems = validate(OpenRLHFOptions, dict(plan.backend.options))
    assert not problems, problems
    out = []
    for phase in plan.phases:
        init = plan.model if phase.init_from == "base" else str(root / phase.init_from / "checkpoint")
        job = JobSettings(init_path=init, n_prompts=1024, total_steps=8, max_images=1 if phase.index % 2 else 0,
                          run_name=f"{plan.curriculum}-{phase.name}", resume=resume, python="python")
        out.append((phase.name, build_command(phase, options, files(root / phase.name), job)))
    return out


def test_wheel_holds_the_pinned_sources(openrlhf_wheel, contract):
    assert "0.11.2" in openrlhf_wheel.name
    flags = contract.flags()
    # the dotted flags docs/architecture.md §10 names, as the released parser spells them
    for flag in ("--actor.model_name_or_path", "--algo.advantage.estimator", "--rollout.n_samples_per_prompt",
                 "--reward.remote_url", "--data.prompt_dataset", "--data.image_key", "--actor.freeze_visual_encoder",
                 "--ckpt.output_dir", "--ckpt.load_enable"):
        assert flag in flags


@pytest.mark.parametrize("resume", [False, True], ids=["fresh", "resume"])
def test_every_test_curriculum_parses(contract, orl, tmp_path, resume):
    for curriculum, plan in orl.curricula().items():
        for phase_name, argv in commands_for(plan, tmp_path, resume=resume):
            assert argv[:3] == ["python", "-m", "seethink_openrlhf.ordered_train"]  # train_ppo_ray's flags, in order
            try:
                args = contract.validate(argv[3:])
            except ContractError as e:
                pytest.fail(f"{curriculum}/{phase_name}: {e}\n{argv}")
            assert args.ckpt.load_enable is resume
            assert args.reward.remote_url == [str(tmp_path / phase_name / "reward_func.py")]
            assert args.data.apply_chat_template and args.data.image_key == "images"


def test_values_land_where_openrlhf_reads_them(contract, orl, tmp_path):
    plan = orl.curricula()["paper"]
    (_, perception), (_, textual), _ = commands_for(plan, tmp_path, resume=False)
    args = contract.validate(perception[3:])
    assert args.algo.advantage.estimator == "group_norm"
    assert args.algo.kl.use_loss and args.algo.kl.estimator == "k3" and args.algo.kl.init_coef == 0.01
    assert args.rollout.n_samples_per_prompt == 5
    # prompts → OpenRLHF units: rollout batch in prompts, train batch in samples (prompts × group)
    assert args.rollout.batch_size == 512 and args.train.batch_size == 128 * 5
    assert args.data.max_len == 4096 and args.rollout.max_new_tokens == 2048
    assert args.actor.adam.lr == 1e-6 and args.actor.adam.weight_decay == 0.01 and args.actor.max_norm == 1.0
    assert args.actor.eps_clip_low_high == [0.2, 0.2]
    assert args.actor.freeze_visual_encoder is False
    assert args.train.colocate_all and args.vllm.enable_sleep and args.ds.zero_stage == 3
    assert args.actor.model_name_or_path == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert args.train.seed == 7
    textual_args = contract.validate(textual[3:])
    assert textual_args.actor.freeze_visual_encoder is True
    assert textual_args.actor.model_name_or_path == str(tmp_path / "perception" / "checkpoint")


def test_method_table(contract, orl, tmp_path):
    plan = orl.curricula()["methods"]
    got = {name: contract.validate(argv[3:]) for name, argv in commands_for(plan, tmp_path, resume=False)}
    assert got["dr_grpo"].algo.advantage.estimator == "dr_grpo"
    assert got["dapo"].algo.advantage.estimator == "group_norm"
    assert got["dapo"].actor.eps_clip_low_high == [0.2, 0.28]
    assert got["dapo"].algo.dynamic_filtering_enable and got["dapo"].actor.loss_agg_mode == "token-mean"
    assert got["dapo"].reward.overlong_buffer_len == 256 and got["dapo"].algo.kl.init_coef == 0.0
    assert got["rloo"].algo.advantage.estimator == "rloo"
    assert got["reinforce_pp"].algo.advantage.estimator == "reinforce"
    assert got["reinforce_pp"].algo.advantage.no_std_norm is True
    assert got["reinforce_pp"].algo.kl.use_loss is False  # REINFORCE++ puts KL in the reward
    assert got["reinforce_pp_baseline"].algo.advantage.estimator == "reinforce_baseline"
    nostd = got["grpo_nostd"]
    assert nostd.algo.advantage.estimator == "dr_grpo" and nostd.algo.kl.init_coef == 0.0
    assert nostd.actor.lr_scheduler == "cosine" and nostd.train.max_epochs == 2
    assert nostd.actor.lr_warmup_ratio == pytest.approx(5 / 8)
    assert nostd.logger.wandb.project == "seethink" and nostd.ds.use_liger_kernel
    assert nostd.train.colocate_actor_ref and nostd.actor.num_nodes == 2 and nostd.vllm.tensor_parallel_size == 2


def test_a_mutated_flag_fails(contract, orl, tmp_path):
    _, argv = commands_for(orl.curricula()["paper"], tmp_path, resume=True)[1]
    flags = [i for i, a in enumerate(argv) if a.startswith("--")]
    assert len(flags) > 40
    for i in flags:
        mutated = list(argv)
        mutated[i] = argv[i] + "_x"
        with pytest.raises(ContractError, match="unrecognized arguments"):
            contract.validate(mutated[3:])
    # an abbreviation of a real flag is refused too: seethink spells every flag in full
    cut = [a if a != "--actor.model_name_or_path" else "--actor.model_name" for a in argv]
    with pytest.raises(ContractError):
        contract.validate(cut[3:])


def test_a_bad_value_fails(contract, orl, tmp_path):
    _, argv = commands_for(orl.curricula()["paper"], tmp_path, resume=False)[0]
    bad = [("grpo_norm" if a == "group_norm" else a) for a in argv]
    with pytest.raises(ContractError, match="invalid choice"):
        contract.validate(bad[3:])


def test_openrlhfs_own_checks_run(contract, orl, tmp_path):
    # group 1 with a group estimator: OpenRLHF's __main__ asserts n_samples_per_prompt > 1
    phase = orl.make_phase("grpo", group=1)
    job = JobSettings(init_path="m", n_prompts=8, total_steps=1, max_images=1, run_name="x")
    argv = build_command(phase, OpenRLHFOptions(vllm_engines=8), files(tmp_path), job)
    with pytest.raises(ContractError, match="n_samples_per_prompt > 1"):
        contract.validate(argv[3:])


SHIPPED = sorted((Path(__file__).resolve().parents[2] / "curricula").rglob("*.curr"))

# A cut-down copy of the example in docs/architecture.md §4, so the compiler → check → command path
# is exercised even before curricula ship.
DESIGN_EXAMPLE = r"""
curriculum see_then_think {
    model      "Qwen/Qwen3-VL-8B-Instruct"
    backend    openrlhf(zero_stage: 3)
    algorithm  grpo(group: 5, lr: 1e-6, kl: 0.01, temperature: 1.0, max_response_tokens: 2048)
    prompt     "{question} You FIRST think about the reasoning process ... put in \\boxed{}."
    reward     accuracy weight 0.9
    reward     format   weight 0.1
    stage perception {
        capability perception
        data       synthetic
        epochs     16
    }
    stage textual_reasoning {
        capability textual_reasoning
        data       synthetic
        freeze     vision
        epochs     15
    }
}
curriculum merged extends see_then_think {
    merge perception, textual_reasoning as all
}
"""


def test_every_shipped_curriculum_parses(contract, tmp_path):
    """Each curriculum of each shipped file (and the architecture's example), compiled for this backend, gives
    commands OpenRLHF accepts; one it cannot run (an `sft` stage) is refused with errors naming the phase."""
    from seethink_core.compiler import compile_path, list_curricula
    from seethink_core.errors import SeethinkError

    example = tmp_path / "design_example.curr"
    example.write_text(DESIGN_EXAMPLE)
    compiled = []
    for path in [example, *SHIPPED]:
        names = list_curricula(path)
        assert names, f"{path.name} defines no curriculum"
        for name in names:
            try:
                plan = compile_path(path, curriculum=name, backend="openrlhf")
            except SeethinkError as e:
                errs = [d.message for d in e.diagnostics if d.severity == "error"]
                assert errs and all("phase '" in m for m in errs), f"{path.name}:{name}: {errs}"
                continue
            for resume in (False, True):
                for phase_name, argv in commands_for(plan, tmp_path, resume=resume):
                    try:
                        contract.validate(argv[3:])
                    except ContractError as e:
                        pytest.fail(f"{path.name}:{name}/{phase_name}: {e}")
            compiled.append(f"{path.name}:{name}")
    assert "design_example.curr:see_then_think" in compiled and "design_example.curr:merged" in compiled


def test_default_options_make_a_runnable_command(contract, orl, tmp_path):
    plan = orl.make_plan(orl.paper_like_phases())  # `backend openrlhf()` with nothing set
    from seethink_openrlhf.checks import check_plan

    assert [d for d in check_plan(plan) if d.severity == "error"] == []
    args = contract.validate(commands_for(plan, tmp_path, resume=False)[0][1][3:])
    assert args.vllm.num_engines == 8 and args.actor.num_gpus_per_node == 8  # colocate all: one engine per GPU


def test_the_reference_recipe_draws_no_openrlhf_warning(contract, orl, tmp_path):
    for name, argv in commands_for(orl.curricula()["paper"], tmp_path, resume=False):
        assert contract.warnings(argv[3:]) == [], name

"""`curricula/paper.curr` is the reference's recipe: every official setting, against the plan and the command.

Each row of ``TABLE`` is one setting of the official code (``UCSC-VLAA/VLM-CapCurriculum`` and the EasyR1
defaults its scripts rely on), the file it comes from, and two checks: against the compiled plan, and
against the OpenRLHF 0.11.2 arguments the phase's command gives, parsed by OpenRLHF's own parser and
post-parse checks from the pinned wheel (the ``contract`` fixture). The commands come from a real
``seethink run --dry-run`` of paper.curr on this machine, which cannot reach the hub: the dry run must
still write every phase's command. docs/reference.md lists the settings and what still differs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest

from seethink_core.compiler import compile_path, list_curricula
from seethink_core.run.rundir import RunDir
from seethink_core.run.runner import Runner
from seethink_core.types.plan import Phase, TrainingPlan

PAPER = Path(__file__).parents[2] / "curricula" / "paper.curr"
PROMPT = ("{question|trim} You FIRST think about the reasoning process as an internal monologue and then provide "
          "the final answer. The reasoning process MUST BE enclosed within <think> </think> tags. The final answer "
          "MUST BE put in \\boxed{}. i.e. <thinking> reasoning here </thinking> \\boxed{final answer here}")
CONFIG = "training/configs/config.yaml"
ACTOR = "EasyR1 verl/workers/actor/config.py"
STAGE = "training/examples/qwen3_vl_8b/stage{1,2,3}_*.sh"


@dataclass(frozen=True)
class Row:
    setting: str
    official: str
    source: str
    plan: Callable[[TrainingPlan, Phase], bool]
    command: Callable[[Any, Phase], bool] | None = None  # None: not a job flag (the export or seethink does it)


def algo(p: Phase) -> Any:
    return p.algorithm


EPOCHS = {"perception": 16, "textual_reasoning": 15, "visual_reasoning": 15, "all": 15}
EVERY = {"perception": 24, "textual_reasoning": 100, "visual_reasoning": 60, "all": 180}  # val_freq 6/25/15/45 × 4
FROZEN = {"perception": False, "textual_reasoning": True, "visual_reasoning": False, "all": True}

TABLE: list[Row] = [
    Row("model", "Qwen/Qwen3-VL-8B-Instruct", "training/_env.sh VLMCC_BACKBONE_QWEN3_VL_8B",
        lambda plan, p: p.model == "Qwen/Qwen3-VL-8B-Instruct",
        lambda a, p: p.init_from != "base" or a.actor.model_name_or_path == "Qwen/Qwen3-VL-8B-Instruct"),
    Row("method", "GRPO (adv_estimator grpo)", f"{CONFIG} algorithm.adv_estimator",
        lambda plan, p: p.method == "grpo" and algo(p).std_normalize,
        lambda a, p: a.algo.advantage.estimator == "group_norm"),
    Row("group", "5", f"{CONFIG} worker.rollout.n",
        lambda plan, p: algo(p).group == 5, lambda a, p: a.rollout.n_samples_per_prompt == 5),
    Row("rollout temperature", "1.0", f"{CONFIG} worker.rollout.temperature",
        lambda plan, p: algo(p).temperature == 1.0, lambda a, p: a.rollout.temperature == 1.0),
    Row("rollout top_p", "1.0", f"{CONFIG} worker.rollout.top_p",
        lambda plan, p: algo(p).top_p == 1.0, lambda a, p: a.rollout.top_p == 1.0),
    Row("KL", "as a loss, low_var_kl (k3), coef 0.01", f"{CONFIG} algorithm.use_kl_loss/kl_penalty/kl_coef",
        lambda plan, p: (algo(p).kl, algo(p).kl_estimator, algo(p).kl_mode) == (0.01, "k3", "loss"),
        lambda a, p: a.algo.kl.use_loss and a.algo.kl.estimator == "k3" and a.algo.kl.init_coef == 0.01),
    Row("KL reference", "the stage's starting weights", "EasyR1 ref worker built from the actor's model_path",
        lambda plan, p: p.handoff.reference == "phase_init", None),
    Row("learning rate", "1e-6, constant, no warm-up", f"{CONFIG} worker.actor.optim.lr/lr_warmup_ratio; "
        f"{ACTOR} lr_scheduler_type",
        lambda plan, p: (algo(p).lr, algo(p).warmup_steps, algo(p).schedule) == (1e-6, 0, "constant"),
        lambda a, p: a.actor.adam.lr == 1e-6 and a.actor.lr_warmup_ratio == 0.0
        and a.actor.lr_scheduler == "constant_with_warmup"),
    Row("weight decay", "0.01", f"{CONFIG} worker.actor.optim.weight_decay",
        lambda plan, p: algo(p).weight_decay == 0.01, lambda a, p: a.actor.adam.weight_decay == 0.01),
    Row("AdamW betas", "(0.9, 0.999)", f"{ACTOR} OptimConfig.betas",
        lambda plan, p: (algo(p).adam_beta1, algo(p).adam_beta2) == (0.9, 0.999),
        lambda a, p: list(a.actor.adam.betas) == [0.9, 0.999]),
    Row("grad-norm clip", "1.0", f"{CONFIG} worker.actor.max_grad_norm",
        lambda plan, p: algo(p).max_grad_norm == 1.0, lambda a, p: a.actor.max_norm == 1.0),
    Row("rollout batch", "512 prompts", f"{CONFIG} data.rollout_batch_size",
        lambda plan, p: algo(p).rollout_batch_size == 512, lambda a, p: a.rollout.batch_size == 512),
    Row("update batch", "128 prompts", f"{CONFIG} worker.actor.global_batch_size",
        lambda plan, p: algo(p).batch_size == 128, lambda a, p: a.train.batch_size == 128 * 5),
    Row("whole rollout batches", "each epoch drops its last partial rollout batch",
        "EasyR1 verl/trainer/data_loader.py StatefulDataLoader(drop_last=True)",
        lambda plan, p: algo(p).drop_last, None),
    Row("PPO epochs", "1", f"{ACTOR} ppo_epochs",
        lambda plan, p: algo(p).update_epochs == 1, lambda a, p: a.train.max_epochs == 1),
    Row("PPO clip", "low 0.2, high 0.3", f"{ACTOR} clip_ratio_low/clip_ratio_high",
        lambda plan, p: (algo(p).clip_low, algo(p).clip_high) == (0.2, 0.3),
        lambda a, p: list(a.actor.eps_clip_low_high) == [0.2, 0.3]),
    Row("dual clip", "c = 3.0", f"{ACTOR} clip_ratio_dual",
        lambda plan, p: algo(p).dual_clip == 3.0, lambda a, p: a.actor.dual_clip == 3.0),
    Row("loss aggregation", "token mean", f"{ACTOR} loss_avg_mode: token",
        lambda plan, p: algo(p).loss_agg == "token_mean", lambda a, p: a.actor.loss_agg_mode == "token-mean"),
    Row("precision", "bf16 parameters (fp32 master weights on OpenRLHF: docs/reference.md)",
        f"{STAGE} worker.actor.fsdp.torch_dtype=bf16, optim.strategy=adamw_bf16",
        lambda plan, p: plan.backend_of(p).options.get("param_dtype") == "bf16",
        lambda a, p: a.ds.param_dtype == "bf16"),
    Row("lengths", "prompt 2048, response 2048", f"{CONFIG} data.max_prompt_length/max_response_length",
        lambda plan, p: (algo(p).max_prompt_tokens, algo(p).max_response_tokens) == (2048, 2048),
        lambda a, p: a.data.max_len == 4096 and a.rollout.max_new_tokens == 2048),
    Row("overlong prompts", "dropped", f"{CONFIG} data.filter_overlong_prompts: true",
        lambda plan, p: algo(p).overlong_prompts == "drop", None),
    Row("image pixels", "min 262144, max 4194304", f"{CONFIG} data.min_pixels/max_pixels",
        lambda plan, p: (algo(p).min_pixels, algo(p).max_pixels) == (262144, 4194304), None),
    Row("seed", "1", f"{CONFIG} data.seed",
        lambda plan, p: p.seed == 1, lambda a, p: a.train.seed == 1),
    Row("epochs", "16 / 15 / 15; merged 15", f"{STAGE} trainer.total_epochs; merged_baseline.sh",
        lambda plan, p: p.budget.epochs == EPOCHS[p.name], None),
    Row("vision tower", "trained in stages 1 and 3, frozen in stage 2 and merged",
        f"{STAGE} worker.actor.model.freeze_vision_tower",
        lambda plan, p: ("vision" in p.freeze) == FROZEN[p.name],
        lambda a, p: bool(a.actor.freeze_visual_encoder) == FROZEN[p.name]),
    Row("vLLM", "tensor parallel 1, memory 0.7", f"{STAGE} worker.rollout.tensor_parallel_size/gpu_memory_utilization",
        lambda plan, p: True, lambda a, p: a.vllm.tensor_parallel_size == 1 and a.vllm.gpu_memory_utilization == 0.7),
    Row("reward", "0.9·accuracy + 0.1·format", "training/reward_functions/math.py compute_score(format_weight=0.1)",
        lambda plan, p: [(r.name, r.weight) for r in p.rewards] == [("accuracy", 0.9), ("format", 0.1)]
        and p.rewards[0].options["strict"] and p.rewards[0].options["grader"] == "mathruler"
        and p.rewards[1].options["pattern"] == r"<think>.*</think>.*\\boxed\{.*\}.*"
        and p.rewards[0].options["strip_tag_spaces"] and p.rewards[1].options["strip_tag_spaces"], None),
    Row("prompt", "question trimmed, then the instruction ending with the i.e. part",
        "training/format_prompts/math.jinja", lambda plan, p: p.prompt == PROMPT and p.system is None, None),
    Row("hand-off", "weights only; optimizer, schedule, KL reference restart", "one EasyR1 job per stage script",
        lambda plan, p: (p.handoff.init, p.handoff.optimizer) == ("previous", "reset")
        and (p.init_from == "base") == (p.index == 0), None),
    Row("validation", "geometry3k test, T 0.6, top_p 0.95, n 1, before training",
        f"{STAGE} data.val_files; {CONFIG} worker.rollout.val_override_config, trainer.val_before_train",
        lambda plan, p: p.eval is not None and [d.source for d in p.eval.sets] == ["geometry3k"]
        and p.eval.sets[0].options.get("split") == "test"
        and (p.eval.greedy, p.eval.temperature, p.eval.top_p, p.eval.n, p.eval.before) == (False, 0.6, 0.95, 1, True),
        # OpenRLHF validates inside the job (top_p there is the rollout's: docs/reference.md).
        lambda a, p: a.eval.dataset.endswith("eval.jsonl") and a.eval.temperature == 0.6
        and a.eval.n_samples_per_prompt == 1 and a.data.max_images_per_prompt >= 1),
    Row("validation cadence", "every 6 / 25 / 15 rollout steps; merged 45", f"{STAGE} trainer.val_freq",
        lambda plan, p: p.eval is not None and p.eval.every_steps == EVERY[p.name],
        lambda a, p: a.eval.steps == EVERY[p.name] // 4),
]


def _dry_run(plan: TrainingPlan, root: Path) -> dict[str, list[str]]:
    Runner(plan, RunDir(root), dry_run=True).run()
    out = {}
    for phase in plan.phases:
        record = json.loads((RunDir(root).phase_dir(phase) / "dry_run.json").read_text())
        command = RunDir(root).phase_dir(phase) / "openrlhf" / "command.json"
        out[phase.name] = json.loads(command.read_text())["argv"] if command.exists() else []
        assert record["phase"] == phase.name
        # The next phase starts from this one's final folder, never from the one it writes into.
        assert record["checkpoint"] == str(RunDir(root).checkpoint_dir(phase))
    return out


@pytest.fixture(scope="module")
def offline(tmp_path_factory):
    """The hub is out of reach, as on a cluster's login node without network (and on this machine)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("HF_DATASETS_OFFLINE", "1")
    yield tmp_path_factory.mktemp("fidelity")
    mp.undo()


def _flags(argv: list[str]) -> list[str]:
    start = argv.index("-m") + 2  # past `python -m MODULE`
    return argv[start:]


@pytest.mark.parametrize("curriculum", ["see_then_think", "merged"])
def test_every_official_setting_holds_in_the_plan_and_the_command(curriculum, contract, offline):
    plan = compile_path(PAPER, curriculum=curriculum)
    commands = _dry_run(plan, offline / curriculum)
    assert [p.name for p in plan.phases] == (["all"] if curriculum == "merged" else
                                             ["perception", "textual_reasoning", "visual_reasoning"])
    failures = []
    for phase in plan.phases:
        args = contract.validate(_flags(commands[phase.name]))
        for row in TABLE:
            if not row.plan(plan, phase):
                failures.append(f"{phase.name}: plan: {row.setting} (official {row.official}; {row.source})")
            if row.command is not None and not row.command(args, phase):
                failures.append(f"{phase.name}: command: {row.setting} (official {row.official}; {row.source})")
    assert failures == []


def test_every_curriculum_of_paper_curr_dry_runs_offline_and_its_commands_parse(contract, offline):
    """caption_sft trains its SFT stage on the local backend (described, not trained) and hands over to
    OpenRLHF; no OpenRLHF order warning remains for the difficulty rows."""
    from seethink_core.compiler import check_paths

    [checked] = check_paths([PAPER])
    assert checked.ok
    assert [d.message for d in checked.diagnostics if "shuffles" in d.message] == []
    names = list_curricula(PAPER)
    assert {"see_then_think", "merged", "caption_sft", "difficulty_only", "capability_x_difficulty",
            "capability_x_difficulty_staged", "capability_x_difficulty_filtered"} <= set(names)
    for name in names:
        plan = compile_path(PAPER, curriculum=name)
        root = offline / f"all-{name}"
        commands = _dry_run(plan, root)
        for phase in plan.phases:
            record = json.loads((RunDir(root).phase_dir(phase) / "dry_run.json").read_text())
            assert record["data_missing"], f"{name}/{phase.name}: the hub should be out of reach here"
            if plan.backend_of(phase).name == "openrlhf":
                args = contract.validate(_flags(commands[phase.name]))
                if phase.init_from != "base":
                    prev = RunDir(root).checkpoint_dir(plan.phase(phase.init_from))
                    assert args.actor.model_name_or_path == str(prev.absolute())
            else:
                assert name == "caption_sft" and phase.method == "sft" and commands[phase.name] == []


def test_caption_sft_trains_its_sft_stage_on_the_local_backend():
    plan = compile_path(PAPER, curriculum="caption_sft")
    sft, textual, visual = plan.phases
    assert plan.backend.name == "openrlhf"
    assert sft.method == "sft" and plan.backend_of(sft).name == "local"
    assert plan.backend_of(sft).options["param_dtype"] == "bfloat16"
    assert plan.backend_of(textual).name == plan.backend_of(visual).name == "openrlhf"
    assert textual.init_from == "perception"


def test_capability_x_difficulty_is_one_stitched_job_as_the_official_script():
    """training/examples/curriculum/qwen3_vl_8b_capability_x_difficulty.sh: one 15-epoch job, data
    perception → text → visual, each block sorted easy → hard, vision frozen, unshuffled."""
    plan = compile_path(PAPER, curriculum="capability_x_difficulty")
    [phase] = plan.phases
    assert phase.mixture == "blocks" and phase.difficulty.order == "easy_to_hard"
    assert [d.source for d in phase.data] == ["capcurriculum_perception", "capcurriculum_text",
                                               "capcurriculum_visual"]
    assert phase.freeze == ["vision"] and phase.budget.epochs == 15 and phase.init_from == "base"
    staged = compile_path(PAPER, curriculum="capability_x_difficulty_staged")
    assert [p.name for p in staged.phases] == ["perception", "textual_reasoning", "visual_reasoning"]
    assert all(p.difficulty.order == "easy_to_hard" and p.mixture == "interleave" for p in staged.phases)

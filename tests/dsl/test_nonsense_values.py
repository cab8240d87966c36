"""Nonsense values do not compile quietly (issue 17): each is an error, or a positioned warning where
the value is legal but almost surely a mistake, with a message that says why (docs/dsl.md, *Value checks*).

Compiled against the installed first-party plugins: reward score ranges, synthetic families and the
format reward's regex check are theirs.
"""

from __future__ import annotations

import re

import pytest
from seethink_rewards.backtracking import backtracking_problem
from seethink_rewards.schemas import REFERENCE_FORMAT
from seethink_synthetic.options import SyntheticOptions

from seethink_core.compiler import _registry
from seethink_core.compiler.curriculum import compile_unit
from seethink_core.compiler.loader import Loader
from seethink_core.errors import Diagnostic, DslError
from seethink_core.types.options import validate


def curriculum(stage: str = "", algo: str = "group: 4", reward: str = "reward accuracy", data: str = "synthetic",
               top: str = "", budget: str = "steps 100") -> str:
    """A small curriculum; the lines hold (1-based): 3 algorithm, 4 reward, 5 top, 7 data, 8 stage, 9 budget."""
    return f'''curriculum c {{
    model "tiny-vlm"
    algorithm grpo({algo})
    {reward}
    {top}
    stage s {{
        data {data}
        {stage}
        {budget}
    }}
}}
'''


def diagnostics(text: str) -> list[Diagnostic]:
    """Errors (from the DslError) or, when the plan compiles, its warnings."""
    warnings: list[Diagnostic] = []
    try:
        compile_unit(Loader().load_text(text, "t.curr"), _registry(None), warnings=warnings)
    except DslError as e:
        return e.diagnostics
    return warnings


CASES = [
    # (id, curriculum, severity, line, col, message)
    ("lr_zero", curriculum(algo="lr: 0"), "error", 3, 24, "method 'grpo': option 'lr' must be above 0, not 0"),
    ("lr_above_one", curriculum(algo="lr: 2"), "error", 3, 24, "method 'grpo': option 'lr' must be at most 1, not 2"),
    ("rollout_temperature_zero", curriculum(algo="temperature: 0"), "error", 3, 33,
     "method 'grpo': option 'temperature' must be above 0, not 0"),
    ("eval_temperature_zero", curriculum(top="eval settings temperature: 0"), "error", 5, 32,
     "eval settings: temperature 0 does not sample"),
    ("eval_sampled_temperature_zero", curriculum(top="eval settings greedy: false, temperature: 0"), "error", 5, 47,
     "eval settings: temperature 0 does not sample"),
    ("top_p_zero", curriculum(algo="top_p: 0"), "error", 3, 27, "method 'grpo': option 'top_p' must be above 0, not 0"),
    ("eval_top_p_zero", curriculum(top="eval settings top_p: 0"), "error", 5, 26,
     "eval settings: option 'top_p' must be above 0, not 0"),
    ("clip_low_one", curriculum(algo="clip_low: 1"), "error", 3, 30,
     "method 'grpo': option 'clip_low' must be below 1, not 1"),
    ("batch_above_rollout", curriculum(algo="batch_size: 64, rollout_batch_size: 32"), "error", 3, 32,
     "method 'grpo': option 'batch_size' (64) must not be above 'rollout_batch_size' (32)"),
    ("default_batch_above_rollout", curriculum(algo="rollout_batch_size: 32"), "error", 3, 5,
     "method 'grpo': option 'batch_size' (128) must not be above 'rollout_batch_size' (32)"),
    ("warmup_whole_phase", curriculum(algo="warmup_steps: 100"), "error", 3, 34,
     "stage 's': warmup_steps 100 is not shorter than the phase (100 steps)"),
    ("data_weights_overflow", curriculum(data="synthetic weight 1e308", stage="data synthetic weight 1e308"),
     "error", 8, 14, "the data weights add up to more than the largest number (about 1.8e308)"),
    ("data_weight_negligible", curriculum(stage="data synthetic(count: 5) weight 1e-9"), "warning", 8, 14,
     "data source 'synthetic' has weight 1e-09, 1e-09 of the data weights: it has next to no effect"),
    ("reward_weights_overflow", curriculum(reward="reward accuracy weight 1e308 reward format weight 1e308"),
     "error", 4, 34, "the reward weights add up to more than the largest number (about 1.8e308)"),
    ("reward_weight_negligible", curriculum(reward="reward accuracy reward format weight 1e-9"), "warning", 4, 21,
     "reward 'format' has weight 1e-09, 1e-09 of the reward weights: it has next to no effect"),
    ("seed_statement_negative", curriculum(stage="seed -1"), "error", 8, 14,
     "seed must be between 0 and 2^63-1, not -1"),
    ("seed_statement_too_big", curriculum(stage="seed 9223372036854775808"), "error", 8, 14,
     "seed must be between 0 and 2^63-1, not 9223372036854775808"),
    ("seed_option_negative", curriculum(data="synthetic(seed: -5)"), "error", 7, 30,
     "data source 'synthetic': option 'seed' must be between 0 and 2^63-1, not -5"),
    ("until_above_reward_range", curriculum(budget="until reward.accuracy >= 2 or steps 100"), "error", 9, 34,
     "until reward.accuracy >= 2 can never hold: reward.accuracy lies in [0, 1]"),
    ("until_below_reward_range", curriculum(budget="until reward.accuracy > -1 or steps 100"), "error", 9, 33,
     "until reward.accuracy > -1 always holds: reward.accuracy lies in [0, 1]"),
    ("until_above_total_range", curriculum(budget="until reward.total >= 1.5 or steps 100"), "error", 9, 31,
     "until reward.total >= 1.5 can never hold: reward.total lies in [0, 1]"),
    ("until_unknown_reward", curriculum(budget="until reward.acuracy >= 0.5 or steps 100"), "error", 9, 15,
     "until: no reward of this phase logs 'reward.acuracy'"),
    ("until_eval_metric", curriculum(budget="until eval.accuracy >= 0.5 or steps 100"), "warning", 9, 15,
     "until eval.accuracy never holds: the phase's stop check sees the metrics of each training step, and "
     "evaluation metrics are not among them"),
    ("until_unknown_metric", curriculum(budget="until los <= 0.5 or steps 100"), "warning", 9, 15,
     "until: no backend seethink knows logs metric 'los'"),
    ("until_window_above_cap", curriculum(budget="until reward.accuracy >= 0.5 or steps 100 window 200"),
     "error", 9, 58, "stage 's': until window 200 is longer than the phase (100 steps)"),
    ("until_min_steps_at_cap", curriculum(budget="until reward.accuracy >= 0.5 or steps 100 min_steps 100"),
     "error", 9, 61, "stage 's': until min_steps 100 is not below the phase's 100 steps"),
    ("capability_typo", curriculum(stage="capability perceptoin"), "error", 8, 20,
     "unknown capability 'perceptoin'"),
    ("capability_custom", curriculum(stage="capability counting"), "warning", 8, 20,
     "capability 'counting' is not one of the known capabilities (perception, textual_reasoning, "
     "visual_reasoning)"),
    ("synthetic_family_typo", curriculum(data="synthetic(families: [cuont])"), "error", 7, 34,
     "data source 'synthetic': option 'families': unknown family 'cuont'"),
    ("answer_in_prompt", curriculum(top='prompt "{question} answer: {answer}"'), "error", 5, 32,
     "{answer} would put the gold answer in the prompt"),
    ("format_invalid_regex", curriculum(reward='reward format(pattern: "(a")'), "error", 4, 28,
     "reward 'format': option 'pattern' is not a valid regular expression: missing ), unterminated subpattern "
     "at position 0"),
    ("format_nested_repeat", curriculum(reward='reward format(pattern: "(a+)+$")'), "error", 4, 28,
     "reward 'format': option 'pattern' can backtrack without bound: a repeat inside a repeated group can give "
     "up characters to what follows it, so a failing match tries every way of splitting them"),
    ("format_overlapping_alternation", curriculum(reward='reward format(pattern: "(a|a)*")'), "error", 4, 28,
     "reward 'format': option 'pattern' can backtrack without bound: a repeated alternation has branches that "
     "can match the same text"),
    ("freeze_every_tower", curriculum(stage="freeze vision, projector, language"), "error", 8, 9,
     "freeze vision, projector, language leaves nothing to train"),
    ("pass_rate_threshold_above_one", curriculum(stage="difficulty pass_rate(threshold: 1.5)"), "error", 8, 41,
     "difficulty pass_rate: threshold 1.5 is outside (0, 1], the scores of reward 'accuracy'"),
    ("pass_rate_threshold_zero", curriculum(stage="difficulty pass_rate(threshold: 0)"), "error", 8, 41,
     "difficulty pass_rate: threshold 0 is outside (0, 1], the scores of reward 'accuracy'"),
    ("pass_rate_temperature_zero", curriculum(stage="difficulty pass_rate(temperature: 0)"), "error", 8, 43,
     "difficulty pass_rate: temperature 0 does not sample"),
    ("pacing_full_at_zero", curriculum(stage="pacing linear(full_at: 0)"), "error", 8, 32,
     "pacing linear: option 'full_at' must be above 0, not 0"),
    ("pacing_start_one", curriculum(stage="pacing linear(start: 1)"), "error", 8, 30,
     "pacing linear: option 'start' must be below 1, not 1"),
]


@pytest.mark.parametrize("text,severity,line,col,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_nonsense_value(text, severity, line, col, message):
    found = diagnostics(text)
    assert [(d.severity, d.pos.line, d.pos.col, d.message) for d in found] == [(severity, line, col, message)]
    assert found[0].hint  # every one says why, or what to write instead


@pytest.mark.parametrize("text,hint", [
    (curriculum(stage="capability perceptoin"), "did you mean 'perception'?"),
    (curriculum(data="synthetic(families: [cuont])"), "did you mean 'count'?"),
    (curriculum(budget="until reward.acuracy >= 0.5 or steps 100"), "did you mean 'reward.accuracy'?"),
    (curriculum(budget="until los <= 0.5 or steps 100"), "did you mean 'loss'?"),
    (curriculum(top="eval settings temperature: 0"),
     "for greedy decoding write greedy: true; to sample, give a temperature above 0"),
])
def test_did_you_mean_and_what_to_write(text, hint):
    [d] = diagnostics(text)
    assert d.hint == hint


def test_every_seed_option_has_the_seed_bounds():
    _, problems = validate(SyntheticOptions, {"seed": 2**63}, what="data source 'synthetic'")
    assert [p.message for p in problems] == [
        "data source 'synthetic': option 'seed' must be between 0 and 2^63-1, not 9223372036854775808"]
    obj, problems = validate(SyntheticOptions, {"seed": 2**63 - 1})
    assert problems == [] and obj.seed == 2**63 - 1


def test_sensible_values_still_compile():
    text = curriculum(algo="lr: 1, warmup_steps: 99, batch_size: 32, rollout_batch_size: 32, clip_low: 0.99",
                      reward='reward accuracy weight 0.9 reward format(pattern: "<think>.*</think>.*") weight 0.1',
                      top="eval settings greedy: true", data="synthetic(families: [count, color], seed: 0)",
                      stage="capability perception freeze vision, projector difficulty pass_rate(threshold: 1) "
                            "pacing linear(start: 0, full_at: 1)",
                      budget="until reward.accuracy >= 1 or reward.total > 0 or steps 100 window 100 min_steps 99")
    assert diagnostics(text) == []


@pytest.mark.parametrize("pattern", [r"(a+)+$", r"(a*)*", r"(a|a)*", r"(x+x+)+y", r"(\d+\.?)+", r"(\s*\w+)+",
                                     r"^(([a-z])+.)+[A-Z]([a-z])+$", r"(?:[^<]+|<)*", r"(a|a?)+", r"(.*a){12}"])
def test_backtracking_patterns_are_found(pattern):
    assert backtracking_problem(pattern, re.DOTALL)


@pytest.mark.parametrize("pattern", [REFERENCE_FORMAT, r"<think>.*</think>.*", r"\w+(\s\w+)*", r"(ab*)*c",
                                     r"(a|ab)*c", r"(a|b)*", r"(?>a+)+", r"(a++)+", r"(a{2})*", r"(?:\d+,)*\d+",
                                     r"[^x]*x"])
def test_safe_patterns_pass(pattern):
    assert backtracking_problem(pattern, re.DOTALL) is None

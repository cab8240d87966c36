"""Entry point of the seethink first-party plugin 'rewards'. Imports nothing heavy: factories are
``"module:attr"`` strings, loaded only when a reward is built."""

from __future__ import annotations

from collections.abc import Callable

from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import RewardSpec
from seethink_rewards import schemas

_ANSWER = frozenset({"answer"})


@hookimpl
def register_rewards(register: Callable[..., None]) -> None:
    register(RewardSpec(
        name="format", options=schemas.FormatOptions, needs=frozenset(),
        factory="seethink_rewards.formatting:Format",
        doc="1 when the whole response has the required shape (default: <think>…</think> then \\boxed{…})"))
    register(RewardSpec(
        name="accuracy", options=schemas.AccuracyOptions, needs=_ANSWER,
        factory="seethink_rewards.accuracy:Accuracy",
        doc="1 when the final answer equals the gold one: option letters, numbers, then math equivalence "
            "(seethink's bounded grader by default; mathruler / math-verify); too complex answers score 0"))
    register(RewardSpec(
        name="choice", options=schemas.ChoiceOptions, needs=_ANSWER,
        factory="seethink_rewards.choice:Choice",
        doc="1 when the chosen multiple-choice option (B, (B), B., B: text, or the option text) is the gold one"))
    register(RewardSpec(
        name="numeric", options=schemas.NumericOptions, needs=_ANSWER,
        factory="seethink_rewards.numeric:Numeric",
        doc="1 when the answer's number is within a relative or absolute tolerance of the gold number"))
    register(RewardSpec(
        name="iou", options=schemas.IouOptions, needs=_ANSWER,
        factory="seethink_rewards.boxes:Iou",
        doc="intersection over union of a predicted box [x1, y1, x2, y2] with the gold box, "
            "or a hit above a threshold"))
    register(RewardSpec(
        name="count", options=schemas.CountOptions, needs=_ANSWER,
        factory="seethink_rewards.count:Count",
        doc="1 for the right count (digits or number words), or partial credit by relative error"))
    register(RewardSpec(
        name="length", options=schemas.LengthOptions, needs=frozenset(),
        factory="seethink_rewards.length:Length",
        doc="penalise long responses, or reward closeness to a target length (in tokens)"))
    register(RewardSpec(
        name="overlong", options=schemas.OverlongOptions, needs=frozenset(),
        factory="seethink_rewards.length:Overlong",
        doc="DAPO's soft overlong penalty: 0 until max - buffer tokens, then linear to -penalty at max"))

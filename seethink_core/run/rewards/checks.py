"""Preflight's reward check: does the gold answer get the maximum and a wrong answer less?"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from seethink_core.run.rewards.combine import CombinedReward
from seethink_core.types.sample import Sample


@dataclass(frozen=True)
class RewardCheck:
    reward: str
    gold: float | None  # the component's score for a well-formed completion with the gold answer
    wrong: float | None  # ... and with a wrong answer
    problem: str | None = None  # None when the reward behaves

    @property
    def ok(self) -> bool:
        return self.problem is None


_LETTER = re.compile(r"^[(\[]?([A-Z])[)\]]?\.?$")
_BOX = re.compile(r"^\[\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\]$")


def gold_completion(answer: str) -> str:
    """A completion in the reference format that gives ``answer``."""
    return f"<think>Let me look carefully and reason step by step.</think> The answer is \\boxed{{{answer}}}."


def wrong_answer(sample: Sample) -> str:
    """An answer to ``sample`` that no grader should accept: another option, another number, a box
    beside the gold one, or the gold expression plus one."""
    gold = (sample.answer or "").strip()
    choices = sample.meta.get("choices") if isinstance(sample.meta, dict) else None
    m = _LETTER.match(gold)
    if m or (choices and gold in [str(c) for c in choices]):
        n = len(choices) if choices else 4
        k = ord(m.group(1)) - 65 if m else [str(c) for c in choices].index(gold)
        return chr(65 + (k + 1) % max(n, 2))
    b = _BOX.match(gold)
    if b:
        x1, y1, x2, y2 = (float(v) for v in b.groups())
        shift = (x2 - x1) + 1
        return f"[{x1 + shift:g}, {y1:g}, {x2 + shift:g}, {y2:g}]"
    try:
        value = float(gold.replace(",", ""))
    except ValueError:
        return f"{gold}+1" if gold else "1"
    if not math.isfinite(value):
        return "1"
    # Every digit written out: ``:g`` keeps six, so 1,000,000 + 1 printed as 1e+06, the gold itself.
    return str(int(value) + 1) if value.is_integer() and abs(value) < 1e15 else repr(value + 1)


def check_reward_maximum(reward: CombinedReward, sample: Sample, *,
                         max_response_tokens: int = 2048) -> list[RewardCheck]:
    """Score the gold answer and a wrong one on ``sample`` with every component of ``reward``.

    A component that grades the answer must give the gold answer its maximum (``max_value`` when
    the reward declares one) and the wrong answer less; one that reports ``None`` for the gold
    answer cannot grade this sample's answers. The total must also prefer the gold answer.
    """
    if sample.answer is None:
        return [RewardCheck("total", None, None, f"sample '{sample.id}' has no answer to check the rewards with")]
    texts = [gold_completion(sample.answer), gold_completion(wrong_answer(sample))]
    tokens = [len(t.split()) for t in texts]
    batch = reward([sample.prompt] * 2, texts, [sample, sample], completion_tokens=tokens,
                   max_response_tokens=max_response_tokens)
    out: list[RewardCheck] = []
    for c in reward.components:
        gold, wrong = batch.components[c.name]
        problem = None
        if batch.failures.get(c.name):
            problem = reward.last_errors.get(c.name, f"reward '{c.name}' failed")
        elif "answer" in c.needs:
            best = getattr(c.fn, "max_value", None)
            if gold is None:
                problem = f"reward '{c.name}' is not applicable to the gold answer {sample.answer!r}"
            elif best is not None and abs(gold - best) > 1e-9:
                problem = (f"reward '{c.name}' gives the gold answer {sample.answer!r} {gold:g}, "
                           f"not its maximum {best:g}")
            elif wrong is not None and wrong >= gold:
                problem = (f"reward '{c.name}' gives a wrong answer ({wrong_answer(sample)!r}) {wrong:g}, "
                           f"no less than the gold answer's {gold:g}")
        out.append(RewardCheck(c.name, gold, wrong, problem))
    graded = any("answer" in c.needs for c in reward.components)
    total_problem = None
    if graded and not batch.total[1] < batch.total[0]:
        total_problem = (f"the total reward gives a wrong answer {batch.total[1]:g}, "
                         f"no less than the gold answer's {batch.total[0]:g}")
    out.append(RewardCheck("total", batch.total[0], batch.total[1], total_problem))
    return out

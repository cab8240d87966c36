"""The visual-math benchmarks' scoring rules, one response at a time, and WeMath's four dimensions.

Each ``score_*`` takes a sample as its adapter reads it (``seethink_data``: the benchmark's fields in
``meta``) and one response, and says whether it is right and what answer it read. The rules follow
the official evaluators (VLMEvalKit and lmms-eval were read; see docs/eval.md for the differences):

- MathVista: a multiple-choice answer becomes an option text (by letter, else the most similar
  option by edit distance, as MathVista's ``normalize_extracted_answer`` does); an ``integer`` answer
  is ``str(int(x))``, a ``float`` one ``str(round(x, precision))``, compared as strings with the gold.
- MathVision: the option letter, or the answer compared by MathVision's ``is_equal`` (text, or
  numbers within 1e-6).
- MathVerse: the option letter, or the answer compared as MathVision's (the official scorer asks an
  LLM whether the two agree; the exact match is its first check).
- WeMath: each sub-problem and composite problem is a multiple-choice question; ``wemath_dimensions``
  folds them into IK / IG / CM / RM and the strict and loose scores (VLMEvalKit ``wemath.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from seethink_core.types.sample import Sample
from seethink_eval.extraction import LETTERS, Extraction, answer_text
from seethink_eval.mathcheck import math_equal, most_similar, normalise_text, to_number


@dataclass(frozen=True)
class Scored:
    correct: bool
    extracted: str | None  # the answer as the scorer read it (an option text, a letter, a number)


def _choices(sample: Sample) -> list[str]:
    return [str(c) for c in sample.meta.get("choices") or []]


def score_mathvista(sample: Sample, response: str, ex: Extraction) -> Scored:
    meta, gold = sample.meta, str(sample.answer or "").strip()
    if meta.get("question_type") == "multi_choice":
        choices = _choices(sample)
        if not choices:
            return Scored(False, None)
        letter = ex.letter(sample.prompt, response, choices)
        if letter is not None and LETTERS.index(letter) < len(choices):
            pred = choices[LETTERS.index(letter)]
        else:  # the official scorer always lands on an option: the nearest one
            text = answer_text(response)
            pred = text if text in choices else most_similar(text, choices)
        return Scored(pred == gold, pred)
    text = ex.answer(sample.prompt, response)
    kind = meta.get("answer_type")
    if kind in ("integer", "float"):
        number = to_number(text)
        if number is None:
            return Scored(False, None)
        pred = str(int(number)) if kind == "integer" else str(round(number, int(meta.get("precision") or 0)))
        return Scored(pred == gold, pred)
    if kind == "list":  # "[2007, 2008]": spaces do not matter
        return Scored(normalise_text(text) == normalise_text(gold), text)
    return Scored(text.strip() == gold, text.strip())


def score_mathvision(sample: Sample, response: str, ex: Extraction) -> Scored:
    gold = str(sample.answer or "").strip()
    choices = _choices(sample)
    if choices:
        letter = ex.letter(sample.prompt, response, choices)
        if letter is None:  # an option's value instead of its letter
            text = answer_text(response)
            hits = [LETTERS[i] for i, c in enumerate(choices) if math_equal(text, c)]
            letter = hits[0] if len(hits) == 1 else None
        return Scored(letter is not None and letter == gold.upper(), letter)
    text = ex.answer(sample.prompt, response)
    return Scored(math_equal(text, gold), text)


_CHOICES_BLOCK = re.compile(r"Choices:\s*(.*)$", re.S | re.I)
_CHOICE_LINE = re.compile(r"^\s*\(?([A-H])\)?\s*[:.]\s*(.*?)\s*$")


def choices_in(text: str) -> list[str]:
    """Option texts listed after "Choices:" one per line (``A:2``, ``B. 2√3``), A first."""
    m = _CHOICES_BLOCK.search(text or "")
    if not m:
        return []
    out: list[str] = []
    for line in m.group(1).splitlines():
        got = _CHOICE_LINE.match(line)
        if got and got.group(1) == LETTERS[len(out)]:
            out.append(got.group(2))
    return out


def score_mathverse(sample: Sample, response: str, ex: Extraction) -> Scored:
    gold = str(sample.answer or "").strip()
    if str(sample.meta.get("question_type", "")).startswith("multi"):
        choices = _choices(sample) or choices_in(sample.meta.get("question_for_eval") or sample.prompt)
        letter = ex.letter(sample.prompt, response, choices or ("",) * 5)
        return Scored(letter is not None and letter == gold.upper(), letter)
    text = ex.answer(sample.prompt, response)
    return Scored(math_equal(text, gold), text)


def score_wemath(sample: Sample, response: str, ex: Extraction) -> Scored:
    gold = str(sample.answer or "").strip().upper()
    letter = ex.letter(sample.prompt, response, _choices(sample))
    return Scored(letter == gold, letter)


# --- WeMath's four dimensions -------------------------------------------------------------------

@dataclass(frozen=True)
class WeMathRow:
    """One scored row: its composite problem (``ID``), its ``key`` (``2steps_1``, ``3steps_multi``)."""

    problem: str
    key: str
    correct: bool


def _problems(rows: Iterable[WeMathRow]) -> tuple[list[tuple[list[bool], bool]], int]:
    """Complete composite problems as (sub-step results in order, composite result); and how many
    problems were left out because a part is missing (the official merge drops those too)."""
    parts: dict[tuple[int, str], dict[str, bool]] = {}
    for r in rows:
        m = re.match(r"^(\d+)steps?_(\w+)$", r.key.strip())
        if not m or int(m.group(1)) < 2:
            continue
        parts.setdefault((int(m.group(1)), r.problem), {})[m.group(2)] = r.correct
    out, incomplete = [], 0
    for (steps, _), got in sorted(parts.items()):
        wanted = [str(i) for i in range(1, steps + 1)]
        if all(w in got for w in wanted) and "multi" in got:
            out.append(([got[w] for w in wanted], got["multi"]))
        else:
            incomplete += 1
    return out, incomplete


def wemath_dimensions(rows: Sequence[WeMathRow]) -> dict[str, float]:
    """IK, IG, CM, RM (counts and rates) and the strict and loose scores over the composite problems.

    Per problem: IK (insufficient knowledge) = a step wrong and the whole wrong; IG (inadequate
    generalisation) = every step right, the whole wrong; CM (complete mastery) = the whole right with
    every step right (strict) or any step right (loose); RM (rote memorisation) = the whole right with
    a step wrong (strict) or every step wrong (loose). IK, IG and CM are rates over the N problems, RM
    over CM + RM; score = (N − 0.5·IG − RM − IK) / N. N is the number of complete problems (525 on the
    full testmini, the official constant)."""
    problems, incomplete = _problems(rows)
    n = len(problems)
    if not n:
        return {}
    ig = sum(all(s) and not whole for s, whole in problems)
    ik = sum(not all(s) and not whole for s, whole in problems)
    cm = {"strict": sum(all(s) and whole for s, whole in problems),
          "loose": sum(any(s) and whole for s, whole in problems)}
    rm = {"strict": sum(not all(s) and whole for s, whole in problems),
          "loose": sum(not any(s) and whole for s, whole in problems)}
    out = {"problems": float(n), "incomplete": float(incomplete), "ik": float(ik), "ig": float(ig),
           "ik_rate": ik / n, "ig_rate": ig / n}
    for mode in ("strict", "loose"):
        out[f"cm_{mode}"] = float(cm[mode])
        out[f"rm_{mode}"] = float(rm[mode])
        out[f"cm_{mode}_rate"] = cm[mode] / n
        both = cm[mode] + rm[mode]
        if both:
            out[f"rm_{mode}_rate"] = rm[mode] / both
        out[f"score_{mode}"] = (n - 0.5 * ig - rm[mode] - ik) / n
    steps = [ok for s, _ in problems for ok in s]
    out["one_step_accuracy"] = sum(steps) / len(steps)
    for k in (2, 3):
        wholes = [whole for s, whole in problems if len(s) == k]
        if wholes:
            out[f"{k}_step_accuracy"] = sum(wholes) / len(wholes)
    return out

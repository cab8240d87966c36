"""The synthetic world's text for tokenizers built offline (``DataSourceSpec.vocabulary``).

Every family at every level, with and without choices: questions, facts in words, worked solutions
and answers. Deterministic: the local backend's tiny models learn their vocabulary from it, so any
change here changes their tokenizer (and the key of their cached build).
"""

from __future__ import annotations

from collections.abc import Iterator

from seethink_synthetic.facts import describe
from seethink_synthetic.families import families, format_choices, multiple_choice
from seethink_synthetic.options import LEVEL_COUNT, SyntheticOptions
from seethink_synthetic.source import SyntheticSource, in_words

ITEMS_PER_UNIT = 60  # per (family, level, mcq): ~6k texts, a tokenizer trains on them in about a second


def vocabulary() -> Iterator[str]:
    for name in sorted(families()):
        for level in range(LEVEL_COUNT):
            for mcq in (False, True):
                src = SyntheticSource(SyntheticOptions(families=[name], level=level, mcq=mcq,
                                                       count=ITEMS_PER_UNIT), seed=level)
                for i in range(len(src)):
                    p = src.problem_at(i)
                    question = p.family.question(p.params)
                    facts = in_words(describe(p.scene))
                    reasoning = p.family.reasoning(p.scene, p.params)
                    answer = p.family.answer(p.scene, p.params)
                    yield f"{question}\n{facts}"
                    yield f"<think>{reasoning}</think> \\boxed{{{answer}}}"
                    if mcq:
                        choices = multiple_choice(answer, p.family.answer_kind, p.rng)
                        yield format_choices(question, choices.options)
                        yield f"\\boxed{{{choices.letter}}}"

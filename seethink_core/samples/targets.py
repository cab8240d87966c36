"""The teacher-forced text of an SFT phase, one definition for every backend that trains SFT."""

from __future__ import annotations

from seethink_core.types.sample import Sample


def sft_target(sample: Sample, target: str) -> str:
    """``answer``: the gold answer; ``facts``: the gold facts (a caption); ``reasoned``: a brief think
    block (the sample's worked solution, else its facts) then the boxed answer, the demo warm-up's
    short format."""
    if target == "facts":
        return sample.facts or ""
    answer = sample.answer or ""
    if target == "reasoned":
        thought = sample.meta.get("reasoning") if isinstance(sample.meta, dict) else None
        return f"<think>{thought or sample.facts or ''}</think> \\boxed{{{answer}}}"
    return answer

"""Registers the `keyword` reward. Only the spec is built here; the reward class loads on use."""

from __future__ import annotations

from dataclasses import dataclass, field

from seethink_core import RewardSpec, hookimpl, opt


@dataclass(frozen=True)
class KeywordOptions:
    words: list[str] = field(default_factory=list, metadata={"doc": "keywords that earn the reward"})
    case_sensitive: bool = opt(False, doc="match case exactly")


class KeywordReward:
    """``reward(prompts, completions, **columns) -> list[float | None]``: 1.0 if any keyword appears."""

    __name__ = "keyword"

    def __init__(self, options: KeywordOptions):
        self.case = options.case_sensitive
        self.words = [w if self.case else w.lower() for w in options.words]

    def __call__(self, prompts: list[str], completions: list[str], **columns: object) -> list[float | None]:
        out: list[float | None] = []
        for text in completions:
            text = text if self.case else text.lower()
            out.append(1.0 if any(w in text for w in self.words) else 0.0)
        return out


@hookimpl
def register_rewards(register):
    register(RewardSpec(name="keyword", options=KeywordOptions, factory=KeywordReward,
                        doc="1.0 when the completion contains one of `words`"))

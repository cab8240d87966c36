"""``Judge``: a model asked two things about a response, through the packaged prompts, answers cached.

- ``extract(question, response, choices=())``: the final answer a response gives, for when the rules
  of answer extraction find none (an ``AnswerExtractor``; ``"B: <text>"`` when it picks a choice);
- ``label_error(question, gold, response, facts=..., image_description=...)``: why a wrong answer is
  wrong, ``"perception"`` (the image was misread) or ``"reasoning"`` (what followed was wrong), as the
  reference labelled its wrong visual-math answers with an LLM judge (docs/reference.md §1).

A reply that says neither (no ``LABEL:`` / ``ANSWER:`` line the parsers accept) gives None; a request
the judge cannot answer raises ``JudgeError`` (the ``*_many`` forms hand it back in its place).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from seethink_eval.judge import images as image_data
from seethink_eval.judge import prompts
from seethink_eval.judge.cache import JudgeCache, NoCache, cache_key
from seethink_eval.judge.client import ChatClient, ChatRequest, JudgeError, Unreachable

Label = Literal["perception", "reasoning"]
LABELS: tuple[Label, ...] = ("perception", "reasoning")
CHUNK = 64  # requests sent to the client at once: an unreachable judge is noticed after one chunk

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"<think>.*", re.DOTALL | re.IGNORECASE)
_LABEL_LINE = re.compile(r"^[\W_]*label[\W_]*?[:：][\W_]*(perception|reasoning)\b", re.IGNORECASE | re.MULTILINE)
_ANSWER_LINE = re.compile(r"^[\W_]*(?:final[ _]+)?answer[*_\s]*[:：](.*)$", re.IGNORECASE | re.MULTILINE)
_NO_ANSWER = {"", "none", "n/a", "na", "no answer", "null"}
_LETTER = re.compile(r"^\(?([A-Za-z])\)?[.:)]?$")


def _visible(reply: str) -> str:
    """The reply without the thinking a reasoning model puts first; a thought cut off is dropped too."""
    return _OPEN_THINK.sub("", _THINK.sub("", reply))


def parse_label(reply: str) -> Label | None:
    """``perception`` or ``reasoning`` from the judge's reply: the last ``LABEL: ...`` line, else a reply
    that is that one word; None for anything else (both words, neither, a rambling refusal)."""
    text = _visible(reply)
    found = _LABEL_LINE.findall(text)
    if found:
        return found[-1].lower()  # type: ignore[no-any-return]
    word = re.sub(r"[\W_]+", " ", text).strip().lower()
    for label in LABELS:
        if word in (label, f"{label} error"):
            return label
    return None


def choice_lines(choices: Sequence[str]) -> str:
    """``A: first`` lines, as seethink's prompts show choices (``{choices}``)."""
    return "\n".join(f"{chr(65 + i)}: {c}" for i, c in enumerate(choices))


def parse_answer(reply: str, choices: Sequence[str] = ()) -> str | None:
    """The answer of the last ``ANSWER: ...`` line (None for ``NONE`` or no such line). With
    ``choices``, a choice named by its letter or its text comes back as ``"B: <its text>"``: a reader of
    option letters and a reader of yes/no (choices ``("yes", "no")``) both find it there."""
    found = _ANSWER_LINE.findall(_visible(reply))
    if not found:
        return None
    value = found[-1].strip().strip("*`'\"").strip()
    if value.lower().rstrip(".") in _NO_ANSWER:
        return None
    if choices:
        m = _LETTER.match(value)
        index = ord(m.group(1).upper()) - 65 if m else -1
        if not 0 <= index < len(choices):
            plain = value.rstrip(".").lower()
            index = next((i for i, c in enumerate(choices) if plain == str(c).strip().rstrip(".").lower()), -1)
        if 0 <= index < len(choices):
            return f"{chr(65 + index)}: {choices[index]}"
    return value


@dataclass(frozen=True)
class ErrorCase:
    """One wrong answer to label."""

    question: str
    gold: str
    response: str
    facts: str | None = None
    image_description: str | None = None
    choices: tuple[str, ...] = ()
    images: tuple[Any, ...] = ()  # shown to the judge (a vision model): its own look at the figure

    def values(self) -> dict[str, str | None]:
        return {"question": self.question, "gold": self.gold, "response": self.response, "facts": self.facts,
                "image_description": self.image_description,
                "choices": choice_lines(self.choices) if self.choices else None,
                "attached": "" if self.images else None,
                # the "you cannot see the image" paragraph, when nothing says what the image shows
                "blind": "" if self.facts is None and self.image_description is None and not self.images else None}


class Judge:
    """A judge model behind ``client``; replies cached in ``cache`` (``NoCache()`` to ask every time)."""

    def __init__(self, client: ChatClient, cache: JudgeCache | NoCache | None = None, *,
                 settings: Mapping[str, object] | None = None, chunk: int = CHUNK, fail_fast: bool = False):
        self.client = client
        self.cache = cache if cache is not None else JudgeCache()
        self.settings = dict(settings or {})  # decoding settings: part of each answer's cache key
        self.chunk = chunk
        self.fail_fast = fail_fast  # after any failed request, send no more (the caller stops at the first)
        self.asked = 0  # requests that reached the client

    # --- the two questions, one at a time -------------------------------------------------------

    def extract(self, question: str, response: str, choices: Sequence[str] = ()) -> str | None:
        """The final answer ``response`` gives (an ``AnswerExtractor``); raises ``JudgeError``."""
        got = self.extract_many([(question, response, tuple(choices))])[0]
        if isinstance(got, JudgeError):
            raise got
        return got

    def label_error(self, question: str, gold: str, response: str, *, facts: str | None = None,
                    image_description: str | None = None, choices: Sequence[str] = (),
                    images: Sequence[Any] = ()) -> Label | None:
        """Why the wrong ``response`` is wrong: ``perception``, ``reasoning``, or None (unparsable reply)."""
        case = ErrorCase(question, gold, response, facts, image_description, tuple(choices), tuple(images))
        got = self.label_errors([case])[0]
        if isinstance(got, JudgeError):
            raise got
        return got

    # --- in batches (the evaluator's way: cached ones answered at once, the rest sent together) ----

    def extract_many(self, items: Sequence[tuple[str, str, Sequence[str]]]) -> list[str | None | JudgeError]:
        values = [{"question": q, "response": r, "choices": choice_lines(c) if c else None} for q, r, c in items]
        replies = self.ask(prompts.load("extract"), values)
        return [r if isinstance(r, JudgeError) else parse_answer(r, tuple(c)) for r, (_, _, c) in zip(replies, items)]

    def label_errors(self, cases: Sequence[ErrorCase]) -> list[Label | None | JudgeError]:
        replies = self.ask(prompts.load("label_error"), [c.values() for c in cases], [c.images for c in cases])
        return [r if isinstance(r, JudgeError) else parse_label(r) for r in replies]

    def ask(self, prompt: prompts.Prompt, values: Sequence[Mapping[str, str | None]],
            images: Sequence[tuple[Any, ...]] = ()) -> list[str | JudgeError]:
        """The raw replies to ``prompt`` filled with each of ``values`` (and shown ``images[i]``): from the
        cache, else the client. Once the judge is unreachable (or, with ``fail_fast``, once any request
        failed) the remaining requests are not sent, each would wait out its retries; they get that
        error too."""
        pictures = list(images) or [()] * len(values)
        keys = [cache_key(self.client.name, prompt.tag, prompt.digest, self.settings,
                          {**v, **({"images": [image_data.digest(i) for i in pics]} if pics else {})})
                for v, pics in zip(values, pictures)]
        out: list[str | JudgeError | None] = [self.cache.get(k) for k in keys]
        todo = [i for i, got in enumerate(out) if got is None]
        gone: JudgeError | None = None
        for start in range(0, len(todo), self.chunk):
            part = todo[start:start + self.chunk]
            if gone is not None:
                for i in part:
                    out[i] = gone
                continue
            requests = [ChatRequest(*prompt.render(values[i]), images=pictures[i]) for i in part]
            self.asked += len(requests)
            for i, reply in zip(part, self.client.complete_many(requests)):
                out[i] = reply
                if isinstance(reply, Unreachable) or (self.fail_fast and isinstance(reply, JudgeError)):
                    gone = gone or reply
                elif isinstance(reply, str):
                    self.cache.put(keys[i], reply, {"model": self.client.name, "prompt": prompt.tag})
        return [r if r is not None else JudgeError("the judge gave no reply") for r in out]

    def close(self) -> None:
        self.client.close()

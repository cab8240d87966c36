"""The ``judge_split`` evaluator: each wrong visual-math answer labelled by a judge model as a perception
or a reasoning error, the reference's analysis (86.9% perception errors for its 8B model, docs/reference.md
§1), for any eval set, also one without gold facts.

It reads the first completion of each record whose capability (or set) it is told to look at and that
is wrong, exactly the records ``perception_split`` counts as errors. Metrics (names under ``judge.``):

- ``judge.errors``: wrong answers it asked about; ``judge.perception_errors``, ``judge.reasoning_errors``:
  those labelled so; ``judge.unparsable``: replies that said neither; ``judge.failed``: requests the
  judge could not answer (only with ``on_error: "skip"``; with ``"fail"`` the evaluation stops);
- ``judge.perception_share``, ``judge.reasoning_share``: shares of the labelled ones (left out when
  none was labelled), and ``judge.perception_share.<capability>``;
- ``judge.split_agreement``: where the facts pass also gave a verdict (``perception_split``), the share
  of labels that agree with it: how far the judge can be trusted on sets without facts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from seethink_core.run.eval_types import EvalRecord
from seethink_eval.judge.backend_client import BackendClient
from seethink_eval.judge.cache import JudgeCache, NoCache
from seethink_eval.judge.client import JudgeError, OpenAIClient, served_model
from seethink_eval.judge.judge import CHUNK, ErrorCase, Judge
from seethink_eval.judge.options import JudgeOptions, resolved


def build_judge(options: JudgeOptions, *, cache_root: Path | None = None) -> Judge:
    """The judge ``options`` describe (environment overrides applied); contacts nothing but, for an http
    judge without a model name, the server's model list."""
    o = resolved(options)
    if o.client == "backend":
        if not o.model:
            raise JudgeError("the judge needs a model for client 'backend'",
                             hint="option 'model' or $SEETHINK_JUDGE_MODEL: a model folder, registered name or hub id")
        client: BackendClient | OpenAIClient = BackendClient(o.backend, o.model, dict(o.backend_options),
                                                             temperature=o.temperature, max_tokens=o.max_tokens)
    else:
        model = o.model or served_model(o.url, api_key_env=o.api_key_env, timeout=o.timeout)
        client = OpenAIClient(o.url, model, o.api_key_env, temperature=o.temperature, max_tokens=o.max_tokens,
                              timeout=o.timeout, retries=o.retries, backoff=o.backoff, concurrency=o.concurrency)
    cache = JudgeCache(cache_root) if o.cache else NoCache()
    # A backend batches what it is given; a server is sent a few rounds of `concurrency` at a time, so a
    # failing one is noticed after those few rather than after every request has waited out its retries.
    chunk = CHUNK if o.client == "backend" else 4 * o.concurrency
    return Judge(client, cache, settings={"temperature": o.temperature, "max_tokens": o.max_tokens},
                 chunk=chunk, fail_fast=o.on_error == "fail")


def answer_extractor() -> Callable[[str, str, Sequence[str]], str | None]:
    """A zero-argument factory of an ``AnswerExtractor`` (``Judge.extract``), built from the judge's
    defaults and ``SEETHINK_JUDGE_*``: ``SEETHINK_JUDGE=seethink_eval.judge.evaluator:answer_extractor``
    is how the benchmark scorers are told to ask the judge where their rules find no answer."""
    return build_judge(JudgeOptions()).extract


def _choices(record: EvalRecord) -> tuple[str, ...]:
    meta = record.sample.meta if isinstance(record.sample.meta, dict) else {}
    choices = meta.get("choices")
    return tuple(str(c) for c in choices) if isinstance(choices, (list, tuple)) else ()


@dataclass(frozen=True)
class JudgeSplit:
    """Perception vs reasoning errors as a judge model labels them (see the module docstring)."""

    options: JudgeOptions = JudgeOptions()

    def wanted(self, record: EvalRecord) -> bool:
        """A wrong first answer of a capability or set the options name."""
        if not record.completions or not record.correct or record.correct[0]:
            return False
        caps, sets = self.options.capabilities, self.options.sets
        if not caps and not sets:
            return True
        return record.capability in caps or record.set_name in sets

    def __call__(self, records: Sequence[EvalRecord]) -> dict[str, float]:
        chosen = [r for r in records if self.wanted(r)]
        if not chosen:
            return {}  # nothing wrong to label: the judge is not even built
        cases = [ErrorCase(r.sample.prompt, r.sample.answer or "(not given)", r.completions[0].text,
                           facts=r.sample.facts or None, choices=_choices(r),
                           images=tuple(r.sample.images) if self.options.images else ()) for r in chosen]
        judge = build_judge(self.options)
        try:
            labels = judge.label_errors(cases)
        finally:
            judge.close()
        failed = [x for x in labels if isinstance(x, JudgeError)]
        if failed and self.options.on_error == "fail":
            raise failed[0]
        return split_metrics(chosen, [None if isinstance(x, JudgeError) else x for x in labels], len(failed))


def split_metrics(records: Sequence[EvalRecord], labels: Sequence[str | None], failed: int) -> dict[str, float]:
    """The ``judge.*`` metrics of labelled records (``labels[i]`` None: unparsable or failed)."""
    perception = labels.count("perception")
    reasoning = labels.count("reasoning")
    out = {"judge.errors": float(len(records)), "judge.perception_errors": float(perception),
           "judge.reasoning_errors": float(reasoning), "judge.unparsable": float(len(labels) - perception
                                                                                 - reasoning - failed),
           "judge.failed": float(failed)}
    if perception + reasoning:
        out["judge.perception_share"] = perception / (perception + reasoning)
        out["judge.reasoning_share"] = reasoning / (perception + reasoning)
    by_cap: dict[str, list[str]] = {}
    for r, label in zip(records, labels):
        if label is not None:
            by_cap.setdefault(r.capability, []).append(label)
    for cap, got in sorted(by_cap.items()):
        out[f"judge.perception_share.{cap}"] = got.count("perception") / len(got)
    both = [(label, r.error_kind()) for r, label in zip(records, labels) if label is not None and r.error_kind()]
    if both:
        out["judge.split_agreement"] = sum(1 for a, b in both if a == b) / len(both)
    return out

"""The reward bridge: a generated ``reward_func`` file that scores OpenRLHF rollouts with seethink's rewards.

OpenRLHF 0.11.2 loads a ``--reward.remote_url`` ending in ``.py`` in ``SingleTurnAgentExecutor``
(``openrlhf/utils/agent.py``) and calls ``reward_func(queries, prompts, labels)`` from a thread, one
rollout at a time, where ``query`` is ``tokenizer.decode(prompt_tokens + response_tokens,
skip_special_tokens=False)``. For a VLM the prompt tokens come from the processor, so the query holds
the *expanded* image pad tokens while ``prompt`` holds one placeholder per image: the response is
therefore cut after the last assistant marker of the chat template, not at ``len(prompt)``.

The return value is ``{"rewards", "scores", "extra_logs"}``: ``rewards`` drive the advantages,
``scores`` feed dynamic filtering (``samples_generator._generate_vllm``), and each ``extra_logs``
entry becomes ``train/<key>`` in TensorBoard (every reward component, as ``reward_<name>``).

OpenRLHF catches an exception from ``reward_func``, logs it at info level and leaves the reward
``None``, which fails much later and obscurely; so the bridge never raises: a malformed input
scores 0 and is reported on stderr and in ``extra_logs["reward_malformed"]``.

A reward's failures (docs/architecture.md §8) are counted as in the local backend: each rollout's
``extra_logs["reward_failure_rate/<name>"]`` is 1 when that reward failed on it (OpenRLHF averages
the step's rollouts, so the metric is the step's failure rate), and the first failure of each reward
is said once on stderr (Ray forwards it to the job's output). When a reward fails on more than the
phase's ``max_reward_failures`` of the rollouts this process graded (after one rollout batch's share),
raising would be swallowed as above, so the bridge writes the message to ``reward_stop.json`` beside
the reward file, prints it, and ends its own process (the vLLM engine actor): the job then fails,
its checkpoints stay, and the backend raises the message as the phase's error.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.errors import render_all
from seethink_core.run.rewards.errors import RewardFailuresExceeded
from seethink_core.run.rewards.watch import FailureWatch, WatchedReward
from seethink_core.samples.labels import decode_label
from seethink_core.types.plan import Phase, RewardRef

# End-of-turn tokens the decoded query keeps (skip_special_tokens=False); rewards such as `format`
# match the whole response, so they are cut off.
END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<|end|>")
LOG_PREFIX = "reward_"
FAILURE_PREFIX = "reward_failure_rate/"  # + reward name: 1 for a rollout the reward failed on (not a component key)
STOP_FILE = "reward_stop.json"  # beside the reward file: why the bridge ended the job
OPENRLHF_RESUME = "re-running the same command resumes from the job's last in-phase checkpoint"


def isolate_response(query: str, prompt: str, marker: str) -> str:
    """The model's response inside a decoded ``query``: after the last ``marker``, else after ``prompt``."""
    if marker and marker in query:
        response = query.rsplit(marker, 1)[1]
    elif prompt and query.startswith(prompt):
        response = query[len(prompt):]
    else:
        response = query
    stripped = True
    while stripped:
        stripped = False
        response = response.rstrip()
        for tok in END_TOKENS:
            if response.endswith(tok):
                response = response[: -len(tok)]
                stripped = True
    return response.strip()


@dataclass
class RewardBridge:
    """Scores OpenRLHF's ``(queries, prompts, labels)`` with the phase's weighted seethink rewards."""

    phase: str
    rewards: list[RewardRef]
    marker: str
    timeout: float | None = 5.0  # seconds per reward per rollout (seethink_core.run.rewards.pool isolation)
    max_response_tokens: int | None = None
    max_reward_failures: float = 1.0  # the phase's RLOptions.max_reward_failures (1: never stop)
    min_samples: int = 1  # rollouts this process grades before the limit applies (its share of a batch)
    stop_file: str | None = None
    _reward: Any = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RewardBridge:
        refs = [RewardRef(name=r["name"], weight=float(r["weight"]), options=dict(r.get("options") or {}))
                for r in config["rewards"]]
        return cls(phase=config["phase"], rewards=refs, marker=config["marker"],
                   timeout=config.get("timeout", 5.0), max_response_tokens=config.get("max_response_tokens"),
                   max_reward_failures=float(config.get("max_reward_failures", 1.0)),
                   min_samples=int(config.get("min_samples", 1)), stop_file=config.get("stop_file"))

    def combined(self) -> Any:
        if self._reward is None:
            from seethink_core.hooks.manager import get_plugins
            from seethink_core.run.rewards.combine import build_reward

            watch = FailureWatch(self.phase, limit=self.max_reward_failures, min_samples=self.min_samples,
                                 note=self._warn, resume=lambda: OPENRLHF_RESUME)
            self._reward = WatchedReward(build_reward(self.rewards, get_plugins().registry, timeout=self.timeout),
                                         watch)
        return self._reward

    def _stop(self, error: RewardFailuresExceeded) -> None:
        """End the job with ``error``: OpenRLHF would swallow it raised (see the module docstring)."""
        (diag,) = error.diagnostics[:1]
        if self.stop_file:
            import json

            with contextlib.suppress(OSError):  # a read-only or remote folder: the printed message remains
                Path(self.stop_file).write_text(json.dumps({"message": diag.message, "hint": diag.hint}) + "\n",
                                                encoding="utf-8")
        self._warn(render_all(error))
        _end_job()

    def _warn(self, message: str) -> None:
        print(f"[seethink reward bridge, phase {self.phase}] {message}", file=sys.stderr, flush=True)

    def __call__(self, queries: Sequence[Any], prompts: Sequence[Any], labels: Sequence[Any]) -> dict[str, Any]:
        try:
            n = len(queries)
        except TypeError:
            self._warn(f"queries is not a list ({type(queries).__name__}); scoring nothing")
            return _result([], {}, [])
        totals = [0.0] * n
        components: dict[str, list[float]] = {self._log_key(r.name): [0.0] * n for r in self.rewards}
        components.update({FAILURE_PREFIX + r.name: [0.0] * n for r in self.rewards})
        malformed = [1.0] * n
        try:
            prompts = list(prompts) if prompts is not None else []
            labels = list(labels) if labels is not None else []
            valid: list[int] = []
            texts: list[str] = []
            completions: list[str] = []
            samples = []
            for i in range(n):
                query, prompt = queries[i], prompts[i] if i < len(prompts) else ""
                label = labels[i] if i < len(labels) else None
                if not isinstance(query, str):
                    self._warn(f"rollout {i}: query is {type(query).__name__}, not text; reward 0")
                    continue
                try:
                    sample = decode_label(label)
                except (ValueError, TypeError) as e:
                    self._warn(f"rollout {i}: malformed label ({e}); reward 0")
                    continue
                valid.append(i)
                texts.append(prompt if isinstance(prompt, str) else "")
                completions.append(isolate_response(query, prompt if isinstance(prompt, str) else "", self.marker))
                samples.append(sample)
            if valid:
                batch = self.combined()(texts, completions, samples,
                                        max_response_tokens=self.max_response_tokens)
                for j, i in enumerate(valid):
                    totals[i] = _num(batch.total[j])
                    malformed[i] = 0.0
                for name, values in batch.components.items():
                    key = self._log_key(name)
                    column = components.setdefault(key, [0.0] * n)
                    for j, i in enumerate(valid):
                        column[i] = _num(values[j])
                    failed = components.setdefault(FAILURE_PREFIX + name, [0.0] * n)
                    for j in (batch.failed or {}).get(name, ()):
                        failed[valid[j]] = 1.0
        except RewardFailuresExceeded as e:
            self._stop(e)
            raise  # reached only where _end_job is replaced (tests)
        except Exception:  # never raise into OpenRLHF (see the module docstring)
            self._warn("scoring failed; rewards 0 for this call:\n" + traceback.format_exc())
            totals = [0.0] * n
            components = {k: [0.0] * n for k in components}
            malformed = [1.0] * n
        components[LOG_PREFIX + "malformed"] = malformed
        return _result(totals, components, totals)

    @staticmethod
    def _log_key(name: str) -> str:
        return LOG_PREFIX + name


def _end_job() -> None:
    """End this process, the vLLM engine actor that called ``reward_func``: its death fails the job."""
    sys.stderr.flush()
    sys.stdout.flush()
    os._exit(1)


def _num(value: Any) -> float:
    """A component value for logging: ``None`` (not applicable) and NaN become 0 so batch means stay finite."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        return 0.0
    return x if x == x and x not in (float("inf"), float("-inf")) else 0.0


def _result(rewards: list[float], components: dict[str, list[float]], scores: list[float]) -> dict[str, Any]:
    """OpenRLHF's expected shape: tensors of one value per query (``torch.tensor([reward])`` in
    ``_process_response_into_experience`` turns each into a one-element tensor). Inside an OpenRLHF
    job torch is always loaded; the bridge never imports it itself, so lists come back without it."""
    torch = sys.modules.get("torch")

    def to(values: list[float]) -> Any:
        return torch.tensor(values, dtype=torch.float32) if torch is not None else list(values)

    return {"rewards": to(rewards), "scores": to(scores), "extra_logs": {k: to(v) for k, v in components.items()}}


_TEMPLATE = '''"""seethink reward bridge for phase {phase!r} (generated by seethink; do not edit).

OpenRLHF loads this file through --reward.remote_url and calls reward_func(queries, prompts, labels);
it scores each rollout with the phase's seethink rewards: {summary}.
"""

from seethink_openrlhf.reward_bridge import RewardBridge

CONFIG = {config}

_BRIDGE = RewardBridge.from_config(CONFIG)


def reward_func(queries, prompts, labels, **kwargs):
    return _BRIDGE(queries, prompts, labels)
'''


def bridge_config(phase: Phase, marker: str, timeout: float | None = 5.0, *, engines: int = 1,
                  stop_file: Path | None = None) -> dict[str, Any]:
    algo = phase.algorithm
    # Each vLLM engine grades its share of a rollout batch and counts its own failures.
    batch = int(getattr(algo, "group", 1)) * int(getattr(algo, "rollout_batch_size", 1))
    return {
        "phase": phase.name,
        "marker": marker,
        "timeout": timeout,
        "max_response_tokens": getattr(algo, "max_response_tokens", None),
        "max_reward_failures": float(getattr(algo, "max_reward_failures", 1.0)),
        "min_samples": max(1, math.ceil(batch / max(1, engines))),
        "stop_file": str(stop_file) if stop_file is not None else None,
        "rewards": [{"name": r.name, "weight": r.weight, "options": r.options} for r in phase.rewards],
    }


def write_reward_file(phase: Phase, path: Path, *, marker: str, timeout: float | None = 5.0,
                      engines: int = 1) -> Path:
    """Write the phase's ``reward_func`` file; its config is a Python literal, readable and diffable.
    A stop file left by an earlier job of the phase is removed: this job has not stopped."""
    stop = path.with_name(STOP_FILE)
    stop.unlink(missing_ok=True)
    config = bridge_config(phase, marker, timeout, engines=engines, stop_file=stop.resolve())
    summary = " + ".join(f"{r.weight:g}·{r.name}" for r in phase.rewards) or "none"
    text = _TEMPLATE.format(phase=phase.name, summary=summary, config=_py_literal(config))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _py_literal(config: dict[str, Any]) -> str:
    """A Python literal of the config (plain data only), so the file needs no json import."""
    import pprint

    return pprint.pformat(config, width=100, sort_dicts=False)

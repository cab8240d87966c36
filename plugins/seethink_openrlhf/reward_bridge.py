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
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seethink_core.plan import Phase, RewardRef
from seethink_openrlhf.export import decode_label

# End-of-turn tokens the decoded query keeps (skip_special_tokens=False); rewards such as `format`
# match the whole response, so they are cut off.
END_TOKENS = ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "</s>", "<|end|>")
LOG_PREFIX = "reward_"


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
    timeout: float | None = 5.0  # seconds per reward per rollout (seethink_core.rewarding isolation)
    max_response_tokens: int | None = None
    _reward: Any = field(default=None, repr=False)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> RewardBridge:
        refs = [RewardRef(name=r["name"], weight=float(r["weight"]), options=dict(r.get("options") or {}))
                for r in config["rewards"]]
        return cls(phase=config["phase"], rewards=refs, marker=config["marker"],
                   timeout=config.get("timeout", 5.0), max_response_tokens=config.get("max_response_tokens"))

    def combined(self) -> Any:
        if self._reward is None:
            from seethink_core.plugins import get_plugins
            from seethink_core.rewarding import build_reward

            self._reward = build_reward(self.rewards, get_plugins().registry, timeout=self.timeout)
        return self._reward

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
                for name, count in (batch.failures or {}).items():
                    if count:
                        self._warn(f"reward '{name}' failed on {count} of {len(valid)} rollouts (scored 0)")
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


def bridge_config(phase: Phase, marker: str, timeout: float | None = 5.0) -> dict[str, Any]:
    return {
        "phase": phase.name,
        "marker": marker,
        "timeout": timeout,
        "max_response_tokens": getattr(phase.algorithm, "max_response_tokens", None),
        "rewards": [{"name": r.name, "weight": r.weight, "options": r.options} for r in phase.rewards],
    }


def write_reward_file(phase: Phase, path: Path, *, marker: str, timeout: float | None = 5.0) -> Path:
    """Write the phase's ``reward_func`` file; its config is a Python literal, readable and diffable."""
    config = bridge_config(phase, marker, timeout)
    summary = " + ".join(f"{r.weight:g}·{r.name}" for r in phase.rewards) or "none"
    text = _TEMPLATE.format(phase=phase.name, summary=summary, config=_py_literal(config))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _py_literal(config: dict[str, Any]) -> str:
    """A Python literal of the config (plain data only), so the file needs no json import."""
    import pprint

    return pprint.pformat(config, width=100, sort_dicts=False)

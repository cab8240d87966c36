"""The judge's options (the ``judge_split`` evaluator's schema), and where each one comes from.

Evaluators are built with their default options today (``build_evaluators``: an eval spec names
evaluators, it gives them no options), so each text option left at its default takes
``SEETHINK_JUDGE_<NAME>`` from the environment when that is set: ``SEETHINK_JUDGE_URL``,
``SEETHINK_JUDGE_MODEL``, ``SEETHINK_JUDGE_CLIENT``, ``SEETHINK_JUDGE_BACKEND``. Imports only the
standard library and the option machinery: the plugin imports it when it registers.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Literal

from seethink_core.errors import ConfigError
from seethink_core.types.options import opt

DEFAULT_URL = "http://127.0.0.1:8000/v1"
ENV_PREFIX = "SEETHINK_JUDGE_"
FROM_ENV = ("url", "model", "client", "backend")


@dataclass(frozen=True)
class JudgeOptions:
    client: Literal["http", "backend"] = opt(
        "http", doc="'http': an OpenAI-compatible server (vLLM, llama.cpp, a hosted API); 'backend': a "
                    "seethink backend's generate (the local one by default) with the model folder in 'model'")
    url: str = opt(DEFAULT_URL, doc="the server: http://host:port, its /v1, or the full /v1/chat/completions URL")
    model: str = opt("", doc="the judge model: the name the server serves, or (client 'backend') a model "
                             "folder, registered model name or hub id")
    api_key_env: str = opt("SEETHINK_JUDGE_API_KEY",
                           doc="the NAME of the environment variable holding the API key (never the key); "
                               "unset or empty: no Authorization header")
    temperature: float = opt(0.0, min=0, max=2, doc="sampling temperature of the judge (0: its most likely reply)")
    max_tokens: int = opt(512, min=1, max=32768, doc="longest judge reply, in tokens")
    timeout: float = opt(60.0, gt=0, doc="seconds to wait for one reply")
    retries: int = opt(3, min=0, max=10, doc="retries of a request that failed in a way a retry can fix "
                                             "(no connection, a timeout, HTTP 408/429/5xx)")
    backoff: float = opt(1.0, min=0, max=60, doc="seconds before the first retry; doubled for each next one")
    concurrency: int = opt(4, min=1, max=64, doc="requests in flight at once (client 'http')")
    images: bool = opt(False, doc="show the judge each sample's images (a vision model: a VLM behind the server, "
                                  "or the backend's model); off, it reads the question, the gold answer, the "
                                  "response and the gold facts when there are some")
    cache: bool = opt(True, doc="keep each reply in the seethink cache (judge/), so asking again is free")
    backend: str = opt("local", doc="client 'backend': which backend generates (it needs the generate feature)")
    backend_options: dict[str, Any] = opt(default_factory=dict, doc="client 'backend': that backend's options")
    capabilities: list[str] = opt(default_factory=lambda: ["visual_reasoning"],
                                  doc="label wrong answers of samples with these capabilities (a set "
                                      "without capabilities counts as its own name); empty: every one")
    sets: list[str] = opt(default_factory=list, doc="also label wrong answers of these eval sets")
    on_error: Literal["fail", "skip"] = opt(
        "fail", doc="a request the judge cannot answer: 'fail' stops the evaluation with its error; 'skip' "
                    "counts it in judge.failed (and asks no more once the judge is unreachable)")


def resolved(options: JudgeOptions, environ: dict[str, str] | None = None) -> JudgeOptions:
    """``options`` with each of ``FROM_ENV`` that is at its default taken from ``SEETHINK_JUDGE_<NAME>``."""
    env = os.environ if environ is None else environ
    defaults = {f.name: f.default for f in dataclasses.fields(JudgeOptions)}
    changes = {}
    for name in FROM_ENV:
        value = env.get(ENV_PREFIX + name.upper())
        if value and getattr(options, name) == defaults[name]:
            changes[name] = value
    if changes.get("client", options.client) not in ("http", "backend"):
        raise ConfigError(f"${ENV_PREFIX}CLIENT must be 'http' or 'backend', not {changes['client']!r}")
    return dataclasses.replace(options, **changes) if changes else options

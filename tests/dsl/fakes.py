"""In-process fake plugins for the DSL tests: every name the test curricula use, and nothing real.

The compiler only reads specs (options, columns, needs, methods); no factory here is ever called.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from seethink_core.errors import Diagnostic
from seethink_core.hooks.hookspecs import hookimpl
from seethink_core.hooks.registry import BackendSpec, DataSourceSpec, EvaluatorSpec, ModelSpec, RewardSpec
from seethink_core.types.options import NoOptions, opt

FACTORY = "seethink_core.errors:SourcePos"  # never called


@dataclass(frozen=True)
class SyntheticOptions:
    capability: Literal["perception", "textual_reasoning", "visual_reasoning", "mixed"] = opt(
        "mixed", doc="which kind of problem")
    n: int = opt(256, doc="how many samples", min=1)
    level: int | None = opt(None, doc="difficulty level", min=0, max=3)


@dataclass(frozen=True)
class HubOptions:
    path: str = opt(doc="hub id or folder")
    split: str = opt("train", doc="split")
    limit: int | None = opt(None, doc="at most this many", min=1)


@dataclass(frozen=True)
class FileOptions:
    path: str = opt(doc="file")


@dataclass(frozen=True)
class SplitOptions:
    split: str = opt("train", doc="split")


@dataclass(frozen=True)
class FormatOptions:
    pattern: str = opt(r"<think>.*</think>.*\\boxed\{.*\}.*", doc="regex the whole response must match")


@dataclass(frozen=True)
class AccuracyOptions:
    timeout: float = opt(5.0, doc="grading timeout in seconds", min=0)


@dataclass(frozen=True)
class LocalOptions:
    device: str = opt("auto", doc="cpu, cuda or auto")
    dtype: Literal["float32", "bfloat16", "float16"] = opt("float32", doc="weights dtype")


@dataclass(frozen=True)
class OpenRLHFOptions:
    vllm_engines: int = opt(1, doc="vLLM engines", min=1)
    zero_stage: int = opt(2, doc="DeepSpeed ZeRO stage", min=0, max=3)


ALL_METHODS = frozenset({"grpo", "dr_grpo", "dapo", "rloo", "reinforce_pp", "reinforce_pp_baseline", "sft"})


def openrlhf_check(plan):
    """A backend-specific rule, as a real backend's ``check`` would have."""
    out = []
    for phase in plan.phases:
        if [p for p in phase.freeze if p != "vision"]:
            out.append(Diagnostic(f"openrlhf can only freeze the vision tower (phase '{phase.name}')"))
    return out


class Fakes:
    @hookimpl
    def register_data_sources(self, register):
        register(DataSourceSpec(name="synthetic", factory=FACTORY, options=SyntheticOptions,
                                columns=frozenset({"prompt", "images", "answer", "capability", "difficulty",
                                                   "facts"})))
        register(DataSourceSpec(name="hf", factory=FACTORY, options=HubOptions, mappable=True, needs_network=True,
                                columns=frozenset({"prompt"})))
        register(DataSourceSpec(name="jsonl", factory=FACTORY, options=FileOptions, mappable=True,
                                columns=frozenset({"prompt", "answer", "images"})))
        for name in ("capcurriculum_perception", "capcurriculum_text", "capcurriculum_visual", "geometry3k_test"):
            register(DataSourceSpec(name=name, factory=FACTORY, options=SplitOptions,
                                    columns=frozenset({"prompt", "images", "answer", "difficulty"})))
        register(DataSourceSpec(name="captions", factory=FACTORY, options=NoOptions,
                                columns=frozenset({"prompt", "images", "facts"})))

    @hookimpl
    def register_rewards(self, register):
        register(RewardSpec(name="accuracy", factory=FACTORY, options=AccuracyOptions,
                            needs=frozenset({"answer"})))
        register(RewardSpec(name="format", factory=FACTORY, options=FormatOptions))
        register(RewardSpec(name="length_penalty", factory=FACTORY))

    @hookimpl
    def register_backends(self, register):
        register(BackendSpec(name="local", factory=FACTORY, options=LocalOptions, methods=ALL_METHODS,
                             features=frozenset({"generate"})))
        register(BackendSpec(name="openrlhf", factory=FACTORY, options=OpenRLHFOptions,
                             methods=ALL_METHODS - {"sft"}, check=openrlhf_check))

    @hookimpl
    def register_evaluators(self, register):
        register(EvaluatorSpec(name="accuracy", factory=FACTORY))
        register(EvaluatorSpec(name="length", factory=FACTORY))
        register(EvaluatorSpec(name="geometry3k_test", factory=FACTORY))

    @hookimpl
    def register_models(self, register):
        register(ModelSpec(name="tiny_vlm", factory=FACTORY))


FIRST_PARTY = "data,synthetic,rewards,local,openrlhf,eval"


def fake_plugins():
    """Plugins with only the fakes: first-party plugins blocked (they may be half-written)."""
    import os

    from seethink_core.hooks import manager as plugins_mod

    old = os.environ.get("SEETHINK_BLOCK_PLUGINS")
    os.environ["SEETHINK_BLOCK_PLUGINS"] = FIRST_PARTY
    try:
        return plugins_mod.load_plugins(extra=[("fakes", Fakes())])
    finally:
        if old is None:
            del os.environ["SEETHINK_BLOCK_PLUGINS"]
        else:
            os.environ["SEETHINK_BLOCK_PLUGINS"] = old

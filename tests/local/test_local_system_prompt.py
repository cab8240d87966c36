"""The local backend sends a phase's system prompt and the eval top_p to the model (tiny model, CPU)."""

from __future__ import annotations

import dataclasses

import pytest

torch = pytest.importorskip("torch")

import seethink_local.backend as local_backend  # noqa: E402
import seethink_local.trainer as local_trainer  # noqa: E402
from seethink_local.backend import LocalBackend  # noqa: E402
from seethink_local.options import LocalOptions  # noqa: E402

from seethink_core.hooks.backend import Checkpoint  # noqa: E402
from seethink_core.types.methods import GRPOOptions  # noqa: E402

CPU = LocalOptions(device="cpu", memory_estimate=False)


def recording(monkeypatch, module):
    """Wrap ``module.generate`` (the rollout sampler) to record each call's prompts and sampling options."""
    calls: list[dict] = []
    real = module.generate

    def generate(model, batch, **kw):
        calls.append({"texts": list(batch.texts), "top_p": kw["top_p"], "temperature": kw["temperature"]})
        return real(model, batch, **kw)

    monkeypatch.setattr(module, "generate", generate)
    return calls


def test_generate_sends_the_system_message_and_the_top_p(tiny_dir, kit, monkeypatch):
    calls = recording(monkeypatch, local_backend)
    backend = LocalBackend(CPU)
    samples = kit.counting_samples(2, seed=5)
    model = Checkpoint(str(tiny_dir))
    backend.generate(model, samples, n=1, temperature=0.0, max_new_tokens=3, prompt_template="{question|trim} Go.",
                     system_prompt="Be brief: {question}")
    backend.generate(model, samples, n=1, temperature=0.0, max_new_tokens=3, prompt_template="{question|trim} Go.")
    with_system, without = calls[0]["texts"][0], calls[1]["texts"][0]
    assert with_system.startswith("<|im_start|>system\nBe brief: How many squares?<|im_end|>\n<|im_start|>user\n")
    assert without.startswith("<|im_start|>user\n") and "system" not in without
    assert with_system.endswith("How many squares? Go.<|im_end|>\n<|im_start|>assistant\n")
    assert with_system[with_system.index("<|im_start|>user"):] == without  # the rest is the same prompt

    # top_p reaches the sampler: a nucleus that keeps only the most likely token samples the greedy answer
    greedy = backend.generate(model, samples, n=1, temperature=0.0, max_new_tokens=5)
    nucleus = backend.generate(model, samples, n=4, temperature=1.0, top_p=1e-6, max_new_tokens=5)
    assert calls[-1]["top_p"] == 1e-6 and calls[-1]["temperature"] == 1.0
    assert [{c.text for c in group} for group in nucleus] == [{g[0].text} for g in greedy]


def test_rl_rollouts_are_asked_with_the_phase_system_prompt(tiny_dir, kit, tmp_path, monkeypatch):
    calls = recording(monkeypatch, local_trainer)
    algo = GRPOOptions(lr=1e-4, batch_size=2, rollout_batch_size=2, group=2, max_response_tokens=3, kl=0.0)
    phase = dataclasses.replace(kit.make_phase("grpo", algo, steps=1, name="rl", prompt="{question} Answer."),
                                system="You count shapes.")
    ctx = kit.make_ctx(tmp_path, phase, kit.counting_samples(4, seed=2))
    LocalBackend(CPU).run_phase(phase, Checkpoint(str(tiny_dir)), ctx)
    assert calls and all(t.startswith("<|im_start|>system\nYou count shapes.<|im_end|>\n<|im_start|>user\n")
                         and t.endswith("How many squares? Answer.<|im_end|>\n<|im_start|>assistant\n")
                         for c in calls for t in c["texts"])

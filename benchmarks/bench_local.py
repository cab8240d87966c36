"""Local backend speed: rollout (batched generation with a shared prompt cache) and one GRPO update step.

Run: ``pytest benchmarks/bench_local.py --benchmark-only``. Numbers are for the tiny VLM on this CPU.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from PIL import Image, ImageDraw  # noqa: E402
from seethink_local import algorithms as alg  # noqa: E402
from seethink_local.modeling import load_model  # noqa: E402
from seethink_local.options import LocalOptions  # noqa: E402
from seethink_local.rollout import completion_logprobs, encode_prompts, generate  # noqa: E402
from seethink_local.tiny_model import build_tiny_vlm  # noqa: E402

from seethink_core.types.methods import GRPOOptions  # noqa: E402
from seethink_core.types.sample import Sample  # noqa: E402

PROMPTS, GROUP, NEW_TOKENS = 8, 4, 24


def _samples(n: int) -> list[Sample]:
    out = []
    for i in range(n):
        img = Image.new("RGB", (112, 112), "white")
        ImageDraw.Draw(img).rectangle([10 + i, 10, 50 + i, 50], fill="red")
        out.append(Sample(id=str(i), prompt="How many squares?", images=[img], answer="1"))
    return out


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    path = build_tiny_vlm(None, tmp_path_factory.mktemp("bench") / "tiny")
    loaded = load_model(str(path), LocalOptions(device="cpu"), torch.device("cpu"))
    batch = encode_prompts(loaded.processor, _samples(PROMPTS), None)
    return loaded, batch


def _rollout(loaded, batch):
    tok = loaded.processor.tokenizer
    # No EOS so every completion has NEW_TOKENS tokens: a fixed amount of work per round.
    return generate(loaded.model.eval(), batch, group=GROUP, max_new_tokens=NEW_TOKENS, temperature=1.0,
                    top_p=1.0, eos_ids=[-1], pad_id=tok.pad_token_id, generator=torch.Generator().manual_seed(0))


def test_rollout_tokens(benchmark, tiny):
    loaded, batch = tiny
    ro = benchmark(_rollout, loaded, batch)
    assert ro.tokens.shape == (PROMPTS * GROUP, NEW_TOKENS)
    benchmark.extra_info["tokens_per_round"] = PROMPTS * GROUP * NEW_TOKENS


def test_grpo_update_step(benchmark, tiny):
    loaded, batch = tiny
    ro = _rollout(loaded, batch)
    model = loaded.model.train()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    rows = torch.arange(PROMPTS).repeat_interleave(GROUP)
    rewards = torch.rand(PROMPTS * GROUP)
    algo = GRPOOptions(group=GROUP, kl=0.0, max_response_tokens=NEW_TOKENS)

    def step():
        logp, _ = completion_logprobs(model, batch, rows, ro.tokens, ro.mask, group=GROUP)
        adv = alg.advantages_for("grpo", algo, rewards, ro.mask)
        parts = alg.policy_loss(logp, logp.detach(), adv, ro.mask, clip_low=0.2, clip_high=0.2,
                                agg="seq_mean_token_mean", max_len=NEW_TOKENS)
        parts.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(parts.loss.detach())

    loss = benchmark(step)
    assert loss == loss  # finite, not NaN
    benchmark.extra_info["sequences"] = PROMPTS * GROUP

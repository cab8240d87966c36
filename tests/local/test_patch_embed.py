"""Qwen-VL patch embeddings run as a matrix product compute what the convolution computes."""

from __future__ import annotations

import torch
from seethink_local.modeling import load_model
from seethink_local.options import LocalOptions
from seethink_local.patch_embed import linear_patch_embeddings
from torch import nn
from transformers.models.qwen2_5_vl.modeling_qwen2_5_vl import Qwen2_5_VisionPatchEmbed
from transformers.models.qwen2_vl.modeling_qwen2_vl import PatchEmbed


def _pixels(module, patches: int = 12) -> torch.Tensor:
    volume = module.in_channels * module.temporal_patch_size * module.patch_size ** 2
    return torch.randn(patches, volume, generator=torch.Generator().manual_seed(0))


def _conv_and_linear(module, pixels):
    """Outputs and weight gradients through the module's own forward, then through the matrix product."""
    results = []
    for patch in (False, True):
        if patch:
            assert linear_patch_embeddings(nn.Sequential(module)) == 1
        module.zero_grad()
        out = module(pixels)
        (out * torch.linspace(-1, 1, out.numel()).view_as(out)).sum().backward()
        grads = [p.grad.clone() for p in module.parameters()]
        results.append((out.detach(), grads))
    return results


def test_the_product_matches_the_convolution_forward_and_backward():
    for module in (Qwen2_5_VisionPatchEmbed(patch_size=14, temporal_patch_size=2, in_channels=3, embed_dim=48),
                   PatchEmbed(patch_size=14, temporal_patch_size=2, in_channels=3, embed_dim=40)):
        (conv_out, conv_grads), (lin_out, lin_grads) = _conv_and_linear(module, _pixels(module))
        assert lin_out.shape == conv_out.shape
        assert torch.allclose(lin_out, conv_out, atol=1e-5, rtol=1e-5)
        for a, b in zip(conv_grads, lin_grads):
            assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)


def test_a_bias_is_added_as_the_convolution_adds_it():
    module = Qwen2_5_VisionPatchEmbed(patch_size=4, temporal_patch_size=2, in_channels=3, embed_dim=8)
    kernel = module.proj.kernel_size
    module.proj = nn.Conv3d(3, 8, kernel_size=kernel, stride=kernel, bias=True)
    pixels = _pixels(module)
    expected = module(pixels).detach()
    linear_patch_embeddings(module)
    assert "forward" in module.__dict__
    assert torch.allclose(module(pixels), expected, atol=1e-5)


def test_a_wrapped_projection_runs_its_wrapper():
    """A LoRA (or any) wrapper put on ``proj`` after loading is not bypassed by the product."""
    class Doubled(nn.Module):
        def __init__(self, conv):
            super().__init__()
            self.conv = conv

        @property
        def weight(self):  # as peft's layers expose their base layer's weight
            return self.conv.weight

        def forward(self, x):
            return 2 * self.conv(x)

    module = Qwen2_5_VisionPatchEmbed(patch_size=4, temporal_patch_size=2, in_channels=3, embed_dim=8)
    pixels = _pixels(module)
    plain = module(pixels).detach()
    linear_patch_embeddings(module)
    module.proj = Doubled(module.proj)
    assert torch.allclose(module(pixels), 2 * plain, atol=1e-5)


def test_overlapping_or_padded_convolutions_are_left_alone():
    module = Qwen2_5_VisionPatchEmbed(patch_size=4, temporal_patch_size=2, in_channels=3, embed_dim=8)
    module.proj = nn.Conv3d(3, 8, kernel_size=(2, 4, 4), stride=(2, 2, 2), bias=False)
    assert linear_patch_embeddings(module) == 0
    module.proj = nn.Conv3d(3, 8, kernel_size=(2, 4, 4), stride=(2, 4, 4), padding=(0, 1, 1), bias=False)
    assert linear_patch_embeddings(module) == 0
    assert "forward" not in module.__dict__


def test_loaded_models_take_it_and_save_the_same_checkpoint(tiny_dir, tmp_path):
    from transformers import AutoModelForImageTextToText

    loaded = load_model(str(tiny_dir), LocalOptions(device="cpu"), torch.device("cpu"))
    embed = loaded.model.model.visual.patch_embed
    assert "forward" in embed.__dict__ and type(embed.proj) is nn.Conv3d
    stock = AutoModelForImageTextToText.from_pretrained(tiny_dir, dtype=torch.float32)
    assert loaded.model.state_dict().keys() == stock.state_dict().keys()
    pixels = _pixels(stock.model.visual.patch_embed)
    assert torch.allclose(embed(pixels), stock.model.visual.patch_embed(pixels), atol=1e-5)

    loaded.model.save_pretrained(tmp_path / "saved")
    again = AutoModelForImageTextToText.from_pretrained(tmp_path / "saved", dtype=torch.float32)
    assert torch.equal(again.model.visual.patch_embed.proj.weight, stock.model.visual.patch_embed.proj.weight)

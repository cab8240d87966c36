"""Pixel bounds (``min_pixels``/``max_pixels``): EasyR1's ``process_image`` sizes, the option checks."""

from __future__ import annotations

import pytest
from PIL import Image

from seethink_core.samples.images import ImageBounds, bound_image, bounded_size
from seethink_core.types.methods import GRPOOptions, SFTOptions
from seethink_core.types.options import validate

REF_MIN, REF_MAX = 262144, 4194304  # the reference recipe's data.min_pixels / data.max_pixels


@pytest.mark.parametrize(("size", "bounds", "expected"), [
    # scaled down by sqrt(max / (w*h)) = 0.59120..., each side truncated: 2364.8 -> 2364, 1773.6 -> 1773
    ((4000, 3000), (REF_MIN, REF_MAX), (2364, 1773)),
    # sqrt(2048 / 2049) leaves 2048.4998 and 2047.5: both truncated, so the area ends just under the bound
    ((2049, 2048), (REF_MIN, REF_MAX), (2048, 2047)),
    ((3000, 3000), (0, REF_MAX), (2048, 2048)),
    # scaled up by sqrt(min / (w*h)) = 7.2408...: 724.08 -> 724, 362.04 -> 362
    ((100, 50), (REF_MIN, REF_MAX), (724, 362)),
    ((1000, 10), (REF_MIN, 0), (5120, 51)),  # factor 5.12 exactly: 51.2 -> 51
    # inside the bounds, or no bounds at all: untouched
    ((512, 512), (REF_MIN, REF_MAX), (512, 512)),
    ((640, 480), (REF_MIN, REF_MAX), (640, 480)),
    ((5000, 4000), (0, 0), (5000, 4000)),
    # down first, then up on the result, as there: 20x10 -> 14x7 (98 px) -> sqrt(99/98) keeps 14x7
    ((20, 10), (99, 100), (14, 7)),
])
def test_sizes_follow_easyr1s_formula(size, bounds, expected):
    assert bounded_size(*size, *bounds) == expected
    assert ImageBounds(*bounds).size(*size) == expected


def test_a_side_never_reaches_zero():
    # 10000x1 scaled by 0.1 would be 1000x0, which PIL refuses (EasyR1 fails there); one pixel is kept.
    assert bounded_size(10000, 1, 0, 100) == (1000, 1)
    assert bound_image(Image.new("RGB", (10000, 1)), ImageBounds(0, 100)).size == (1000, 1)


def test_bound_image_resizes_with_pils_default_filter_then_converts_to_rgb():
    src = Image.effect_noise((90, 60), 64).convert("RGB")
    out = bound_image(src, ImageBounds(min_pixels=10000))
    assert out.size == (122, 81) == bounded_size(90, 60, 10000, 0) and out.mode == "RGB"
    assert out.tobytes() == src.resize((122, 81), Image.Resampling.BICUBIC).tobytes()
    # a palette image is resized in its own mode (PIL's default for it is NEAREST), then made RGB
    pal = Image.effect_noise((90, 60), 64).convert("P")
    got = bound_image(pal, ImageBounds(min_pixels=10000))
    assert got.mode == "RGB" and got.tobytes() == pal.resize((122, 81)).convert("RGB").tobytes()


def test_an_image_inside_the_bounds_is_kept_as_it_is():
    src = Image.new("RGB", (64, 64), "red")
    assert bound_image(src, ImageBounds(100, 100000)) is src
    gray = Image.new("L", (64, 64), 7)
    kept = bound_image(gray, ImageBounds(100, 100000))
    assert kept.size == (64, 64) and kept.mode == "RGB"


def test_bounds_of_method_options():
    assert ImageBounds.of(GRPOOptions()) == ImageBounds() and not ImageBounds.of(GRPOOptions()).active
    assert ImageBounds.of(SFTOptions(min_pixels=4, max_pixels=9)) == ImageBounds(4, 9)
    assert ImageBounds.of(object()) == ImageBounds()  # options without the fields have no bounds


def test_the_options_are_checked():
    ok, problems = validate(GRPOOptions, {"min_pixels": REF_MIN, "max_pixels": REF_MAX})
    assert not problems and (ok.min_pixels, ok.max_pixels) == (REF_MIN, REF_MAX)
    _, problems = validate(SFTOptions, {"min_pixels": 5000, "max_pixels": 4000}, what="sft")
    assert len(problems) == 1 and "'min_pixels' (5000) must not be above 'max_pixels' (4000)" in problems[0].message
    _, problems = validate(GRPOOptions, {"max_pixels": -1})
    assert "must be at least 0" in problems[0].message
    # one bound alone is fine either way round (0 = none)
    assert not validate(GRPOOptions, {"min_pixels": 5000})[1] and not validate(GRPOOptions, {"max_pixels": 10})[1]
    _, problems = validate(GRPOOptions, {"overlong_prompts": "cut"})
    assert "one of 'truncate', 'drop'" in problems[0].message

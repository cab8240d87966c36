"""Draw a scene with PIL. Pure function of (scene, size): the same scene gives the same bytes.

Only Pillow's bundled font is used, never a system font, so images do not depend
on the machine they are drawn on.
"""

from __future__ import annotations

from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from seethink_synthetic.scene import Scene, Shape

RGB = {
    "red": (220, 40, 40),
    "blue": (40, 80, 220),
    "green": (30, 160, 60),
    "yellow": (240, 210, 30),
    "purple": (140, 50, 170),
    "orange": (245, 130, 20),
}
# Light fills take dark digits; everything else white, for contrast.
_DARK_TEXT = {"yellow", "orange"}
BACKGROUND = (255, 255, 255)


@lru_cache(maxsize=64)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=max(6, px))


def render(scene: Scene, size: int) -> Image.Image:
    img = Image.new("RGB", (size, size), BACKGROUND)
    draw = ImageDraw.Draw(img)
    if scene.is_chart:
        _draw_chart(draw, scene, size)
    else:
        for shape in scene.shapes:
            _draw_shape(draw, shape, size / scene.grid)
    return img


def _draw_shape(draw: ImageDraw.ImageDraw, s: Shape, cell: float) -> None:
    cx, cy = (s.col + 0.5) * cell, (s.row + 0.5) * cell
    r = cell * (0.44 if s.size == "large" else 0.34)
    fill = RGB[s.color]
    if s.kind == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    elif s.kind == "square":
        q = r * 0.88
        draw.rectangle((cx - q, cy - q, cx + q, cy + q), fill=fill)
    elif s.kind == "triangle":
        draw.polygon([(cx, cy - r), (cx + r, cy + r * 0.8), (cx - r, cy + r * 0.8)], fill=fill)
    elif s.kind == "diamond":
        draw.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fill)
    else:  # a new kind must be drawn before it can be generated
        raise ValueError(f"no drawing for shape kind '{s.kind}'")
    if s.number is not None:
        # Triangles have their mass low, so their digits sit lower.
        ty = cy + (r * 0.25 if s.kind == "triangle" else 0)
        text_px = int(cell * (0.42 if s.number < 10 else 0.34))
        color = (0, 0, 0) if s.color in _DARK_TEXT else (255, 255, 255)
        draw.text((cx, ty), str(s.number), fill=color, font=_font(text_px), anchor="mm")


def _draw_chart(draw: ImageDraw.ImageDraw, scene: Scene, size: int) -> None:
    left, right, top, bottom = size * 0.16, size * 0.97, size * 0.05, size * 0.95
    unit = (bottom - top) / scene.bar_max
    tick_every = 1 if scene.bar_max <= 8 else 2
    font = _font(int(size * 0.08))
    # Gridlines at every unit, labelled every tick, so a bar's value can be read off the axis.
    for v in range(scene.bar_max + 1):
        y = bottom - v * unit
        draw.line((left, y, right, y), fill=(215, 215, 215) if v else (0, 0, 0), width=1)
        if v % tick_every == 0:
            draw.text((left - 2, y), str(v), fill=(0, 0, 0), font=font, anchor="rm")
    draw.line((left, top, left, bottom), fill=(0, 0, 0), width=1)
    slot = (right - left) / len(scene.bars)
    for i, bar in enumerate(scene.bars):
        x0 = left + i * slot + slot * 0.18
        x1 = left + (i + 1) * slot - slot * 0.18
        draw.rectangle((x0, bottom - bar.value * unit, x1, bottom), fill=RGB[bar.color])

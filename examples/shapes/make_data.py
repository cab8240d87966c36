"""Write the example data set: a few 3 by 3 grids with red squares, as PNG images and JSON Lines.

    python examples/shapes/make_data.py        # rewrites examples/shapes/data/ (deterministic)

Each picture is one record of two files, the same image asked two ways: count the squares
(perception) and count the empty cells (visual reasoning). The records use the field names
seethink reads by default (docs/dsl.md, "Data files"): `id`, `question` (the prompt), `image`
(a path relative to the JSONL file), `answer` and `difficulty`. The reasoning file names its
prompt `problem` and its answer `solution`, two of the other accepted names.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent / "data"
CELL = 16  # pixels per grid cell: a 48 x 48 image, a few hundred bytes as a palette PNG
TRAIN, EVAL = 8, 4


def draw(cells: list[int]) -> Image.Image:
    im = Image.new("P", (3 * CELL, 3 * CELL), 0)
    im.putpalette([255, 255, 255, 200, 200, 200, 220, 30, 30])  # white, grey grid lines, red squares
    d = ImageDraw.Draw(im)
    for k in range(4):
        d.line([(k * CELL, 0), (k * CELL, 3 * CELL)], fill=1)
        d.line([(0, k * CELL), (3 * CELL, k * CELL)], fill=1)
    for c in cells:
        x, y = (c % 3) * CELL, (c // 3) * CELL
        d.rectangle([x + 4, y + 4, x + CELL - 4, y + CELL - 4], fill=2)
    return im


def write(name: str, rows: list[dict]) -> None:
    (HERE / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def main() -> None:
    rng = random.Random(0)
    (HERE / "images").mkdir(parents=True, exist_ok=True)
    count: dict[str, list[dict]] = {"train": [], "eval": []}
    empty: list[dict] = []
    for i in range(TRAIN + EVAL):
        split = "train" if i < TRAIN else "eval"
        n = rng.randint(1, 6)
        image = f"images/grid{i}.png"
        draw(rng.sample(range(9), n)).save(HERE / image, optimize=True)
        count[split].append({"id": f"{split}{i}", "question": "How many red squares are there?", "image": image,
                             "answer": str(n), "difficulty": round((n - 1) / 5, 2)})
        if split == "train":
            empty.append({"id": f"empty{i}", "problem": "The picture is a 3 by 3 grid. How many of its cells "
                          "are empty?", "image": image, "solution": str(9 - n)})
    write("count_train.jsonl", count["train"])
    write("count_eval.jsonl", count["eval"])
    write("empty_train.jsonl", empty)


if __name__ == "__main__":
    main()

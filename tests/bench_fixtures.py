"""Local copies of the reference's eight benchmarks, a few rows each, in each hub release's own schema.

``write_suite(root)`` writes ``root/<benchmark>/data/<split>-00000-of-00001.parquet`` (MathVerse:
``testmini.parquet``; MMStar: ``mmstar.parquet``) for every benchmark, with the other files those
repositories hold beside them — the layout ``hf download <id> --repo-type dataset --local-dir
root/<benchmark>`` gives — with images drawn by PIL and stored as the hub stores them
(``{"bytes", "path"}`` structs). Column names, types and value forms follow each data set's card (see
the adapters' docstrings in seethink_data).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

SPLITS = {"mathvista": "testmini", "mathvision": "testmini", "mathverse": "testmini", "wemath": "testmini",
          "aokvqa": "validation", "realworldqa": "test", "mmstar": "val", "pope": "test"}


def image(kind: str, seed: int = 0) -> dict[str, Any]:
    """A small PNG drawn with PIL (a shape and a number), as a hub image struct."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 48), (255, 255, 255))
    draw = ImageDraw.Draw(img)
    colour = ((seed * 70) % 256, (seed * 130) % 256, 200)
    if kind == "triangle":
        draw.polygon([(8, 40), (56, 40), (32, 6)], outline=(0, 0, 0), fill=colour)
    elif kind == "circle":
        draw.ellipse([12, 4, 52, 44], outline=(0, 0, 0), fill=colour)
    else:
        draw.rectangle([10, 8, 54, 40], outline=(0, 0, 0), fill=colour)
    draw.text((4, 2), str(seed), fill=(0, 0, 0))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return {"bytes": buf.getvalue(), "path": f"{kind}_{seed}.png"}


def mathvista_rows() -> list[dict[str, Any]]:
    def row(pid, question, choices, answer, qtype, atype, precision=None, unit=None, task="figure question answering"):
        hint = {"integer": "requiring an integer answer and provide the final value, e.g., 1, 2, 3, at the end",
                "float": f"requiring a floating-point number with {int(precision or 0)} decimal places and provide "
                         "the final value, e.g., 1.23, 1.34, 1.45, at the end",
                "list": "requiring a Python list as an answer and provide the final list, e.g., [1, 2, 3], at the end",
                "text": "and provide the correct option letter, e.g., A, B, C, D, at the end"}[atype]
        query = f"Hint: Please answer the question {hint}.\nQuestion: {question}"
        if choices:
            query += "\nChoices:\n" + "\n".join(f"({chr(65 + i)}) {c}" for i, c in enumerate(choices))
        return {"pid": pid, "question": question, "image": f"images/{pid}.jpg",
                "decoded_image": image("rectangle", int(pid)), "choices": choices, "unit": unit,
                "precision": precision, "answer": answer, "question_type": qtype, "answer_type": atype,
                "metadata": {"category": "math-targeted-vqa", "context": "synthetic scene", "grade": "daily life",
                             "img_height": 48, "img_width": 64, "language": "english",
                             "skills": ["arithmetic reasoning"],
                             "source": "fixture", "split": "testmini", "task": task},
                "query": query}

    return [
        row("1", "What fraction of the shape is blue?", ["3/11", "8/11", "6/11", "3/5"], "8/11",
            "multi_choice", "text"),
        row("2", "Which number is missing?", None, "14", "free_form", "integer", task="math word problem"),
        row("3", "How much money does Luca need? (Unit: $)", None, "1.45", "free_form", "float", 2.0),
        row("4", "Between which two years is the peak?", None, "[2007, 2008]", "free_form", "list"),
    ]


def mathvision_rows() -> list[dict[str, Any]]:
    return [
        {"id": "1", "question": "<image1>\nHow many triangles are there?", "options": [], "image": "images/1.jpg",
         "decoded_image": image("triangle", 1), "answer": "3", "solution": None, "level": 2, "subject": "counting"},
        {"id": "2", "question": "Which shape comes next? <image1>", "options": ["A", "B", "C", "D", "E"],
         "image": "images/2.jpg", "decoded_image": image("circle", 2), "answer": "C", "solution": None, "level": 1,
         "subject": "logic"},
        {"id": "3", "question": "<image1>\nWhat is the area of the shaded part?", "options": [],
         "image": "images/3.jpg", "decoded_image": image("rectangle", 3), "answer": "\\frac{1}{2}", "solution": None,
         "level": 3, "subject": "metric geometry - area"},
    ]


def mathverse_rows() -> list[dict[str, Any]]:
    rows = []
    for problem, qtype, answer, question in (
            ("1", "multi-choice", "B",
             "As shown in the figure, find the length of BC.\nChoices:\nA:2\nB:2√{3}\nC:√{3}"),
            ("2", "free-form", "22.3", "Find the distance d to one decimal place.")):
        for k, version in enumerate(("Text Dominant", "Vision Intensive", "Vision Only")):
            q = question if version != "Vision Only" else ""
            rows.append({"sample_index": f"{problem}{k}", "problem_index": problem, "problem_version": version,
                         "question": q, "image": image("triangle", int(problem) * 10 + k), "answer": answer,
                         "question_type": qtype,
                         "metadata": {"split": "testmini", "source": "fixture", "subject": "plane geometry",
                                      "subfield": "length"},
                         "query_wo": f"Please directly answer the question.\nQuestion: {q}",
                         "query_cot": f"Please first conduct reasoning, and then answer the question.\nQuestion: {q}",
                         "question_for_eval": question})
    return rows


def wemath_rows() -> list[dict[str, Any]]:
    def row(pid, key, number, answer):
        return {"ID": pid, "split": "testmini", "knowledge concept": "Area of Triangles",
                "question": f"Problem {pid}, part {key}: what is the area?",
                "option": "A. 6cm²; B. 8cm²; C. 10cm²; D. 12cm²; E. No correct answer", "answer": answer,
                "image_path": image("triangle", number), "key": key, "question number": number,
                "knowledge concept description": "The area of a triangle is half base times height."}

    return [row("2steps-1", "2steps_1", 1, "A"), row("2steps-1", "2steps_2", 2, "B"),
            row("2steps-1", "2steps_multi", 3, "C"),
            row("3steps-1", "3steps_1", 4, "A"), row("3steps-1", "3steps_2", 5, "B"),
            row("3steps-1", "3steps_3", 6, "C"), row("3steps-1", "3steps_multi", 7, "D")]


def aokvqa_rows() -> list[dict[str, Any]]:
    return [
        {"image": image("circle", 1), "question_id": "q1", "question": "What is the round object used for?",
         "choices": ["eating", "playing", "sleeping", "reading"], "correct_choice_idx": 1,
         "direct_answers": ["playing"] * 10, "difficult_direct_answer": False, "rationales": ["It is a ball."]},
        {"image": image("rectangle", 2), "question_id": "q2", "question": "Where could this box be found?",
         "choices": ["ocean", "kitchen", "sky", "forest"], "correct_choice_idx": 1,
         "direct_answers": ["kitchen"] * 10, "difficult_direct_answer": True, "rationales": ["Boxes hold food."]},
    ]


def realworldqa_rows() -> list[dict[str, Any]]:
    instruction = "Please answer directly with only the letter of the correct option and nothing else."
    return [
        {"image": image("rectangle", 1), "answer": "B",
         "question": f"Which object is closer to the camera?\nA. The tree\nB. The car\nC. The house\n{instruction}"},
        {"image": image("circle", 2), "answer": "3",
         "question": "How many lanes does the road have? Please answer directly with a single word or number."},
    ]


def mmstar_rows() -> list[dict[str, Any]]:
    return [
        {"index": 0, "question": "What shape is shown?\nOptions: A: circle, B: square, C: triangle, D: star",
         "image": image("circle", 0), "answer": "A", "category": "coarse perception",
         "l2_category": "image scene and topic", "meta_info": {"source": "fixture", "split": "val"}},
        {"index": 1, "question": "What colour is the border?\nOptions: A: red, B: blue, C: black, D: green",
         "image": image("rectangle", 1), "answer": "C", "category": "fine-grained perception",
         "l2_category": "attribute recognition", "meta_info": {"source": "fixture", "split": "val"}},
    ]


def pope_rows() -> list[dict[str, Any]]:
    rows = []
    for i, (cat, ans) in enumerate((("adversarial", "yes"), ("adversarial", "no"), ("popular", "yes"),
                                    ("popular", "no"), ("random", "yes"), ("random", "no"))):
        rows.append({"id": str(i), "question_id": str(i + 1), "question": f"Is there a circle in the image? ({i})",
                     "answer": ans, "image_source": f"COCO_val2014_{i:012d}", "image": image("circle", i),
                     "category": cat})
    return rows


ROWS = {"mathvista": mathvista_rows, "mathvision": mathvision_rows, "mathverse": mathverse_rows,
        "wemath": wemath_rows, "aokvqa": aokvqa_rows, "realworldqa": realworldqa_rows, "mmstar": mmstar_rows,
        "pope": pope_rows}


# Where each release keeps its rows (the repository's own layout), and what else lies beside them that a
# reader must not take for rows of the split: MathVerse and WeMath hold the rows again as JSON, MathVerse
# its text-only set, MathVista its annotations.
LAYOUT = {"mathverse": "testmini.parquet", "mmstar": "mmstar.parquet"}
DECOYS = {"mathverse": ("testmini.json", "testmini_text_only.parquet"),
          "wemath": ("testmini.json", "knowledge_structure_nodes.json"),
          "mathvista": ("annot_testmini.json",)}


def _text_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if not isinstance(v, dict)} for r in rows]


def write_benchmark(name: str, root: Path) -> Path:
    """``root/<name>/data/<split>-00000-of-00001.parquet`` (or the release's own file, ``LAYOUT``), with
    the release's other files beside it (``DECOYS``); returns ``root/<name>``."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(root) / name
    target = folder / LAYOUT.get(name, f"data/{SPLITS[name]}-00000-of-00001.parquet")
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = ROWS[name]()
    pq.write_table(pa.Table.from_pylist(rows), target)
    for decoy in DECOYS.get(name, ()):
        if decoy.endswith(".parquet"):
            pq.write_table(pa.Table.from_pylist(_text_only(rows)[:1]), folder / decoy)
        else:
            (folder / decoy).write_text(json.dumps(_text_only(rows)), encoding="utf-8")
    return folder


def write_suite(root: Path) -> Path:
    for name in ROWS:
        write_benchmark(name, root)
    return Path(root)

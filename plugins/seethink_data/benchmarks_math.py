"""The reference's visual-math benchmarks, each read in its hub layout (dataset cards; the column use
follows VLMEvalKit and lmms-eval). Capability ``visual_reasoning``; ``meta["benchmark"]`` names the
benchmark for its evaluator (seethink_eval), ``meta["choices"]`` holds the options when there are any.

- ``mathvista`` — ``AI4Math/MathVista``, split ``testmini`` (1,000): ``pid``, ``question``, ``image``
  (a file name), ``decoded_image``, ``choices`` (a list, or none), ``unit``, ``precision``, ``answer``,
  ``question_type`` (``multi_choice`` / ``free_form``), ``answer_type`` (``integer`` / ``float`` /
  ``text`` / ``list``), ``metadata`` (task, skills, …), ``query`` (the official prompt with its hint:
  the prompt here).
- ``mathvision`` — ``MathLLMs/MathVision``, split ``testmini`` (304): ``id``, ``question`` (with
  ``<image1>``), ``options`` (a list; empty for a free answer), ``image`` (a file name),
  ``decoded_image``, ``answer`` (a letter when there are options), ``solution``, ``level``, ``subject``.
  The options are appended to the prompt as "Options: A. … B. …".
- ``mathverse`` — ``AI4Math/MathVerse``, configuration and split ``testmini`` (3,940 rows: 788 problems
  in five versions): ``sample_index``, ``problem_index``, ``problem_version``, ``question``, ``image``,
  ``answer``, ``question_type`` (``multi-choice`` / ``free-form``), ``metadata`` (subject, subfield),
  ``query_wo``, ``query_cot``, ``question_for_eval``. Only the ``Vision Intensive`` rows are kept (the
  reference's MathVerse_MINI_Vision_Intensive); the prompt is ``query_cot``. A local copy reads
  ``testmini.parquet`` (the repository also holds ``testmini.json`` and the text-only set).
- ``wemath`` — ``We-Math/We-Math``, split ``testmini`` (1,740 rows = 525 composite problems): ``ID``
  (the composite problem), ``split``, ``knowledge concept``, ``question``, ``option`` ("A. …; B. …"),
  ``answer`` (a letter), ``image_path`` (the image), ``key`` (``2steps_1``, ``2steps_2``,
  ``2steps_multi``, ``3steps_1``, …), ``question number``. ``ID`` and ``key`` stay in ``meta`` for the
  four-dimensional metrics; the row number is the sample id (``ID`` repeats within a problem). A local
  copy reads ``data/testmini-*.parquet`` (the repository also holds the rows as ``testmini.json``).
"""

from __future__ import annotations

import re
from typing import Any

from seethink_core.types.sample import Sample
from seethink_data.adapters import Adapter, adapter_factory, tagged

_COLUMNS = frozenset({"id", "prompt", "answer", "images", "capability", "source", "meta"})
HUB_SHARDS = "data/{split}-*.parquet"  # the hub's parquet layout (a card's `data_files`)
_IMAGE_REF = re.compile(r"\s*<image\d*>\s*")
LETTERS = "ABCDEFGHIJ"


def with_options(question: str, options: list[str]) -> str:
    """The question, then "Options:" and one "A. text" line per option (none: the question alone)."""
    if not options:
        return question.strip()
    lines = "\n".join(f"{LETTERS[i]}. {o}" for i, o in enumerate(options))
    return f"{question.strip()}\nOptions:\n{lines}"


def _metadata(sample: Sample, record: dict[str, Any]) -> None:
    """A ``metadata`` dict's small fields (task, subject, …) to ``meta``, where evaluators group by them."""
    meta = record.get("metadata")
    if isinstance(meta, dict):
        for k, v in meta.items():
            if isinstance(v, (str, int, float)) and k not in sample.meta:
                sample.meta[k] = v
            elif isinstance(v, list) and all(isinstance(x, str) for x in v):
                sample.meta[k] = list(v)


def _mathvista(sample: Sample, record: dict[str, Any]) -> Sample:
    choices = record.get("choices")
    if isinstance(choices, list) and choices:
        sample.meta["choices"] = [str(c) for c in choices]
    _metadata(sample, record)
    return sample


def _mathvision(sample: Sample, record: dict[str, Any]) -> Sample:
    options = [str(o) for o in record.get("options") or []]
    if options:
        sample.meta["choices"] = options
    sample.prompt = with_options(_IMAGE_REF.sub(" ", sample.prompt), options)
    return sample


def _mathverse(sample: Sample, record: dict[str, Any]) -> Sample:
    _metadata(sample, record)
    return sample


def vision_intensive(record: dict[str, Any]) -> bool:
    return str(record.get("problem_version", "")).strip().lower() == "vision intensive"


_WEMATH_OPTION = re.compile(r"^\s*([A-H])\s*[.:：]\s*(.*?)\s*$", re.S)


def wemath_options(text: str) -> list[str]:
    """``"A. 5cm; B. 6cm; C. 7cm"`` → ``["5cm", "6cm", "7cm"]`` (letters in order from A, else none)."""
    parts = re.split(r"\s*;\s*(?=[A-H]\s*[.:：])", str(text or "").strip())
    out: list[str] = []
    for part in parts:
        m = _WEMATH_OPTION.match(part)
        if not m or m.group(1) != LETTERS[len(out)]:
            return []
        out.append(m.group(2).rstrip(";").strip())
    return out


def _wemath(sample: Sample, record: dict[str, Any]) -> Sample:
    options = wemath_options(record.get("option", ""))
    if options:
        sample.meta["choices"] = options
    sample.prompt = with_options(sample.prompt, options)
    return sample


MATHVISTA = Adapter("mathvista", "AI4Math/MathVista", "testmini", "visual_reasoning",
                    {"id": "pid", "prompt": "query", "answer": "answer", "images": "decoded_image"},
                    tagged("mathvista", _mathvista), _COLUMNS, data_files=HUB_SHARDS)
MATHVISION = Adapter("mathvision", "MathLLMs/MathVision", "testmini", "visual_reasoning",
                     {"id": "id", "prompt": "question", "answer": "answer", "images": "decoded_image"},
                     tagged("mathvision", _mathvision), _COLUMNS, data_files=HUB_SHARDS)
MATHVERSE = Adapter("mathverse", "AI4Math/MathVerse", "testmini", "visual_reasoning",
                    {"id": "sample_index", "prompt": "query_cot", "answer": "answer", "images": "image"},
                    tagged("mathverse", _mathverse), _COLUMNS, config="testmini", keep=vision_intensive,
                    data_files="{split}.parquet")
WEMATH = Adapter("wemath", "We-Math/We-Math", "testmini", "visual_reasoning",
                 {"prompt": "question", "answer": "answer", "images": "image_path"},
                 tagged("wemath", _wemath), _COLUMNS, data_files=HUB_SHARDS)

open_mathvista = adapter_factory(MATHVISTA)
open_mathvision = adapter_factory(MATHVISION)
open_mathverse = adapter_factory(MATHVERSE)
open_wemath = adapter_factory(WEMATH)

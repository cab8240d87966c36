"""The reference's perception benchmarks beyond MMStar and POPE (``benchmarks``), in their hub layouts
(dataset cards; the column use follows VLMEvalKit and lmms-eval). Capability ``perception``;
``meta["benchmark"]`` names the benchmark for its evaluator, ``meta["choices"]`` holds the options.

- ``aokvqa`` — ``HuggingFaceM4/A-OKVQA``, split ``validation`` (1,145): ``image``, ``question_id``,
  ``question``, ``choices`` (four), ``correct_choice_idx``, ``direct_answers``,
  ``difficult_direct_answer``, ``rationales``. Multiple choice: the prompt lists the options
  ("Options: A. … B. …"), the answer is the letter of ``correct_choice_idx``.
- ``realworldqa`` — ``xai-org/RealworldQA``, split ``test`` (765): ``image``, ``question`` (with its
  options as "A. …" lines and an instruction, as released), ``answer`` (a letter, or a short answer
  for open questions). No id column: the row number is the id.
"""

from __future__ import annotations

import re
from typing import Any

from seethink_core.types.sample import Sample
from seethink_data.adapters import Adapter, adapter_factory, tagged
from seethink_data.benchmarks_math import HUB_SHARDS, LETTERS, with_options
from seethink_data.records import BadRecord

_COLUMNS = frozenset({"id", "prompt", "answer", "images", "capability", "source", "meta"})
_LINE_OPTION = re.compile(r"^\s*\(?([A-H])\)?[.:)]\s*(.+?)\s*$")


def _aokvqa(sample: Sample, record: dict[str, Any]) -> Sample:
    choices = [str(c) for c in record.get("choices") or []]
    idx = record.get("correct_choice_idx")
    if not choices:
        raise BadRecord("field 'choices' is empty", "missing field")
    if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(choices):
        raise BadRecord(f"field 'correct_choice_idx' must be an option number below {len(choices)}, not {idx!r}",
                        "wrong type")
    sample.meta["choices"] = choices
    sample.answer = LETTERS[idx]
    sample.prompt = with_options(sample.prompt, choices)
    return sample


def line_options(text: str) -> list[str]:
    """Options written one per line as ``A. text`` (``A:``, ``(A)``), consecutive from A; else none."""
    out: list[str] = []
    for line in text.splitlines():
        m = _LINE_OPTION.match(line)
        if m and len(out) < len(LETTERS) and m.group(1) == LETTERS[len(out)]:
            out.append(m.group(2))
        elif out and m is None and line.strip():
            break  # the instruction after the options
    return out


def _realworldqa(sample: Sample, record: dict[str, Any]) -> Sample:
    options = line_options(sample.prompt)
    if len(options) >= 2:
        sample.meta["choices"] = options
    return sample


AOKVQA = Adapter("aokvqa", "HuggingFaceM4/A-OKVQA", "validation", "perception",
                 {"id": "question_id", "prompt": "question", "images": "image"}, tagged("aokvqa", _aokvqa),
                 _COLUMNS, data_files=HUB_SHARDS)
REALWORLDQA = Adapter("realworldqa", "xai-org/RealworldQA", "test", "perception",
                      {"prompt": "question", "answer": "answer", "images": "image"},
                      tagged("realworldqa", _realworldqa), _COLUMNS, data_files=HUB_SHARDS)

open_aokvqa = adapter_factory(AOKVQA)
open_realworldqa = adapter_factory(REALWORLDQA)

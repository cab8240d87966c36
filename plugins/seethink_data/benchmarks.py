"""Rule-scored benchmarks and the validation set, in their hub layouts.

- ``geometry3k`` — ``hiyouga/geometry3k`` (dataset card; the reference validates on its test split,
  docs/reference.md §2): ``problem`` (text with ``<image>``), ``answer``, ``images`` (a list of images);
  splits train / validation / test. Visual reasoning; no id column, so the row index is the id.
- ``mmstar`` — ``Lin-Chen/MMStar`` (dataset card): ``index``, ``question`` (the question, then
  "Options: A: ..., B: ..., ..."), ``image``, ``answer`` (a letter), ``category``,
  ``l2_category``, ``meta_info``; one split, ``val``. Perception, options to ``meta["choices"]``.
- ``pope`` — ``lmms-lab/POPE`` (dataset card): ``id``, ``question_id``, ``question``
  ("Is there a … in the image?"), ``answer`` ("yes"/"no"), ``image_source``, ``image``,
  ``category`` (adversarial / popular / random); split ``test``. Perception.

MMStar and POPE samples carry ``meta["benchmark"]`` for their evaluators (seethink_eval); the other
benchmarks of the reference's table are in ``benchmarks_math`` and ``benchmarks_perception``.
"""

from __future__ import annotations

from seethink_data.adapters import Adapter, adapter_factory, multiple_choice, strip_markers, tagged

GEOMETRY3K = Adapter("geometry3k", "hiyouga/geometry3k", "test", "visual_reasoning",
                     {"prompt": "problem", "answer": "answer", "images": "images"}, strip_markers,
                     frozenset({"id", "prompt", "answer", "images", "capability", "source"}))
MMSTAR = Adapter("mmstar", "Lin-Chen/MMStar", "val", "perception",
                 {"id": "index", "prompt": "question", "answer": "answer", "images": "image"},
                 tagged("mmstar", multiple_choice),
                 frozenset({"id", "prompt", "answer", "images", "capability", "source", "meta"}))
POPE = Adapter("pope", "lmms-lab/POPE", "test", "perception",
               {"id": "question_id", "prompt": "question", "answer": "answer", "images": "image"}, tagged("pope"),
               frozenset({"id", "prompt", "answer", "images", "capability", "source", "meta"}))

open_geometry3k = adapter_factory(GEOMETRY3K)
open_mmstar = adapter_factory(MMSTAR)
open_pope = adapter_factory(POPE)

"""Named fault-injection points for crash tests (issue: resume and fault tolerance).

``SEETHINK_FAULT=<point>[@<step>]`` makes the process SIGKILL itself when it reaches that point
(at that step, if given). Points: ``after_rollout``, ``mid_update``, ``checkpoint_write``,
``between_phases``, ``handoff``. Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal


def fault_point(name: str, step: int | None = None) -> None:
    spec = os.environ.get("SEETHINK_FAULT")
    if not spec:
        return
    point, _, at = spec.partition("@")
    if point != name:
        return
    if at and (step is None or int(at) != step):
        return
    os.kill(os.getpid(), signal.SIGKILL)

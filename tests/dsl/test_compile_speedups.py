"""What the compile's shortcuts must leave unchanged: positions built without ``SourcePos.__init__``, the
collector resumed with the build's objects moved out of its youngest generation, a statement's prompt
checked once for every stage that inherits it, and option schemas read once."""

from __future__ import annotations

import dataclasses
import gc
from typing import Literal

import pytest

from seethink_core.collector import BIG_BUILD, collector_paused
from seethink_core.compiler import compile_text
from seethink_core.dsl.fast_parser import _source_pos
from seethink_core.errors import DslError, SourcePos
from seethink_core.types.options import opt, validate


def test_a_position_made_without_init_is_the_same_object():
    # The shortcut writes the dataclass's fields into __dict__; it holds only while SourcePos has no
    # __post_init__ and no slots (then the shortcut must go).
    assert not hasattr(SourcePos, "__post_init__") and not hasattr(SourcePos, "__slots__")
    for end in (7, None):
        fast, slow = _source_pos("f.curr", 3, 5, end), SourcePos("f.curr", 3, 5, end)
        assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
        assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
        assert dataclasses.astuple(fast) == dataclasses.astuple(slow) and not fast < slow
        with pytest.raises(dataclasses.FrozenInstanceError):
            fast.line = 4  # type: ignore[misc]


def _collections_at_resume(objects: int) -> tuple[list[int], list]:
    """The generations the collector walked from a pause that made ``objects`` lists to just after it."""
    runs: list[int] = []

    def seen(phase: str, info: dict) -> None:
        if phase == "start":
            runs.append(info["generation"])

    gc.collect()
    gc.callbacks.append(seen)
    try:
        with collector_paused():
            with collector_paused():
                made = [[i] for i in range(objects)]
            assert not gc.isenabled()  # a nested pause resumes nothing
        assert gc.isenabled()
        [[i] for i in range(1000)]  # more allocations than a young collection waits for
    finally:
        gc.callbacks.remove(seen)
    return runs, made


def _oldest(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects(generation=2))


def test_a_big_build_is_not_walked_when_the_collector_resumes():
    runs, made = _collections_at_resume(2 * BIG_BUILD)
    # Moved, not walked: a young pass would have left them in the middle generation.
    assert len(made) == 2 * BIG_BUILD and _oldest(made[0]) and _oldest(made[-1])
    assert gc.get_count()[0] < 2000


def test_a_small_build_resumes_plainly():
    runs, made = _collections_at_resume(5000)
    assert len(made) == 5000 and runs and runs[0] == 0  # its lists go to the next young collection
    assert not _oldest(made[0])


def test_objects_someone_froze_stay_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with collector_paused():
            [[i] for i in range(1000)]
        assert gc.get_freeze_count() == frozen and gc.isenabled()
    finally:
        gc.unfreeze()


def _curriculum(prompt: str, stages: int) -> str:
    body = "\n".join(f"    stage s{i} {{ data synthetic steps {i + 1} }}" for i in range(stages))
    return (f'curriculum c {{\n    model "m"\n    prompt "{prompt}"\n    reward accuracy\n{body}\n'
            f'    stage own {{ data synthetic steps 2 prompt "{prompt} again" }}\n}}\n')


def test_an_inherited_prompt_is_checked_once_and_reported_where_written(fakes):
    plan = compile_text(_curriculum("{question} Think.", 3), "c.curr", registry=fakes)
    assert [p.prompt for p in plan.phases] == ["{question} Think."] * 3 + ["{question} Think. again"]
    with pytest.raises(DslError) as e:
        compile_text(_curriculum("{questoin} Think.", 3), "c.curr", registry=fakes)
    # One error for the curriculum's prompt (every stage inherits that statement), one for the stage's own.
    found = [(d.pos.line, d.pos.col) for d in e.value.diagnostics if "questoin" in d.message]
    assert found == [(3, 13), (8, 48)], e.value.diagnostics


def _data_lines(line: str, stages: int) -> str:
    body = "\n".join(f"    stage s{i} {{ {line} steps {i + 1} }}" for i in range(stages))
    return f'curriculum c {{\n    model "m"\n    reward accuracy\n{body}\n}}\n'


def test_a_data_line_written_in_every_stage_resolves_alike_and_errs_in_every_stage(fakes):
    """Data lines with the same values reuse one resolution; a line with a problem is resolved (and
    reported) at each stage that writes it, and a value of another type is another line."""
    plan = compile_text(_data_lines("data synthetic(n: 8) weight 0.5", 3), "c.curr", registry=fakes)
    refs = [p.data[0] for p in plan.phases]
    assert all(r == refs[0] for r in refs) and refs[0].options["n"] == 8 and refs[0].weight == 0.5
    with pytest.raises(DslError) as e:
        compile_text(_data_lines("data synthetic(n: 0)", 3), "c.curr", registry=fakes)
    assert sorted(d.pos.line for d in e.value.diagnostics if "'n'" in d.message) == [4, 5, 6]
    mixed = 'curriculum c {\n    model "m"\n    reward accuracy\n' \
            '    stage a { data synthetic(n: 8) steps 1 }\n    stage b { data synthetic(n: 8.5) steps 1 }\n}\n'
    with pytest.raises(DslError) as e:
        compile_text(mixed, "c.curr", registry=fakes)
    assert [d.pos.line for d in e.value.diagnostics if "'n'" in d.message] == [5]


@dataclasses.dataclass(frozen=True)
class _Schema:
    name: str = opt(doc="required")
    rate: float = opt(0.5, gt=0, max=1, hint="a share")
    count: int = opt(1, min=1)


def test_validate_reads_a_schema_once_and_reports_as_before():
    for _ in range(2):  # the second call reads the cached fields
        obj, problems = validate(_Schema, {"rate": 1, "name": "x"})
        assert obj == _Schema(name="x", rate=1.0, count=1) and type(obj.rate) is float and not problems
        _, problems = validate(_Schema, {"rate": 0.0, "count": True, "nmae": "x"}, what="w")
        assert [p.message for p in problems] == [
            "w: option 'rate' must be above 0, not 0", "w: option 'count' must be an integer, not a boolean",
            "w: unknown option 'nmae'", "w: missing required option 'name'"]
        assert problems[0].hint == "a share" and problems[2].hint is not None


def test_choices_keep_their_own_order_whatever_was_validated_first() -> None:
    """Literal hints that are equal as sets are different hints: each lists its choices as written."""
    @dataclasses.dataclass(frozen=True)
    class First:
        model: Literal["phase_init", "base"] = "base"

    @dataclasses.dataclass(frozen=True)
    class Second:
        model: Literal["base", "phase_init"] = "base"

    assert "must be one of 'phase_init', 'base'" in str(validate(First, {"model": "x"})[1])
    assert "must be one of 'base', 'phase_init'" in str(validate(Second, {"model": "x"})[1])

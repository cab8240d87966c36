"""One renderer: file:line:col, the source line, a caret; long lines are cut around the column."""

from __future__ import annotations

from seethink_core.errors import Diagnostic, DslError, SourceCache, SourcePos, did_you_mean, render, render_all


def test_render_points_at_the_column():
    cache = SourceCache({"a.curr": "curriculum x {\n    stpes 10\n}\n"})
    text = render(Diagnostic("unknown keyword 'stpes'", SourcePos("a.curr", 2, 5, 10), "did you mean 'steps'?"), cache)
    assert text.splitlines() == [
        "a.curr:2:5: unknown keyword 'stpes'",
        "        stpes 10",
        "        ^^^^^",
        "    hint: did you mean 'steps'?",
    ]


def test_render_cuts_a_huge_line():
    line = "x" * 3_000_000
    text = render(Diagnostic("too long", SourcePos("big.curr", 1, 2_000_000)), SourceCache({"big.curr": line}))
    assert len(text) < 500 and text.splitlines()[-1].strip() == "^"


def test_errors_are_sorted_and_counted():
    err = DslError([Diagnostic("second", SourcePos("f", 5, 1)), Diagnostic("first", SourcePos("f", 1, 1))])
    out = render_all(err, SourceCache({"f": "a\nb\nc\nd\ne\n"}))
    assert out.index("first") < out.index("second") and out.endswith("2 errors")


def test_did_you_mean():
    assert did_you_mean("acuracy", ["accuracy", "format"]) == "did you mean 'accuracy'?"
    assert did_you_mean("zzz", ["accuracy"]) is None


def test_diagnostics_at_one_place_with_and_without_an_end_sort():
    a = Diagnostic("a", SourcePos("f", 1, 1, None))
    b = Diagnostic("b", SourcePos("f", 1, 1, 5))
    assert [d.message for d in DslError([b, a]).diagnostics] == ["b", "a"]

"""Hostile input: a clean, positioned error quickly, never a traceback or a hang."""

from __future__ import annotations

import time

import pytest

from seethink_core.compiler import check_paths, compile_path, compile_text
from seethink_core.errors import DslError, render_all


def error_of(fn, *args, **kwargs) -> DslError:
    start = time.perf_counter()
    with pytest.raises(DslError) as e:
        fn(*args, **kwargs)
    assert time.perf_counter() - start < 10, "too slow"
    render_all(e.value)  # renders without raising
    return e.value


def test_binary_file(fakes, tmp_path):
    path = tmp_path / "model.curr"
    path.write_bytes(b"curriculum c {\n\x00\x01\x02\xff")
    err = error_of(compile_path, path, registry=fakes)
    [d] = err.diagnostics
    assert "binary file" in d.message and (d.pos.line, d.pos.col) == (2, 1)


def test_non_utf8_file(fakes, tmp_path):
    path = tmp_path / "latin1.curr"
    path.write_bytes('curriculum c {\n  prompt "caf\u00e9 {question}"\n}\n'.encode("latin-1"))
    [d] = error_of(compile_path, path, registry=fakes).diagnostics
    assert "not UTF-8" in d.message and "0xe9" in d.message and (d.pos.line, d.pos.col) == (2, 14)


def test_utf8_bom_is_accepted(fakes, tmp_path):
    path = tmp_path / "bom.curr"
    path.write_bytes(b"\xef\xbb\xbfcurriculum c { model \"tiny_vlm\" reward accuracy "
                     b"stage s { data synthetic steps 1 } }")
    assert compile_path(path, registry=fakes).curriculum == "c"


def test_twenty_thousand_nested_braces(fakes):
    text = "curriculum c " + "{" * 20000 + "}" * 20000
    [d] = error_of(compile_text, text, "deep.curr", registry=fakes).diagnostics
    assert d.pos.line == 1 and d.pos.col == 15 and "'{'" in d.message


def test_twenty_thousand_nested_lists(fakes):
    text = "curriculum c { algorithm grpo(lr: " + "[" * 20000 + "]" * 20000 + ") }"
    [d] = error_of(compile_text, text, "deep.curr", registry=fakes).diagnostics
    assert "nested" in d.message and d.pos.line == 1


def test_twenty_thousand_unclosed_braces(fakes):
    text = "curriculum c {\n" + "stage s {\n" * 20000
    [d] = error_of(compile_text, text, "open.curr", registry=fakes).diagnostics
    assert d.pos.line == 3 and "cannot contain another stage" in d.message


@pytest.mark.parametrize("line", [
    "x" * 3_000_000,
    "curriculum c { prompt \"" + "a" * 3_000_000,
    "# " + "comment " * 400_000 + "\ncurriculum",
    "curriculum c { seed " + "9" * 3_000_000 + " }",
    "{" * 3_000_000,
])
def test_three_megabyte_line(fakes, line):
    err = error_of(compile_text, line, "long.curr", registry=fakes)
    text = render_all(err)
    assert len(text) < 2000  # the quoted line is cut around the caret


def test_a_three_megabyte_prompt_is_fine(fakes):
    text = ('curriculum c { model "tiny_vlm" reward accuracy prompt "{question} ' + "a" * 3_000_000
            + '" stage s { data synthetic steps 1 } }')
    plan = compile_text(text, "long.curr", registry=fakes)
    assert len(plan.phases[0].prompt) > 3_000_000


def test_folder_and_missing_file(fakes, tmp_path):
    [r1, r2] = check_paths([tmp_path, tmp_path / "nope.curr"], registry=fakes)
    assert "is a folder" in r1.diagnostics[0].message
    assert "no such file" in r2.diagnostics[0].message


def test_import_of_a_binary_file(fakes, tmp_path):
    (tmp_path / "bin.curr").write_bytes(b"\x00\x00")
    (tmp_path / "main.curr").write_text('import "bin.curr"\n')
    [r] = check_paths([tmp_path / "main.curr"], registry=fakes)
    assert "binary file" in r.diagnostics[0].message and r.diagnostics[0].pos.file.endswith("bin.curr")


def test_self_import(fakes, tmp_path):
    (tmp_path / "me.curr").write_text('import "me.curr"\n')
    [r] = check_paths([tmp_path / "me.curr"], registry=fakes)
    assert "import cycle: me.curr -> me.curr" in r.diagnostics[0].message


def test_huge_numbers(fakes):
    err = error_of(compile_text, "curriculum c { steps 1e400 }", "n.curr", registry=fakes)
    assert "too large" in err.diagnostics[0].message


def test_parsing_never_executes_code(fakes, tmp_path):
    marker = tmp_path / "pwned"
    text = (f'import "__import__(\'os\').system(\'touch {marker}\')"\n'
            'curriculum c { prompt "{question}{__import__}" }')
    with pytest.raises(DslError):
        compile_text(text, str(tmp_path / "x.curr"), registry=fakes)
    assert not marker.exists()

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


def test_fifteen_thousand_unclosed_braces(fakes):
    # 15,000 rather than 20,000: three tokens a line, and Lark re-parses a whole file only up to 60,000 tokens.
    text = "curriculum c {\n" + "stage s {\n" * 15000
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


def test_a_broken_file_imported_many_times_is_read_once(fakes, tmp_path, monkeypatch):
    from seethink_core.compiler import loader

    (tmp_path / "bad.curr").write_text("vm-host\n")  # what /etc/hostname holds: not a curriculum
    (tmp_path / "main.curr").write_text('import "bad.curr"\n' * 500)
    reads = []
    real_read = loader.source_io.read
    monkeypatch.setattr(loader.source_io, "read", lambda path, display: reads.append(path) or real_read(path, display))
    [r] = check_paths([tmp_path / "main.curr"], registry=fakes)
    assert len(reads) == 2  # main.curr and bad.curr, once each
    assert [d.message for d in r.errors] == ["unexpected name 'vm'"]  # the same error, said once


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


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_unread(fakes, tmp_path, device):
    """/dev/zero and /dev/urandom would be read without end before any size check."""
    [r] = check_paths([device], registry=fakes)
    assert r.diagnostics[0].message == f"{device} is not a regular file (a device, a named pipe or a socket), " \
                                       "so it is not read"
    (tmp_path / "main.curr").write_text(f'import "{device}"\n')
    [r] = check_paths([tmp_path / "main.curr"], registry=fakes)
    assert "is not a regular file" in r.diagnostics[0].message and r.diagnostics[0].pos.line == 1


def test_a_named_pipe_is_refused_without_opening_it(fakes, tmp_path):
    """Opening a FIFO for reading blocks until a writer comes: it must not be opened at all."""
    import os

    fifo = tmp_path / "pipe.curr"
    os.mkfifo(fifo)
    start = time.perf_counter()
    [r] = check_paths([fifo], registry=fakes)
    assert "is not a regular file" in r.diagnostics[0].message
    assert time.perf_counter() - start < 10


def test_a_file_over_the_limit_is_refused_before_it_is_read(fakes, tmp_path, monkeypatch):
    from seethink_core.compiler import source

    path = tmp_path / "big.curr"
    path.write_text("# " + "x" * 2000 + "\n")
    monkeypatch.setattr(source, "MAX_FILE_BYTES", 1024)
    monkeypatch.setattr(type(path), "open", lambda *a, **k: pytest.fail("read a file over the limit"))
    with pytest.raises(DslError) as e:
        source.read(path)
    [d] = e.value.diagnostics
    assert d.message == "file is too large for a curriculum (0 MiB; the limit is 0 MiB)"
    monkeypatch.undo()
    # Quoting a line of a file too large for a curriculum does not load it either.
    from seethink_core.errors import SourceCache

    monkeypatch.setattr("seethink_core.errors.MAX_SOURCE_BYTES", 1024)
    assert SourceCache().line(str(path), 1) is None
    assert SourceCache().line("/dev/zero", 1) is None


def test_missing_value_after_a_long_word_is_fast(fakes):
    """`_previous_word` scanned a regular expression from the text's start: quadratic in a long word."""
    text = 'curriculum c { model "' + "a" * 100_000 + '" seed }'
    start = time.perf_counter()
    err = error_of(compile_text, text, "long.curr", registry=fakes)
    assert time.perf_counter() - start < 2
    assert err.diagnostics[0].message == "missing value after 'seed'"


def test_previous_word_agrees_with_the_pattern_it_replaced():
    import random
    import re

    from seethink_core.dsl.syntax_errors import _previous_word

    pattern = re.compile(r"([A-Za-z_][A-Za-z0-9_]*|[:=,(])[ \t\r\n]*\Z")
    rng = random.Random(0)
    alphabet = "ab9_ :=,(\n\t.\"{}"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        offset = rng.randint(0, len(text))
        m = pattern.search(text[:offset])
        assert _previous_word(text, offset) == (m.group(1) if m else None), repr(text[:offset])


def test_too_many_tokens_is_refused_before_parsing(fakes):
    """Lark parses some 50,000 tokens a second: 16 MiB of `a,a,a,` took minutes. Found by scripts/fuzz."""
    from seethink_core.dsl.parser import MAX_TOKENS

    text = "# a comment is no token\n" * 10 + "curriculum c { freeze " + "a," * MAX_TOKENS + "a }"
    start = time.perf_counter()
    [d] = error_of(compile_text, text, "many.curr", registry=fakes).diagnostics
    assert time.perf_counter() - start < 2
    assert f"more than {MAX_TOKENS:,}" in d.message and (d.pos.line, d.pos.col) == (11, MAX_TOKENS + 19)


def test_a_quoted_value_is_shown_on_one_printable_line(fakes, tmp_path):
    """Found by scripts/fuzz: an import path with a tab, a zero-width space or 50,000 letters was echoed raw."""
    path = tmp_path / "odd.curr"
    path.write_text('import "a\\tb\\n\u200bc"\nimport "' + "x" * 50_000 + '"\n', encoding="utf-8")
    [result] = check_paths([path], registry=fakes)
    first, second = (d.message for d in result.errors)
    assert first == "imported file not found: a\\tb\\n<U+200B>c"
    assert len(second) < 200 and second.endswith("...")


def test_expected_words_are_those_this_place_takes(fakes):
    """LALR lists the end of the file and 'curriculum' after a call in a stage: a call also ends a `source`."""
    text = 'curriculum c {\n  stage a { data synthetic(n: 1) ) }\n}\n'
    [d] = error_of(compile_text, text, "x.curr", registry=fakes).diagnostics
    assert d.message == "unexpected ')'"
    assert "end of the file" not in d.hint and "'curriculum'" not in d.hint and "'}'" in d.hint


def test_quoted_line_is_the_line_the_parser_counted(fakes, tmp_path):
    """A form feed is whitespace to the grammar but a line break to str.splitlines(); a control character
    of the quoted line must not reach the terminal."""
    from seethink_core.errors import render

    path = tmp_path / "ff.curr"
    path.write_text("curriculum c {\x0c seed }\n", encoding="utf-8")
    [d] = check_paths([path], registry=fakes)[0].errors
    quoted = render(d).splitlines()[1]
    assert d.pos.line == 1 and quoted.strip() == "curriculum c {? seed }"


def test_an_error_after_a_long_escaped_string_is_fast(fakes):
    """Found by scripts/fuzz: checking which keywords could come next ran the tree builder once per
    candidate, unescaping a pending 40,000-backslash string each time (5 s)."""
    text = 'curriculum c {\n  model "tiny_vlm"\n  "' + "\\\\" * 20_000 + '" { data }\n}\n'
    start = time.perf_counter()
    [d] = error_of(compile_text, text, "slash.curr", registry=fakes).diagnostics
    assert time.perf_counter() - start < 1
    assert d.message == "unexpected '{'" and d.pos.line == 3


def test_an_unclosed_brace_is_named_by_its_own_header_not_an_earlier_comment():
    """The owner of an unclosed '{' is read after the last brace before it, comments left out: a comment
    such as "# run it as its baseline" above the curriculum once named a merge 'its'."""
    from seethink_core.dsl import parser
    from seethink_core.errors import DslError

    text = '# run it as its baseline\nsource s = hf("x")\ncurriculum c {\n  stage a { steps 1 }\n'
    with pytest.raises(DslError) as e:
        parser.parse(text, "f.curr")
    assert e.value.diagnostics[0].message == "unclosed '{' (opened for curriculum 'c'): the file ends before its '}'"

"""A fuzzer for the curriculum DSL: ``python -m scripts.fuzz --inputs 20000 --seed 0 --limit 2``.

Three kinds of input, each a pure function of ``(seed, kind, index)``:

- ``mutate``: token-level mutations of the shipped curricula (scripts/fuzz/mutate.py);
- ``grammar``: random walks of grammar/curriculum.lark (scripts/fuzz/grammar_walk.py);
- ``noise``: random bytes and unicode, NUL, invalid UTF-8, huge lines, deep nesting (scripts/fuzz/noise.py).

Every input is checked the way ``seethink check`` checks a file, in a child process that a watchdog
kills when it runs past its time (scripts/fuzz/harness.py), and classified as accepted, a clean
error, a bad message (a clean error whose text is not one positioned line), a crash or slow
(scripts/fuzz/report.py saves crashes and slow inputs under build/fuzz/ for reproduction).

It lives under scripts/ rather than tests/ because it is a tool with a command line that the fast
test slice (tests/fuzz/) and the long benchmark (benchmarks/bench_fuzz.py) both import, and because
the child process imports it by module name; it is not part of the installed package.
"""

from __future__ import annotations

from scripts.fuzz.generate import KINDS, FuzzInput, make_input, make_inputs
from scripts.fuzz.harness import Outcome, run_inputs
from scripts.fuzz.report import Summary, summarize

__all__ = ["KINDS", "FuzzInput", "make_input", "make_inputs", "Outcome", "run_inputs", "Summary", "summarize"]

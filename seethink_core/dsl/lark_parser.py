"""The process's one LALR parser (Lark) over grammar/curriculum.lark, with the tree builder inside it.

The grammar is read through ``importlib.resources`` from the package ``seethink_core.grammar``. Lark
builds the parser once per process and caches its tables on disk (per user).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
from typing import Any, Iterator

from seethink_core.dsl.lark_builder import TreeBuilder

_GRAMMAR_PACKAGE = "seethink_core.grammar"
_GRAMMAR_FILE = "curriculum.lark"


def grammar_text() -> str:
    from importlib import resources  # imported here: it costs 20 ms, and a well-formed file never needs it

    return resources.files(_GRAMMAR_PACKAGE).joinpath(_GRAMMAR_FILE).read_text(encoding="utf-8")


def grammar_keywords(grammar: str) -> list[str]:
    """The grammar's quoted words (``"stage"``, ``"seed"``, ...): Lark names each one's terminal by its
    upper-cased text."""
    return sorted(set(re.findall(r'"([a-z_]+)"', grammar)))


def _cache_path(text: str) -> str | bool:
    """A per-user cache file for the parse tables (Lark pickles them), or False when unwritable."""
    if os.environ.get("SEETHINK_NO_GRAMMAR_CACHE"):
        return False
    import hashlib
    from pathlib import Path

    import lark

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "seethink"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if not os.access(folder, os.W_OK):
        return False
    digest = hashlib.sha256((text + lark.__version__).encode()).hexdigest()[:16]
    return str(folder / f"grammar-{digest}.lark-cache")


@functools.lru_cache(maxsize=None)
def _built() -> tuple[Any, TreeBuilder]:
    """The parser (``lark.Lark``) and the builder inside it."""
    from lark import Lark

    text = grammar_text()
    keywords = grammar_keywords(text)
    builder = TreeBuilder(keywords)
    options = dict(parser="lalr", lexer="contextual", start=["start", "literal"], keep_all_tokens=True,
                   maybe_placeholders=False,
                   lexer_callbacks={kw.upper(): builder.whole_keyword for kw in keywords})
    cache = _cache_path(text)
    try:
        return Lark(text, transformer=builder, cache=cache, **options), builder
    except Exception:  # a corrupt or foreign cache file: build without it
        if cache is False:
            raise
        return Lark(text, transformer=builder, **options), builder


def get_parser() -> Any:
    """The process-wide LALR parser (``lark.Lark``); parse with it inside ``lexing``."""
    return _built()[0]


@contextlib.contextmanager
def lexing(text: str, file: str | None = None) -> Iterator[None]:
    """Parse calls inside read ``text``, the contents of ``file``: the tree's positions name ``file``
    (None: the file of the parse this one runs inside, or ``<text>``), and keywords are checked against
    ``text``. Every call of ``get_parser().parse`` runs inside one."""
    with _built()[1].reading(text, file):
        yield

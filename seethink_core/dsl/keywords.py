"""The statement keywords, read once from the declarations (dsl/statements.py): the fast reader, the Lark
tree builder's callers and the syntax error messages all read them from here (the grammar,
grammar/curriculum.lark, is their source)."""

from __future__ import annotations

from seethink_core.dsl.statements import STATEMENTS

# The words that start a setting (in a curriculum or a stage), in the grammar's order: each declared
# statement's keywords (dsl/statements.py), `eval` once for its three statements.
SETTING_KEYWORDS: tuple[str, ...] = tuple(dict.fromkeys(w for s in STATEMENTS for w in s.keywords))

# How Lark's contextual lexer reads a word is mirrored per place by the fast reader: where the grammar
# takes a name, a word is a name unless it is one of the keywords that Lark's parser state there also
# takes (these sets, checked against Lark's tables by tests/dsl/test_fast_parser.py).

# Words Lark reads as keywords where a value may be a bare word (an option's value, a list item).
VALUE_KEYWORDS = frozenset(("true", "false", "none"))
# After `difficulty`, where its optional call may start: its clauses, and what may follow the statement.
DIFFICULTY_KEYWORDS = frozenset(SETTING_KEYWORDS) | {"order", "range", "stage", "merge", "stages", "source"}
# After `eval`, where a call may start.
EVAL_KEYWORDS = frozenset(("every", "settings"))
# After `until` and `or`, where a metric may start.
CONDITION_KEYWORDS = frozenset(("steps",))

WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")  # of a NAME

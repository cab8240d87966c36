"""Every setting statement of the language, declared once: its keyword, its node, how layers and ``merge``
combine it, its ``--set`` form and the plan fields it fills.

The declarations are data. The parsers build the statements of a common shape from them
(``lark_builder``, ``fast_parser``), and the compiler interprets the rest: ``compiler/blocks.py`` layers
by ``layering``, ``compiler/merge.py`` combines by ``merge``, ``compiler/overrides.py`` reads
``set_keys``, and the resolver calls ``resolve``. ``tests/dsl/test_statements.py`` checks the table
against the grammar's ``_setting`` rule, the tree builder, the resolver and the stage spec.

Adding a keyword (docs/architecture.md §3, checklists): its rule in ``grammar/curriculum.lark``, one
``Statement`` here, and the plan field it fills (``types/plan.py``; the stage spec's field of the same
name, ``compiler/stage_spec.py``). A statement of a shape below needs nothing else; one that checks
more than a type names a resolver method that does.
"""

from __future__ import annotations

from dataclasses import dataclass

from seethink_core.dsl import ast

# How layers combine a statement: a stage over its curriculum, an ``extends`` child over its parent,
# ``--set`` over the file (docs/dsl.md, rules table).
SINGLE = "single"  # the top layer's statement replaces the base's
LIST = "list"  # a layer that has any such lines replaces the whole list
KEYED = "keyed"  # ``key: value`` options, merged key by key
CLAUSES = "clauses"  # the node's optional parts (``clauses``), merged part by part
METHOD = "method"  # the same method merges its options key by key; another method replaces them

# How ``merge a, b as m`` combines the members' values when m's block does not set the statement.
SAME = "same"  # every member must agree
UNION = "union"  # the union, in member order
CONCAT = "concat"  # the members' lines one after the other
INTERSECT = "intersect"  # what every member has
ADD_UP = "add_up"  # a budget: steps and samples summed, epochs the largest
OWN = "own"  # not combined: a merge's own, or else the plan's (the backend)

# The part after the keyword, for statements both parsers build the same way: the grammar rule of
# the part (and the fast reader's method), and the node made of (position, part).
SCALAR = "scalar"  # model "m"
CALL = "call"  # backend local(device: "cpu")
NAME = "name"  # capability perception
NAMES = "name_list"  # freeze vision, projector
KWARGS = "kwargs"  # handoff init: base
WEIGHTED_CALL = "weighted_call"  # data geo(...) weight 2: (position, call, weight or None)
WORD_SCALAR = "word_scalar"  # steps 100: (position, the keyword, value); one rule per spelling

# ``--set KEY=VALUE`` forms: how the value becomes the statement (``compiler/overrides.py``).
SET_VALUE = "value"  # KEY=VALUE: the node of the value
SET_NAME = "name"  # KEY=WORD: the node of a name
SET_NAMES = "names"  # KEY=[a, b] or KEY=a: the node of names
SET_WORD = "word"  # KEY=VALUE with the key as the node's word (steps=100)
SET_OPTION = "option"  # KEY.OPTION=VALUE: one keyed option
SET_CLAUSE = "clause"  # KEY.CLAUSE=WORD: one clause, a name
SET_METHOD = "method"  # KEY=NAME: the method (options of the layers below dropped); KEY.OPTION=VALUE: an
#                       option of whichever method the stage runs
SET_PLAN = "plan"  # the plan's own (the backend) and its KEY.OPTION: curriculum level only


@dataclass(frozen=True)
class Statement:
    """One setting statement (allowed at curriculum level, in a stage and in a merge block)."""

    name: str  # what messages call it: "model", "eval settings", "budget"
    node: type  # its syntax node (``ast``)
    kind: str  # its slot in a body's settings (``compiler.blocks.Block``)
    layering: str  # SINGLE | LIST | KEYED | CLAUSES | METHOD
    words: tuple[str, ...] = ()  # the keywords that start it; () when it is ``name``
    rule: str = ""  # its alternative in the grammar's ``_setting`` rule; "" when it is ``kind``
    shape: str | None = None  # the part after the keyword, when it is a common one (above)
    clauses: tuple[str, ...] = ()  # CLAUSES: the node's optional parts
    fields: tuple[str, ...] = ()  # the stage spec's (and the plan phase's) fields it sets
    merge: str = SAME
    merge_kind: str = ""  # the kind merge reports it under, when not ``kind`` (eval settings: eval)
    about: str = ""  # SAME: what a merge's disagreement calls it ("the model")
    example: str = ""  # SAME: how to write it in a merge's block ('model "..."')
    hint: str = ""  # CLAUSES: the hint when none of its clauses is written
    # The resolver method that reads it into ``fields[0]``: from the statement node (SINGLE) or from its
    # options (KEYED). None when another statement's method reads it too (levels and pacing with the
    # difficulty, the eval cadence and eval settings with the eval lines), or when it is a list or the
    # method (``Resolver.stage`` reads those as a body).
    resolve: str | None = None
    positions: tuple[str, ...] = ()  # optional Value parts whose place later checks point at
    set_keys: tuple[str, ...] = ()  # ``--set`` keys; OPTION or CLAUSE stands for any option's name
    set_form: str | None = None
    set_help: str = ""  # how KEY_HELP lists it, when not ``set_keys`` joined

    @property
    def keywords(self) -> tuple[str, ...]:
        return self.words or (self.name,)

    @property
    def grammar_rule(self) -> str:
        return self.rule or self.kind


# In the grammar's order (``_setting``): the fast reader's keyword set and the syntax errors' lists of
# expected keywords follow it.
STATEMENTS: tuple[Statement, ...] = (
    Statement("model", ast.Model, "model", SINGLE, shape=SCALAR, fields=("model",), about="the model",
              example='model "..."', resolve="model_of", set_keys=("model",), set_form=SET_VALUE),
    Statement("backend", ast.Backend, "backend", SINGLE, shape=CALL, merge=OWN,
              set_keys=("backend", "backend.OPTION"), set_form=SET_PLAN, set_help="backend[.OPTION]"),
    Statement("algorithm", ast.Algorithm, "algorithm", METHOD, words=("algorithm", "method"), shape=CALL,
              fields=("method", "algorithm"), about="the method or its options", example="algorithm NAME(...)",
              set_keys=("algorithm", "method", "algorithm.OPTION", "method.OPTION"), set_form=SET_METHOD,
              set_help="algorithm[.OPTION]"),
    Statement("prompt", ast.Prompt, "prompt", SINGLE, shape=SCALAR, fields=("prompt",), about="the prompt",
              example='prompt "..."', resolve="prompt_of", set_keys=("prompt",), set_form=SET_VALUE),
    Statement("system", ast.System, "system", SINGLE, shape=SCALAR, fields=("system",),
              about="the system prompt", example='system "..."', resolve="system_of", set_keys=("system",),
              set_form=SET_VALUE),
    Statement("reward", ast.Reward, "reward", LIST, shape=WEIGHTED_CALL, fields=("rewards",),
              about="the rewards", example="reward NAME weight W"),
    Statement("data", ast.Data, "data", LIST, shape=WEIGHTED_CALL, fields=("data",), merge=CONCAT),
    Statement("eval", ast.Eval, "eval", LIST, rule="eval_stmt", fields=("eval", "eval_text"), about="the eval",
              example="eval ..."),
    Statement("eval every", ast.EvalEvery, "eval_every", SINGLE, words=("eval",), rule="eval_stmt",
              fields=("eval", "eval_text"), set_keys=("eval.every",), set_form=SET_VALUE),
    Statement("eval settings", ast.EvalSettings, "eval_settings", KEYED, words=("eval",), shape=KWARGS,
              fields=("eval", "eval_text"), merge_kind="eval", set_keys=("eval.OPTION",), set_form=SET_OPTION),
    Statement("seed", ast.Seed, "seed", SINGLE, shape=SCALAR, fields=("seed",), about="the seed",
              example="seed N", resolve="seed_of", set_keys=("seed",), set_form=SET_VALUE),
    Statement("freeze", ast.Freeze, "freeze", SINGLE, shape=NAMES, fields=("freeze",), merge=INTERSECT,
              resolve="freeze", set_keys=("freeze",), set_form=SET_NAMES),
    Statement("handoff", ast.Handoff, "handoff", KEYED, shape=KWARGS, fields=("handoff",), about="the hand-off",
              example="handoff ...", resolve="handoff", set_keys=("handoff.OPTION",), set_form=SET_OPTION,
              set_help="handoff.KEY"),
    Statement("capability", ast.Capability, "capability", SINGLE, shape=NAME, fields=("capabilities",),
              merge=UNION, resolve="capabilities_of", set_keys=("capability",), set_form=SET_NAME),
    Statement("budget", ast.Budget, "budget", SINGLE, words=("steps", "epochs", "samples"), shape=WORD_SCALAR,
              fields=("budget",), merge=ADD_UP, resolve="budget", set_keys=("steps", "epochs", "samples"),
              set_form=SET_WORD),
    Statement("until", ast.Until, "until", SINGLE, fields=("transition",), about="the until condition",
              example="until ...", resolve="until", positions=("window", "min_steps")),
    Statement("difficulty", ast.Difficulty, "difficulty", CLAUSES, clauses=("source", "order", "range"),
              fields=("difficulty",), about="the difficulty", example="difficulty ...",
              hint="e.g. difficulty pass_rate(samples: 16) order easy_to_hard",
              set_keys=("difficulty.order",), set_form=SET_CLAUSE),
    Statement("levels", ast.Levels, "levels", SINGLE, fields=("levels",), about="the levels", example="levels ..."),
    Statement("pacing", ast.Pacing, "pacing", SINGLE, shape=CALL, fields=("difficulty",)),
    Statement("mix", ast.Mix, "mix", SINGLE, shape=NAME, fields=("mixture",), about="the mix",
              example="mix blocks", resolve="mixture"),
    Statement("replay", ast.setting_node("Replay", args=tuple), "replay", KEYED, shape=KWARGS,
              fields=("replay_options",), about="the replay", example="replay share: ...", resolve="replay_options",
              set_keys=("replay.OPTION",), set_form=SET_OPTION, set_help="replay.KEY"),
)

BY_NODE: dict[type, Statement] = {s.node: s for s in STATEMENTS}
BY_KIND: dict[str, Statement] = {s.kind: s for s in STATEMENTS}

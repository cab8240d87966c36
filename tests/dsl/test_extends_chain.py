"""``extends`` chains: built once per curriculum, so checking a file costs its bodies, not their squares.

The compiler folds a chain's layers incrementally and reuses a parent's fold for its children; that
is only right because ``layer`` is associative, which the first test checks on random blocks.
"""

from __future__ import annotations

import random

import pytest

from seethink_core.compiler import build, check_paths, compile_text
from seethink_core.compiler.blocks import AlgoLayer, Block, fold, layer
from seethink_core.dsl import ast
from seethink_core.errors import DslError, SourcePos

POS = SourcePos("<t>", 1, 1)


def _random_block(rng: random.Random, i: int, extras: bool) -> Block:
    """A block with what ``layer`` looks at: single settings (the eval cadence among them), the
    algorithm with options, key-by-key settings, and lists that replace."""
    single = {k: f"{k}{i}" for k in ("seed", "model", "eval_every") if rng.random() < 0.4}
    algorithm = None
    if rng.random() < 0.6:
        opts = {k: ast.Arg(POS, ast.Name(POS, k), ast.Value(POS, i))
                for k in ("lr", "group", "kl") if rng.random() < 0.5}
        algorithm = AlgoLayer(ast.Name(POS, rng.choice(["grpo", "ppo"])), POS, opts)
    lists = {k: [f"{k}{i}"] for k in ("eval", "data") if rng.random() < 0.3}
    extra = ({"lr": ast.Arg(POS, ast.Name(POS, "lr"), ast.Value(POS, -i))} if extras and rng.random() < 0.5 else {})
    return Block(f"b{i}", POS if rng.random() < 0.5 else None, single=single, algorithm=algorithm,
                 algorithm_extra=extra, parts={
                     "handoff": {k: i for k in ("a", "b") if rng.random() < 0.3},
                     "eval_settings": {k: i for k in ("top_p", "n") if rng.random() < 0.3},
                     "difficulty": {k: i for k in ("order", "range") if rng.random() < 0.3}}, lists=lists)


def _seen(b: Block) -> tuple:
    """What the resolver reads of a block (``algorithm_reset`` only steers later folds)."""
    algo = None if b.algorithm is None else (b.algorithm.method.value, sorted(
        (k, a.value.value) for k, a in b.algorithm.options.items()))
    return (b.owner, b.pos, b.single, algo, sorted((k, a.value.value) for k, a in b.algorithm_extra.items()),
            {k: v for k, v in b.parts.items() if v}, b.lists)


@pytest.mark.parametrize("seed", range(300))
def test_layer_is_associative(seed):
    rng = random.Random(seed)
    n = rng.randint(2, 6)
    # The first block may carry --set's algorithm.KEY options (a curriculum block folded with its
    # --set); the stage layers never do: --set's stage block is layered after the fold.
    blocks = [_random_block(rng, 0, extras=True)] + [_random_block(rng, i, extras=False) for i in range(1, n)]
    expected = _seen(fold(blocks))
    for split in range(1, n):
        assert _seen(layer(fold(blocks[:split]), fold(blocks[split:]))) == expected, split


def _chain(n: int, child_body: str) -> str:
    lines = ['curriculum c0 { model "m" algorithm grpo '
             'stage s { data capcurriculum_perception reward accuracy steps 2 } }']
    lines += [f"curriculum c{i} extends c{i - 1} {{ {child_body.format(i=i)} }}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def _count_bodies(monkeypatch) -> list[int]:
    calls = [0]
    real = build.build_block

    def counting(*args, **kwargs):
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(build, "build_block", counting)
    return calls


@pytest.mark.parametrize("child_body", ["seed {i}", "stage s {{ steps {i} }}"])
def test_checking_a_deep_chain_builds_each_body_once(fakes, tmp_path, monkeypatch, child_body):
    n = 400
    path = tmp_path / "chain.curr"
    path.write_text(_chain(n, child_body))
    calls = _count_bodies(monkeypatch)
    [result] = check_paths([path], registry=fakes)
    assert result.ok, result.diagnostics
    assert result.curricula == n and result.phases == n
    # One block per curriculum body and one per stage body: n + (n or 1), however deep the chain.
    assert calls[0] == n + (n if "stage" in child_body else 1)


def test_a_deep_chain_compiles_like_a_short_one(fakes):
    text = _chain(2000, "stage s {{ steps {i} }} seed {i}")
    plan = compile_text(text, curriculum="c1999", registry=fakes)
    assert plan.seed == 1999 and plan.phases[0].budget.steps == 1999


def test_every_member_of_a_broken_chain_reports_it(fakes, tmp_path):
    path = tmp_path / "broken.curr"
    path.write_text("curriculum a extends c { stage s { data capcurriculum_perception reward accuracy steps 2 } }\n"
                    "curriculum b extends a { seed 1 }\n"
                    "curriculum c extends b { seed 2 }\n"
                    "curriculum d extends c { seed 3 }\n"
                    "curriculum e extends nowhere { seed 4 }\n"
                    "curriculum f extends e { stage s { seed 1 } stage s { seed 2 } }\n")
    [result] = check_paths([path], registry=fakes)
    messages = sorted({d.message for d in result.errors})
    assert "extends cycle: a -> c -> b -> a" in messages
    assert "curriculum 'e' extends an unknown curriculum 'nowhere'" in messages
    assert "stage 's' is defined twice in curriculum 'f'" in messages  # a broken chain's bodies are checked too
    for name in "abcdef":  # each alone gives its chain's error, as when checked with the others
        with pytest.raises(DslError) as err:
            compile_text(path.read_text(), str(path), curriculum=name, registry=fakes)
        assert any(m in str(err.value) for m in ("extends cycle", "unknown curriculum 'nowhere'")), name


def test_many_curricula_with_unknown_parents_each_get_a_short_hint(fakes, tmp_path):
    path = tmp_path / "orphans.curr"
    path.write_text(" ".join(f"curriculum c{i} extends x{i} {{ }}" for i in range(600)))
    [result] = check_paths([path], registry=fakes)
    assert len(result.errors) == 600
    first = result.errors[0]
    assert first.message == "curriculum 'c0' extends an unknown curriculum 'x0'"
    assert first.hint == "known here: c1, c2, c3, c4, c5, ... (599 in all)"


def test_did_you_mean_among_many_names_still_finds_a_typo():
    from seethink_core.errors import did_you_mean

    names = [f"stage_{i}" for i in range(5000)] + ["perception"]
    assert did_you_mean("perceptoin", names) == "did you mean 'perception'?"
    assert did_you_mean("stage_4999x", names) == "did you mean 'stage_4999'?"


def test_a_curriculum_stops_at_fifty_errors(fakes):
    body = " ".join(f"eval nowhere_{i}" for i in range(80))
    text = f'curriculum c {{ model "m" algorithm grpo stage s {{ data capcurriculum_perception steps 2 {body} }} }}'
    with pytest.raises(DslError) as err:
        compile_text(text, registry=fakes)
    messages = [d.message for d in err.value.diagnostics]
    assert len(messages) == 51 and messages.count("too many errors: stopped after 50") == 1
    assert all(d.pos is not None for d in err.value.diagnostics)

"""Parse + compile speed of the curriculum DSL, and the cold start of ``seethink check``.

    python -m pytest benchmarks/bench_compile.py --benchmark-only

Generated files of 10, 100, 1,000 and 10,000 stages (each with a data mixture, rewards, a budget and an
algorithm override) are compiled with fake plugins from tests/dsl/fakes.py, so the numbers measure
the compiler and nothing a plugin does. ``test_compile_is_linear`` fits the seconds per stage from 10 to
10,000 stages and prints it with time(10,000) / time(1,000), which is about 10 when compiling is linear.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seethink_core.compiler import compile_text
from seethink_core.dsl import parse

ROOT = Path(__file__).resolve().parents[1]


def _fakes():
    spec = importlib.util.spec_from_file_location("seethink_bench_fakes", ROOT / "tests" / "dsl" / "fakes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


FAKES = _fakes()
REGISTRY = FAKES.fake_plugins().registry


def generated(stages: int) -> str:
    """A curriculum with ``stages`` stages, plus a child that reorders and merges some of them."""
    lines = [
        'source geo = hf("hiyouga/geometry3k", split: "train", prompt: "problem", answer: "answer")',
        "curriculum big {",
        '    model     "Qwen/Qwen3-VL-8B-Instruct"',
        "    backend   local(device: \"cpu\")",
        "    algorithm grpo(group: 5, lr: 1e-6, kl: 0.01)",
        '    prompt    "{question} Think, then answer in \\\\boxed{}."',
        "    reward    accuracy weight 0.9",
        "    reward    format   weight 0.1",
        "    eval      geometry3k_test every 50 steps",
    ]
    caps = ("perception", "textual_reasoning", "visual_reasoning")
    for i in range(stages):
        cap = caps[i % 3]
        lines += [
            f"    stage s{i} {{",
            f"        capability {cap}",
            f"        data synthetic(capability: {cap}, n: {64 + i}) weight 2",
            "        data geo weight 0.5",
            f"        steps {10 + i}",
            f"        algorithm grpo(lr: {i + 1}e-7)",
            "        difficulty pass_rate(samples: 16) order easy_to_hard",
            "    }",
        ]
    lines.append("}")
    order = ", ".join(f"s{i}" for i in reversed(range(stages)))
    lines.append(f"curriculum big_reversed extends big {{ stages {order} }}")
    if stages >= 2:
        lines.append("curriculum big_merged extends big { merge s0, s1 as first_two }")
    return "\n".join(lines) + "\n"


SIZES = [10, 100, 1000, 10_000]


@pytest.mark.parametrize("stages", SIZES)
def test_parse(benchmark, stages):
    text = generated(stages)
    module = benchmark(parse, text, "generated.curr")
    assert len(module.items) >= 3


@pytest.mark.parametrize("stages", SIZES)
def test_parse_and_compile(benchmark, stages):
    text = generated(stages)
    plan = benchmark(compile_text, text, "generated.curr", registry=REGISTRY)
    assert len(plan.phases) == stages


def _best_seconds(text: str, rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        compile_text(text, "generated.curr", registry=REGISTRY)
        best = min(best, time.perf_counter() - start)
    return best


def test_compile_is_linear(benchmark):
    """Parse + compile from 10 to 10,000 stages: the least-squares seconds per stage, and the ratio
    time(10,000) / time(1,000) (10 when linear; a cost per stage that grows with the file shows as more)."""
    texts = {n: generated(n) for n in SIZES}
    seconds = {n: _best_seconds(texts[n], 5 if n <= 1000 else 2) for n in SIZES}
    plan = benchmark.pedantic(compile_text, (texts[10_000], "generated.curr"), {"registry": REGISTRY},
                              rounds=1, iterations=1)
    mean_n = sum(SIZES) / len(SIZES)
    mean_t = sum(seconds.values()) / len(SIZES)
    slope = sum((n - mean_n) * (seconds[n] - mean_t) for n in SIZES) / sum((n - mean_n) ** 2 for n in SIZES)
    ratio = seconds[10_000] / seconds[1000]
    benchmark.extra_info.update({"seconds_per_stage": slope, "ratio_10000_to_1000": ratio,
                                 **{f"seconds_{n}": seconds[n] for n in SIZES}})
    print(f"\nparse+compile: {', '.join(f'{n} stages {seconds[n]:.3f} s' for n in SIZES)}; "
          f"{slope * 1e6:.0f} µs per stage; time(10,000)/time(1,000) = {ratio:.1f}")
    assert len(plan.phases) == 10_000
    assert ratio < 20, f"compiling grows faster than the file: time(10,000)/time(1,000) = {ratio:.1f}"


def test_cold_start_check(benchmark, tmp_path):
    """A fresh interpreter running ``seethink check`` on a 10-stage file (installed plugins, grammar cache warm)."""
    path = tmp_path / "ten.curr"
    path.write_text(generated(10))

    def cold() -> int:
        return subprocess.run([sys.executable, "-m", "seethink_core.cli.main", "check", str(path)],
                              capture_output=True, text=True).returncode

    rc = benchmark.pedantic(cold, rounds=5, iterations=1, warmup_rounds=1)
    assert rc in (0, 2)  # the installed plugins may not register the fakes' names


def extends_chain(depth: int) -> str:
    """``depth`` curricula, each extending the one before and layering its stage and seed."""
    lines = ['curriculum c0 { model "m" algorithm grpo '
             'stage s { data capcurriculum_perception reward accuracy steps 2 } }']
    lines += [f"curriculum c{i} extends c{i - 1} {{ stage s {{ steps {i + 2} }} seed {i} }}" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("depth", [500, 2000])
def test_check_extends_chain(benchmark, tmp_path, depth):
    """``seethink check``'s work on a file whose ``extends`` chain is ``depth`` deep: every curriculum
    compiled, each on its parent's layers (linear in the depth; 2,000 deep took about 59 s when each
    curriculum re-folded its whole chain)."""
    from seethink_core.compiler import check_paths

    path = tmp_path / "chain.curr"
    path.write_text(extends_chain(depth))
    [result] = benchmark.pedantic(check_paths, ([path],), {"registry": REGISTRY}, rounds=3, iterations=1)
    assert result.ok and result.phases == depth

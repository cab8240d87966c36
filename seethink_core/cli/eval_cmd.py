"""``seethink eval CHECKPOINT``: score one checkpoint (any Hugging Face folder, also one trained by the
OpenRLHF backend, or a registered model name) on a curriculum's eval sets, one data source, a suite of
benchmarks (``--suite reference``: the reference's table, docs/eval.md), or the synthetic world's
built-in suite."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

from seethink_core.errors import ConfigError
from seethink_core.types.plan import DataRef, EvalSpec, Phase, RewardRef, TrainingPlan

# The synthetic world's built-in suite: every item has gold facts, all three capabilities.
SUITE = DataRef("synthetic", {"count": 60, "level": "mixed"}, name="synthetic_suite")
# A benchmark suite's generation limit unless --max-tokens: the reference's response limit (its training
# max_response_length; its evaluation settings are VLMEvalKit's and not in the release).
SUITE_MAX_TOKENS = 2048


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a checkpoint: accuracy, length, format, perception/reasoning split")
    p.add_argument("checkpoint", help="a Hugging Face model folder, a registered model name or a hub id")
    what = p.add_argument_group("what to evaluate on (default: the synthetic world's built-in suite)")
    what.add_argument("--file", "-f", help="a .curr file: use the eval sets, rewards and prompt of its last phase")
    what.add_argument("--curriculum", "-c", help="which curriculum of --file")
    what.add_argument("--data", "-d", help="a registered data source")
    what.add_argument("--option", "-o", action="append", default=[], metavar="KEY=VALUE",
                      help="an option of --data (repeatable); values are JSON or plain strings")
    what.add_argument("--capability", help="stamp samples of --data that have no capability")
    what.add_argument("--suite", "-s", help="a suite of benchmarks: 'reference' is the reference's table "
                                           "(8 benchmarks, the visual-math and perception averages, the overall)")
    what.add_argument("--suite-dir", metavar="DIR", help="read each benchmark of --suite from DIR/<benchmark> "
                                                         "(a local copy in the hub layout) instead of the hub")
    how = p.add_argument_group("how")
    how.add_argument("--n", type=int, help="completions per sample (more than 1 samples and reports pass@k)")
    how.add_argument("--temperature", type=float, help="sampling temperature (implies sampling)")
    how.add_argument("--top-p", type=float, help="nucleus sampling, in (0, 1] (implies sampling)")
    how.add_argument("--greedy", action="store_true", help="greedy decoding, one completion (the default)")
    how.add_argument("--max-samples", type=int, help="at most this many samples per eval set")
    how.add_argument("--max-tokens", type=int, help="generation limit in tokens")
    how.add_argument("--evaluator", "-e", action="append", default=[], help="evaluators to run (default: all)")
    how.add_argument("--reward", "-r", action="append", default=[],
                     help="grading rewards (default: the phase's, else accuracy and format)")
    how.add_argument("--correctness", default="accuracy", help="the reward component that decides right or wrong")
    how.add_argument("--threshold", type=float, default=0.5, help="a completion is right at or above this score")
    how.add_argument("--prompt", help="prompt template ({question} is the sample's question)")
    how.add_argument("--system", help="system prompt template (default: the phase's eval system prompt; "
                                      "'none' for none)")
    how.add_argument("--judge", metavar="MODULE:FACTORY",
                     help="an answer extractor for the benchmark evaluators where their rules find no answer "
                          "(sets SEETHINK_JUDGE; docs/eval.md)")
    how.add_argument("--backend", "-b", default="local", help="the backend that generates (default: local)")
    how.add_argument("--backend-option", action="append", default=[], metavar="KEY=VALUE",
                     help="an option of the backend (repeatable)")
    p.add_argument("--out", help="where to write the eval JSON (default: eval/<checkpoint name>.json; a run's phase "
                                 "checkpoint is named after the run and phase, eval/<run>-<NN-phase>.json)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.set_defaults(func=run)


def parse_values(items: list[str], flag: str) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as JSON (numbers, booleans, lists) or else kept as a string."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{flag} expects KEY=VALUE, got '{item}'")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def run_phase_of(checkpoint: str) -> tuple[TrainingPlan, Phase] | None:
    """The plan and phase that produced ``checkpoint`` when it sits in a run directory
    (``RUN/phases/NN-name/checkpoint``), so its prompt, rewards and eval sets are reused."""
    path = Path(checkpoint)
    plan_path = path.parent.parent.parent / "plan.json"
    if path.name != "checkpoint" or path.parent.parent.name != "phases" or not plan_path.exists():
        return None
    try:
        plan = TrainingPlan.from_json(plan_path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not ours to judge here: the checkpoint itself may still load
    phase = next((p for p in plan.phases if f"{p.index:02d}-{p.name}" == path.parent.name), None)
    return (plan, phase) if phase is not None else None


def eval_target(args: argparse.Namespace) -> tuple[TrainingPlan | None, Phase | None, EvalSpec]:
    """The plan and phase (from --file, or the run directory the checkpoint sits in) and the eval
    spec the flags describe."""
    from seethink_core.samples.prompting import template_problems, uses_question

    if sum(bool(x) for x in (args.file, args.data, getattr(args, "suite", None))) > 1:
        raise ConfigError("give one of --file, --data and --suite")
    if getattr(args, "suite_dir", None) and not getattr(args, "suite", None):
        raise ConfigError("--suite-dir applies to --suite only")
    plan = phase = None
    found = None if args.file else run_phase_of(args.checkpoint)
    if found is not None:
        plan, phase = found
    if args.file:
        from seethink_core.compiler import compile_path

        plan = compile_path(args.file, curriculum=args.curriculum)
        phase = plan.phases[-1]
        if phase.eval is None or not phase.eval.sets:
            raise ConfigError(f"{args.file}: the last phase ('{phase.name}') has no eval sets",
                              hint="add `eval SOURCE` to the curriculum, or use --data SOURCE")
        spec = phase.eval
    elif getattr(args, "suite", None):
        spec = suite_spec(args.suite, args.suite_dir, phase)
    elif args.data:
        base = phase.eval if phase is not None and phase.eval is not None else EvalSpec()
        spec = dataclasses.replace(base, sets=[DataRef(args.data, parse_values(args.option, "--option"),
                                                       capability=args.capability)])
    elif phase is not None and phase.eval is not None and phase.eval.sets:
        spec = phase.eval
    else:
        # Asked as the phase is evaluated, when the checkpoint comes from a run (the prompt follows in run_eval).
        system = (phase.eval.system if phase.eval is not None else phase.system) if phase is not None else None
        spec = EvalSpec(sets=[SUITE], system=system)
    if args.option and not args.data:
        raise ConfigError("--option applies to --data only")
    changes: dict[str, Any] = {}
    if args.evaluator:
        changes["evaluators"] = list(args.evaluator)
    if args.max_samples is not None:
        changes["max_samples"] = args.max_samples
    if args.max_tokens is not None:
        changes["max_response_tokens"] = args.max_tokens
    if args.n is not None:
        if args.n < 1:
            raise ConfigError(f"--n must be at least 1, not {args.n}")
        changes["n"] = args.n
    if args.temperature is not None:
        changes["temperature"] = args.temperature
    if args.top_p is not None:
        if not 0 < args.top_p <= 1:
            raise ConfigError(f"--top-p must be above 0 and at most 1, not {args.top_p}")
        changes["top_p"] = args.top_p
    # The same rule as `eval settings` (docs/decisions.md): a sampling setting means sampling.
    if (args.n or 1) > 1 or args.temperature is not None or args.top_p is not None:
        changes["greedy"] = False
    if args.greedy:
        if changes.get("greedy") is False:
            raise ConfigError("--greedy contradicts --n > 1, --temperature or --top-p")
        changes["greedy"] = True
    if args.system is not None:
        changes["system"] = None if args.system.strip().lower() in ("", "none") else args.system
    for flag, text in (("--prompt", args.prompt), ("--system", changes.get("system"))):
        problems = template_problems(text) if text else []
        if problems:
            raise ConfigError(f"{flag}: {problems[0].message}", hint=problems[0].hint)
    if args.prompt is not None and not uses_question(args.prompt):
        raise ConfigError("--prompt must contain {question}")
    return plan, phase, dataclasses.replace(spec, **changes)


def suite_spec(name: str, data_dir: str | None, phase: Phase | None) -> EvalSpec:
    """The eval spec of suite ``name``: every benchmark as an eval set, scored by its own evaluator and
    the suite's. Generation allows 2,048 tokens (the reference's response limit) unless --max-tokens;
    the system prompt is the phase's eval prompt when the checkpoint comes from a run (else --system)."""
    from seethink_core.hooks.manager import get_plugins
    from seethink_core.run.eval_suites import find_suite, suite_names, suite_sets

    registry = get_plugins().registry
    suite = find_suite(registry, name)
    if suite is None:
        known = suite_names(registry)
        raise ConfigError(f"unknown suite '{name}'", hint=f"suites: {', '.join(known) or 'none registered'}")
    system = (phase.eval.system if phase.eval is not None else phase.system) if phase is not None else None
    # The bare question: the reference puts its instruction in the system prompt (docs/reference.md §4).
    return EvalSpec(sets=suite_sets(suite, registry, data_dir), evaluators=suite.evaluators, system=system,
                    max_response_tokens=SUITE_MAX_TOKENS, prompt="{question}")


def print_suite(console: Any, name: str, metrics: dict[str, float], out: Path) -> None:
    """Print suite ``name``'s table and add it to the eval JSON at ``out`` (key ``suite``)."""
    from rich.table import Table

    from seethink_core.hooks.manager import get_plugins
    from seethink_core.run.atomic import write_json_atomic
    from seethink_core.run.eval_suites import find_suite, suite_table, table_rows

    suite = find_suite(get_plugins().registry, name)
    if suite is None:
        return
    data = suite_table(suite, metrics)
    try:
        written = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        written = None
    if isinstance(written, dict):
        written["suite"] = data
        write_json_atomic(out, written)
    table = Table(title=f"suite '{name}' (points)")
    for col in ("group", "benchmark", "score"):
        table.add_column(col, justify="right" if col == "score" else "left")
    for group, label, value in table_rows(data):
        bold = label.endswith("average") or label == "overall"
        text = "-" if value is None else f"{value:.2f}"
        table.add_row(group, f"[bold]{label}[/bold]" if bold else label, f"[bold]{text}[/bold]" if bold else text)
    console.print(table)


def open_generator(name: str, options: dict[str, Any], plan: TrainingPlan | None) -> Any:
    from seethink_core.hooks.backend import open_backend
    from seethink_core.hooks.manager import get_plugins

    registry = get_plugins().registry
    spec = registry.get("backend", name)
    if "generate" not in spec.features:
        raise ConfigError(f"backend '{name}' cannot generate, so it cannot evaluate",
                          hint="use --backend local (it loads any Hugging Face folder, OpenRLHF's included)")
    if plan is not None and plan.backend.name == name:
        options = {**plan.backend.options, **options}
    return open_backend(registry, name, options)


def run_root_for(checkpoint: str, out: Path) -> Path | None:
    """The run directory ``checkpoint`` sits in, when ``out`` is written inside it too: eval.json then
    records the checkpoint relative to it and the run directory stays movable (docs/resume.md)."""
    if run_phase_of(checkpoint) is None:
        return None
    root = Path(checkpoint).parent.parent.parent
    return root if out.resolve().is_relative_to(root.resolve()) else None


def checkpoint_name(checkpoint: str) -> str:
    """A file-name-safe name for ``checkpoint``: a run's phase checkpoint (``RUN/phases/NN-name/checkpoint``)
    is ``<run>-<NN-name>`` (every phase's folder is called ``checkpoint``), anything else its last part."""
    path = Path(checkpoint.rstrip("/") or checkpoint)
    if path.name == "checkpoint" and path.parent.parent.name == "phases":
        raw = f"{path.absolute().parent.parent.parent.name}-{path.parent.name}"
    else:
        raw = path.name or checkpoint
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw).strip("_") or "model"


def default_out(checkpoint: str) -> Path:
    return Path("eval") / f"{checkpoint_name(checkpoint)}.json"


def refuse_other_result(out: Path, stored_checkpoint: str | None) -> None:
    """Never replace, by default, the evaluation of another checkpoint: two models whose names clash
    (``a/model`` and ``b/model``) would otherwise silently share one file. The same checkpoint's earlier
    result is replaced (evaluating again is the way to redo it)."""
    try:
        earlier = json.loads(out.read_text(encoding="utf-8")).get("checkpoint")
    except (OSError, ValueError, AttributeError):
        return  # no file, or not one of ours: nothing of an evaluation to lose
    if earlier is not None and earlier != stored_checkpoint:
        raise ConfigError(f"{out} holds the evaluation of another checkpoint ({earlier}); not overwriting it",
                          hint="pass --out FILE to write this one elsewhere (an explicit --out is overwritten)")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: building the parser (`seethink --help`, any other command) needs none.
    from rich.console import Console
    from rich.table import Table

    from seethink_core.hooks.backend import Checkpoint
    from seethink_core.hooks.manager import get_plugins
    from seethink_core.run.eval_types import EvalSettings
    from seethink_core.run.evaluation import run_eval
    from seethink_core.run.run_state import stored_path

    if getattr(args, "judge", None):
        os.environ["SEETHINK_JUDGE"] = args.judge  # read by the benchmark evaluators (seethink_eval.extraction)
    plan, phase, spec = eval_target(args)
    out = Path(args.out) if args.out else default_out(args.checkpoint)
    # A folder is recorded absolute (eval.json is read from other working directories), or relative to
    # the run directory when eval.json goes into the one the checkpoint sits in; a model name as given.
    target = str(Path(args.checkpoint).absolute()) if Path(args.checkpoint).exists() else args.checkpoint
    run_root = run_root_for(args.checkpoint, out)
    if not args.out:  # before the model is loaded: a refusal should cost nothing
        refuse_other_result(out, stored_path(run_root, target) if run_root is not None else target)
    generator = open_generator(args.backend, parse_values(args.backend_option, "--backend-option"), plan)
    rewards = [RewardRef(r) for r in args.reward] or None
    settings = EvalSettings(correctness=args.correctness, threshold=args.threshold)
    console = Console(stderr=args.json)
    console.print(f"[bold]seethink eval[/bold] {args.checkpoint} on "
                  f"{', '.join(r.name or r.source for r in spec.sets)} ({args.backend})")
    try:
        metrics = run_eval(plan, phase, Checkpoint(target), generator, get_plugins().registry, out,
                           label=checkpoint_name(args.checkpoint), spec=spec, rewards=rewards,
                           template=args.prompt, settings=settings, run_root=run_root,
                           progress=lambda name, n: console.print(f"  {name}: {n} samples scored"))
    finally:
        close = getattr(generator, "close", None)
        if close:
            close()
    if args.json:
        if args.suite:
            print_suite(Console(stderr=True), args.suite, metrics, out)
        print(json.dumps(metrics, indent=2, sort_keys=True))
        return 0
    table = Table(title=f"eval of {args.checkpoint}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    # With a suite, each benchmark's break-downs stay in the JSON; the suite's table follows.
    shown = [k for k in sorted(metrics) if not (args.suite and k.startswith(("bench.", "suite.")))]
    for key in shown:
        v = metrics[key]
        table.add_row(key, f"{v:.0f}" if key.startswith(("samples", "split.samples", "split.errors"))
                      or key.endswith("_errors") else f"{v:.4f}")
    console.print(table)
    if args.suite:
        print_suite(console, args.suite, metrics, out)
    console.print(f"written: {out}")
    return 0

"""Resolving a stage's data lines (named and registered sources) and its difficulty."""

from __future__ import annotations

import os
from typing import Any

from seethink_core.compiler.bind import as_dict, bind_args, field_names
from seethink_core.compiler.blocks import Block
from seethink_core.compiler.diagnostics import suggest
from seethink_core.compiler.resolve_core import ResolverCore, _kind, plain_values_key
from seethink_core.compiler.stage_spec import DataItem, NamedSource, StageSpec
from seethink_core.dsl import ast
from seethink_core.types import plan as P
from seethink_core.types.options import NoOptions
from seethink_core.types.sample import SAMPLE_FIELDS
from seethink_core.types.settings import PacingOptions, PassRateOptions, ReplayOptions

ORDERS = ("shuffle", "easy_to_hard", "hard_to_easy")
PACING_KINDS = ("step", "linear", "root")

DIFFICULTY_SOURCES: dict[str, type] = {"none": NoOptions, "column": NoOptions, "pass_rate": PassRateOptions}

class DataResolving(ResolverCore):
    """Data sources and the difficulty settings (source, order, range, levels, pacing)."""

    def named_source(self, name: str) -> NamedSource | None:
        if name in self._named:
            return self._named[name]
        d = self.sources[name]
        spec = self.spec("data_source", d.call.name)
        result = None
        if spec is not None:
            options, mapping = self._split(d.call, spec, f"source '{name}'")
            result = NamedSource(d, spec, options, mapping)
        self._named[name] = result
        return result

    def _split(self, call: ast.Call, spec: Any, what: str,
               args: tuple[ast.Arg, ...] | None = None) -> tuple[dict[str, ast.Arg], dict[str, ast.Arg]]:
        """Keyword args naming a ``Sample`` field are a field mapping when the source is mappable."""
        args = call.args if args is None else args
        mapping: dict[str, ast.Arg] = {}
        rest = []
        for a in args:
            if a.key is not None and spec.mappable and a.key.value in SAMPLE_FIELDS:
                if not isinstance(a.value.value, str):
                    self.diags.error(f"{what}: the field mapping '{a.key.value}' must name a record field "
                                     f"as a string, not {_kind(a.value)}", a.value.pos)
                    continue
                if a.key.value in mapping:
                    self.diags.error(f"{what}: field '{a.key.value}' is mapped twice", a.pos)
                mapping[a.key.value] = a
            else:
                rest.append(a)
        options = bind_args(call, spec.options, what, self.diags, tuple(rest))
        if not spec.mappable:
            for key, a in options.items():
                if key in SAMPLE_FIELDS and key not in field_names(spec.options):
                    self.diags.error(f"{what} takes no field mapping ('{key}:' names a Sample field)",
                                     a.key.pos if a.key else a.pos,
                                     hint="only sources that read records with named fields (hf, jsonl, "
                                          "...) map fields")
                    options = {k: v for k, v in options.items() if k != key}
                    break
        return options, mapping

    def data_ref(self, call: ast.Call, weight: float, capability: str | None,
                 what: str = "data source") -> DataItem | None:
        """The resolved data line. A line whose values were resolved before without a problem (a stage's
        `data geo weight 0.5`, written once per stage) reuses that resolution, at its own position."""
        key = _line_key(call, weight, capability, what)
        found = self._data_lines.get(key) if key is not None else None
        if found is not None:
            return DataItem(found.ref, found.columns, call.pos, found.label)
        before = len(self.diags.items)
        item = self._data_ref(call, weight, capability, what)
        if key is not None and item is not None and len(self.diags.items) == before:
            self._data_lines[key] = item
        return item

    def _data_ref(self, call: ast.Call, weight: float, capability: str | None, what: str) -> DataItem | None:
        name = call.name.value
        named = None
        if name in self.sources:
            named = self.named_source(name)
            if named is None:
                return None
            spec = named.spec
            label = f"source '{name}' ({spec.name})"
            options, mapping = self._split(call, spec, label)
            options = {**named.options, **options}
            mapping = {**named.mapping, **mapping}
        else:
            spec = self.spec("data_source", call.name, extra=list(self.sources))
            if spec is None:
                return None
            label = f"{what} '{name}'"
            options, mapping = self._split(call, spec, label)
        instance = self.check(spec.options, options, label, call.pos)
        if instance is None:
            return None
        ref = P.DataRef(source=spec.name, options=anchor_paths(spec.options, as_dict(instance), options),
                        weight=weight,
                        mapping={k: a.value.value for k, a in mapping.items()},
                        name=name if named is not None else None, capability=capability)
        columns = frozenset(spec.columns) | frozenset(mapping)
        return DataItem(ref, columns, call.pos, label)

    def replay_options(self, args: dict[str, ast.Arg]) -> ReplayOptions | None:
        """``replay share: 0.2, stages: [...]``; the stages are checked against the plan's order once the
        phases are made (phases.replay_of)."""
        return self.check(ReplayOptions, args, "replay", next(iter(args.values())).pos)

    def span(self, span: ast.Span, what: str) -> tuple[float, float] | None:
        lo = self.number(span.lo, f"{what} start", lo=0.0, hi=1.0)
        hi = self.number(span.hi, f"{what} end", lo=0.0, hi=1.0)
        if lo is None or hi is None:
            return None
        if lo > hi:
            self.diags.error(f"{what} {lo:g}..{hi:g} is empty: the start is above the end", span.pos)
            return None
        return lo, hi

    def difficulty(self, block: Block) -> tuple[P.Difficulty, list[tuple[str, float, float]] | None]:
        parts = block.difficulty
        source, estimator = "none", {}
        call = parts.get("source")
        if isinstance(call, ast.Call):
            schema = DIFFICULTY_SOURCES.get(call.name.value)
            if schema is None:
                self.diags.error(f"unknown difficulty source '{call.name.value}'", call.name.pos,
                                 hint=suggest(call.name.value, DIFFICULTY_SOURCES)
                                 or "difficulty comes from: column, pass_rate(...) or none")
            else:
                source = call.name.value
                inst = self.check(schema, bind_args(call, schema, f"difficulty {source}", self.diags),
                                     f"difficulty {source}", call.pos)
                if inst is not None and schema is not NoOptions:
                    estimator = as_dict(inst)
        order = "shuffle"
        order_node = parts.get("order")
        if isinstance(order_node, ast.Name):
            if order_node.value not in ORDERS:
                self.diags.error(f"unknown difficulty order '{order_node.value}'", order_node.pos,
                                 hint=suggest(order_node.value, ORDERS) or f"orders: {', '.join(ORDERS)}")
            else:
                order = order_node.value
        lo, hi = 0.0, 1.0
        range_node = parts.get("range")
        if isinstance(range_node, ast.Span):
            got = self.span(range_node, "difficulty range")
            if got is not None:
                lo, hi = got
        levels = None
        lv = block.single.get("levels")
        if isinstance(lv, ast.Levels):
            levels = []
            seen: set[str] = set()
            for level in lv.levels:
                if level.name.value in seen:
                    self.diags.error(f"level '{level.name.value}' is named twice", level.name.pos)
                    continue
                seen.add(level.name.value)
                got = self.span(level.span, f"level '{level.name.value}'")
                if got is not None:
                    if got[0] == got[1]:
                        self.diags.error(f"level '{level.name.value}' is empty", level.span.pos)
                        continue
                    levels.append((level.name.value, got[0], got[1]))
        pacing = None
        pc = block.single.get("pacing")
        if isinstance(pc, ast.Pacing) and pc.call.name.value != "none":
            kind = pc.call.name.value
            if kind not in PACING_KINDS:
                self.diags.error(f"unknown pacing '{kind}'", pc.call.name.pos,
                                 hint=suggest(kind, PACING_KINDS) or f"pacing: {', '.join(PACING_KINDS)} or none")
            else:
                inst = self.check(PacingOptions, bind_args(pc.call, PacingOptions, f"pacing {kind}", self.diags),
                                     f"pacing {kind}", pc.call.pos)
                if inst is not None:
                    pacing = P.Pacing(kind=kind, **as_dict(inst))
        if source == "none" and (order != "shuffle" or (lo, hi) != (0.0, 1.0) or levels or pacing):
            source = "column"  # ordering or filtering needs a difficulty: the samples' own
        return P.Difficulty(source=source, order=order, min=lo, max=hi, pacing=pacing,
                            estimator=estimator), levels

    def pass_rate_sampling(self, s: StageSpec) -> None:
        """``pass_rate(...)`` samples: temperature 0 gives identical completions, so every rate is 0 or 1."""
        if s.difficulty.source != "pass_rate" or s.difficulty.estimator.get("temperature", 1.0) > 0:
            return
        self.diags.error("difficulty pass_rate: temperature 0 does not sample",
                         s.where.get("difficulty.temperature", s.where.get("difficulty", s.pos)),
                         hint="a pass rate is the share of sampled completions that are right; at temperature 0 "
                              "they are all alike, so every rate is 0 or 1 (the reference samples at 0.7)")

    def grading_component(self, s: StageSpec) -> None:
        """``pass_rate(component: NAME)`` must name one of the stage's rewards (or 'auto', 'total')."""
        component = s.difficulty.estimator.get("component", "auto")
        names = [r.name for r, _, _ in s.rewards]
        if s.difficulty.source != "pass_rate":
            return
        if component in ("auto", "total") or component in names:
            self.grading_threshold(s, component)
            return
        self.diags.error(f"difficulty pass_rate: component '{component}' is not a reward of stage '{s.name}'",
                         s.where.get("difficulty", s.pos),
                         hint=suggest(component, names) or f"its rewards: {', '.join(names) or 'none'}; "
                                                            "or 'auto' or 'total'")

    def grading_threshold(self, s: StageSpec, component: str) -> None:
        """``pass_rate(threshold: T)``: a completion is right when its component reaches T, so T must lie
        above the component's lowest score and at most its highest (else every rate is 1, or 0)."""
        rewards = [r for r, _, _ in s.rewards]
        if component == "auto":  # as difficulty.grading_component picks it: accuracy, an answer grader, total
            graders = ["accuracy"] * any(r.name == "accuracy" for r in rewards) + [
                r.name for r, needs, _ in s.rewards if "answer" in needs]
            component = graders[0] if graders else "total"
        span = self.total_range(rewards) if component == "total" else self.reward_range(component)
        threshold = s.difficulty.estimator.get("threshold", 0.5)
        if span is None or span[0] < threshold <= span[1]:
            return
        lo, hi = span
        rate = "0 (no completion reaches it)" if threshold > hi else "1 (every completion reaches it)"
        self.diags.error(f"difficulty pass_rate: threshold {threshold:g} is outside ({lo:g}, {hi:g}], the scores "
                         f"of {'the total reward' if component == 'total' else f'reward {component!r}'}",
                         s.where.get("difficulty.threshold", s.where.get("difficulty", s.pos)),
                         hint=f"every pass rate would be {rate}; a completion counts as right when its score "
                              f"reaches the threshold (the default is 0.5)")


def _line_key(call: ast.Call, weight: float, capability: str | None, what: str) -> tuple | None:
    """What resolving a data line depends on besides the resolver's sources: the call's name, its
    arguments' values (positional ones by place), the weight, the capability, and the file relative
    paths anchor to; ``None`` when a value is not a plain number, string or none."""
    values = plain_values_key((a.key.value if a.key is not None else None, a) for a in call.args)
    return None if values is None else (call.name.value, weight, capability, what, call.pos.file, values)


def anchor_paths(schema: type, values: dict[str, Any], written: dict[str, ast.Arg]) -> dict[str, Any]:
    """``values`` with each relative path option (the schema's ``path_options``) made absolute against the
    folder of the ``.curr`` file it is written in, as ``import`` paths are: a curriculum then reads the same
    data from any working directory, and a source defined in an imported file reads the files beside it.
    A value from ``--set`` (or text with no file) resolves against the working directory, as a path typed
    on a command line does. The plan holds the absolute path, so it needs no file to be read."""
    out = dict(values)
    for name in getattr(schema, "path_options", ()):
        value, arg = out.get(name), written.get(name)
        if not isinstance(value, str) or arg is None or not value.strip() or "://" in value:
            continue
        if os.path.isabs(os.path.expanduser(value)):  # absolute and ~ paths stay as written
            continue
        where = arg.value.pos.file
        base = os.path.dirname(os.path.abspath(where)) if os.path.isfile(where) else os.getcwd()
        out[name] = os.path.normpath(os.path.join(base, value))
    return out

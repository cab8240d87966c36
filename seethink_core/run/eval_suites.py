"""Evaluation suites: a named table of benchmarks, found in the registry (docs/eval.md).

A suite is an evaluator whose class carries ``suite_groups`` (group name → benchmark names, in the
table's order); each benchmark is registered twice under its name, as the data source that reads it
and the evaluator that scores it. ``seethink eval --suite NAME`` evaluates on every benchmark with
every benchmark's evaluator and the suite's own, which reports ``suite.<NAME>.<benchmark>``,
``suite.<NAME>.<group>`` and ``suite.<NAME>.overall`` (scores in [0, 1]); ``suite_table`` lays those
out as the reference's table (in points, 0–100).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seethink_core.errors import ConfigError
from seethink_core.hooks.registry import Registry
from seethink_core.types.plan import DataRef

# Reported beside the suite's own numbers: the reference's trace-length claim and the format rate.
SUITE_EXTRAS = ("length", "format")


@dataclass(frozen=True)
class Suite:
    name: str
    groups: dict[str, tuple[str, ...]]

    @property
    def benchmarks(self) -> tuple[str, ...]:
        return tuple(b for members in self.groups.values() for b in members)

    @property
    def evaluators(self) -> list[str]:
        return [*self.benchmarks, self.name, *SUITE_EXTRAS]


def find_suite(registry: Registry, name: str) -> Suite | None:
    """The suite registered as evaluator ``name``, or None when there is no such evaluator or it is not a suite."""
    spec = registry.find("evaluator", name)
    if spec is None:
        return None
    groups = getattr(spec.load(), "suite_groups", None)
    if not isinstance(groups, dict) or not groups:
        return None
    return Suite(name, {str(g): tuple(str(b) for b in members) for g, members in groups.items()})


def suite_names(registry: Registry) -> list[str]:
    return [n for n in registry.names("evaluator") if find_suite(registry, n) is not None]


def suite_sets(suite: Suite, registry: Registry, data_dir: str | Path | None = None) -> list[DataRef]:
    """One eval set per benchmark; with ``data_dir``, each reads its local copy ``data_dir/<benchmark>``
    (the hub layout, as `hf download <id> --repo-type dataset --local-dir DIR/<benchmark>` writes it)."""
    missing_sources = [b for b in suite.benchmarks if registry.find("data_source", b) is None]
    if missing_sources:
        raise ConfigError(f"suite '{suite.name}' names benchmarks no plugin reads: {', '.join(missing_sources)}")
    refs = []
    absent = []
    for bench in suite.benchmarks:
        options: dict[str, Any] = {}
        if data_dir is not None:
            folder = Path(data_dir).expanduser() / bench
            if not folder.exists():
                absent.append(str(folder))
            options["path"] = str(folder)
        refs.append(DataRef(bench, options))
    if absent:
        raise ConfigError(f"suite '{suite.name}': no local copy at {', '.join(absent)}",
                          hint="put each benchmark in DIR/<name> (hub layout), or leave out --suite-dir to "
                               "read the hub (its cache is used when the data set is already there)")
    return refs


def suite_table(suite: Suite, metrics: dict[str, float]) -> dict[str, Any]:
    """The table as JSON-able data, in points: each group's benchmarks and average, and the overall."""
    def points(key: str) -> float | None:
        v = metrics.get(f"suite.{suite.name}.{key}")
        return None if v is None else round(100.0 * v, 2)

    groups = {g: {"benchmarks": {b: points(b) for b in members}, "average": points(g)}
              for g, members in suite.groups.items()}
    return {"suite": suite.name, "groups": groups, "overall": points("overall")}


def table_rows(table: dict[str, Any]) -> list[tuple[str, str, float | None]]:
    """(group, row label, points) in the table's order: the benchmarks, then each group's average, then
    the overall; what a terminal table or a report prints."""
    rows: list[tuple[str, str, float | None]] = []
    for group, body in table["groups"].items():
        rows.extend((group, bench, value) for bench, value in body["benchmarks"].items())
        rows.append((group, f"{group} average", body["average"]))
    rows.append(("", "overall", table["overall"]))
    return rows

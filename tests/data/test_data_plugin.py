"""What the data plugins register, and that registering them stays light."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given
from hypothesis import strategies as st

from seethink_core.run.pacing import mixture_quotas
from seethink_core.run.sources import open_source
from seethink_core.types.plan import DataRef

ADAPTERS = {"capcurriculum_perception", "capcurriculum_text", "capcurriculum_visual", "geometry3k", "mmstar",
            "pope"}


def test_every_source_is_registered_by_its_plugin(registry):
    assert {"jsonl", "parquet", "hf", "synthetic"} | ADAPTERS <= set(registry.names("data_source"))
    assert registry.plugin_of("data_source", "synthetic") == "synthetic"
    for name in ADAPTERS | {"jsonl", "parquet", "hf"}:
        spec = registry.get("data_source", name)
        assert registry.plugin_of("data_source", name) == "data"
        assert spec.mappable and spec.doc and {"prompt", "id", "source"} <= spec.columns
        assert spec.needs_network == (name not in {"jsonl", "parquet"})
    assert not registry.get("data_source", "synthetic").needs_network


def test_synthetic_declares_the_columns_it_fills(registry):
    spec = registry.get("data_source", "synthetic")
    src = open_source(DataRef("synthetic", {"count": 2}), registry, seed=0)
    assert src.columns == spec.columns >= {"answer", "facts", "images", "difficulty", "capability"}


def test_loading_the_plugins_imports_no_heavy_library():
    code = ("import sys, seethink_data.plugin as d, seethink_synthetic.plugin as s\n"
            "specs = []\nd.register_data_sources(specs.append)\ns.register_data_sources(specs.append)\n"
            "assert len(specs) == 16\n"
            "heavy = [m for m in ('PIL', 'pyarrow', 'datasets', 'torch') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@given(st.lists(st.tuples(st.integers(0, 500), st.floats(0.0, 10.0)), min_size=1, max_size=6))
def test_mixture_quotas_fill_the_epoch_in_proportion(sources):
    sizes, weights = [n for n, _ in sources], [w for _, w in sources]
    quotas = mixture_quotas(sizes, weights)
    mass = sum(n * w for n, w in sources)
    if mass <= 0:
        assert quotas == [0] * len(sources)
        return
    epoch = sum(n for n, w in sources if w > 0)  # a weight-0 source is left out
    assert sum(quotas) == epoch
    for q, (n, w) in zip(quotas, sources, strict=True):
        assert abs(q - epoch * n * w / mass) < 1.0

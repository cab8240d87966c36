"""Data speed: synthetic samples per second (one core, default image size) and parquet loading.

Run: ``pytest benchmarks/bench_data.py --benchmark-only`` (pytest-benchmark prints the table;
``--benchmark-json FILE`` keeps it). Throughput = rows / mean time.
"""

from __future__ import annotations

import io

import pytest
from seethink_data.options import FileOptions
from seethink_data.parquet import open_parquet
from seethink_synthetic.options import SyntheticOptions
from seethink_synthetic.source import SyntheticSource

from seethink_core.hooks.manager import load_plugins
from seethink_core.run.stream import build_stream
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import Budget, DataRef, Phase

SYNTHETIC_SAMPLES = 500
PARQUET_ROWS = 10_000


def test_synthetic_samples_per_second(benchmark):
    """Scene, question, answer, facts and a 112 px PIL image per sample, on one core."""
    def generate() -> int:
        src = SyntheticSource(SyntheticOptions(count=SYNTHETIC_SAMPLES), seed=0)
        return sum(1 for _ in src)

    assert benchmark(generate) == SYNTHETIC_SAMPLES
    benchmark.extra_info["samples_per_s"] = SYNTHETIC_SAMPLES / benchmark.stats.stats.mean


@pytest.fixture(scope="module")
def parquet_file(tmp_path_factory):
    """10,000 rows in the hub layout, each with a distinct small PNG (as {"bytes", "path"} structs)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from PIL import Image

    rows = []
    for i in range(PARQUET_ROWS):
        buf = io.BytesIO()
        Image.new("RGB", (64, 64), (i % 256, (i * 7) % 256, (i * 13) % 256)).save(buf, format="PNG")
        rows.append({"index": i, "problem": f"<image>What colour is this? ({i})", "answer": str(i % 7),
                     "images": [{"bytes": buf.getvalue(), "path": f"{i}.png"}], "pass_rate": (i % 17) / 16})
    path = tmp_path_factory.mktemp("bench") / "train-00000-of-00001.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_parquet_loader_rows_per_second(benchmark, parquet_file):
    """Read, map, check every image (kept encoded): what a phase pays to open the file."""
    def load() -> int:
        return sum(1 for _ in open_parquet(FileOptions(path=str(parquet_file)), seed=0))

    assert benchmark.pedantic(load, rounds=3, iterations=1) == PARQUET_ROWS
    benchmark.extra_info["rows_per_s"] = PARQUET_ROWS / benchmark.stats.stats.mean


def test_parquet_loader_decoding_rows_per_second(benchmark, parquet_file):
    """The same, decoding every image to PIL while reading (``decode_images: true``)."""
    def load() -> int:
        return sum(1 for _ in open_parquet(FileOptions(path=str(parquet_file), decode_images=True), seed=0))

    assert benchmark.pedantic(load, rounds=3, iterations=1) == PARQUET_ROWS
    benchmark.extra_info["rows_per_s"] = PARQUET_ROWS / benchmark.stats.stats.mean


def test_stream_serving_rows_per_second(benchmark, parquet_file):
    """Open the file as a phase's stream (shuffled), then serve one epoch in batches of 128."""
    registry = load_plugins().registry
    phase = Phase(index=0, name="p", stages=["p"], capabilities=["perception"], model="m", init_from="base",
                  method="grpo", algorithm=GRPOOptions(), rewards=[], budget=Budget(steps=1),
                  data=[DataRef("parquet", {"path": str(parquet_file)})])

    def serve() -> int:
        stream = build_stream(phase, registry, seed=0)
        return sum(len(stream.next_batch(128, step)) for step in range(PARQUET_ROWS // 128))

    assert benchmark.pedantic(serve, rounds=2, iterations=1) == (PARQUET_ROWS // 128) * 128
    benchmark.extra_info["rows_per_s"] = (PARQUET_ROWS // 128) * 128 / benchmark.stats.stats.mean

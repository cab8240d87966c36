"""Helpers for the data tests: phases built by hand, a loaded registry, tiny images."""

from __future__ import annotations

import io
from typing import Any

import pytest

from seethink_core.hooks.manager import load_plugins
from seethink_core.hooks.registry import Registry
from seethink_core.types.methods import GRPOOptions
from seethink_core.types.plan import Budget, DataRef, Difficulty, Phase


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_plugins().registry


def make_phase(*data: DataRef, difficulty: Difficulty | None = None, name: str = "p") -> Phase:
    return Phase(index=0, name=name, stages=[name], capabilities=["perception"], model="tiny-vlm",
                 init_from="base", method="grpo", algorithm=GRPOOptions(), data=list(data), rewards=[],
                 budget=Budget(steps=10), difficulty=difficulty or Difficulty())


def png_bytes(color: tuple[int, int, int] = (200, 10, 10), size: int = 8) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def write_parquet(path: Any, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), path)


@pytest.fixture(name="make_phase")
def make_phase_fixture():
    return make_phase


@pytest.fixture(name="png_bytes")
def png_bytes_fixture():
    return png_bytes


@pytest.fixture(name="write_parquet")
def write_parquet_fixture():
    return write_parquet

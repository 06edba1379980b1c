"""Fixtures of the warehouse tests: one in-memory DuckDB per test, and a CSV writer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import ibis
import pytest

from kehu.warehouse import connect


@pytest.fixture
def con() -> Iterator[ibis.BaseBackend]:
    backend = connect("duckdb", threads=2)
    yield backend
    backend.disconnect()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write(text, name="t.csv", encoding="utf-8")``: a file in ``tmp_path``."""

    def _write(text: str | bytes, name: str = "t.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_bytes(text.encode(encoding))
        return path

    return _write

"""Fixtures of the service desk tests (the shared ``database`` fixture is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desk import Desk, build_desk
from kehu.store.db import Database


@pytest.fixture
def desk(database: Database, tmp_path: Path) -> Desk:
    return build_desk(database, tmp_path)

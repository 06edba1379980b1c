"""``kehu demo --no-serve`` builds the whole demo store and exits 0; building again adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from kehu.cli import main
from kehu.core.config import get_settings
from kehu.core.users.tables import User
from kehu.desk.tables import Team, Ticket
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, Transaction


def test_demo_builds_value_run_desk_and_users(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "160")
    get_settings.cache_clear()
    try:
        for _ in range(2):
            with pytest.raises(SystemExit) as exit:
                main(["demo", "--no-serve", "--output-dir", str(tmp_path / "out")])
            assert exit.value.code in (0, None)
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "BetaGeoModel" in out and "kehu-demo-2026" in out and "agent@demo.kehu" in out
    assert (tmp_path / "out" / "value-report.html").is_file()
    database = Database(url)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == 69_659
        assert session.scalar(select(func.count()).select_from(CustomerScore)) == 23_570
        roles = set(session.scalars(select(User.role)))
        assert roles == {"admin", "manager", "agent", "read_only"}
        assert session.scalar(select(func.count()).select_from(Team)) == 2
        assert session.scalar(select(func.count()).select_from(Ticket)) == 120
    database.dispose()

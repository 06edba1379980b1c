"""The demo's desk (kehu.demo.build_demo_desk): its canned replies, in both languages, by team."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from kehu.core.auth import SYSTEM
from kehu.core.config import Settings
from kehu.demo import DEMO_MACROS, build_demo_desk
from kehu.desk import macros, routing
from kehu.store.db import Database


def test_the_demo_seeds_canned_replies_in_both_languages(
    sqlite_database: Database, tmp_path: Path
) -> None:
    settings = Settings(_env_file=None, outbox_dir=tmp_path / "outbox")  # type: ignore[call-arg]
    build_demo_desk(sqlite_database, settings, now=datetime(2026, 12, 1, 9, tzinfo=UTC), tickets=0)
    with sqlite_database.session() as session:
        seeded = macros.list_macros(session, SYSTEM)
        assert sorted(m.name for m in seeded) == sorted(name for name, *_ in DEMO_MACROS)
        assert all(m.body_zh for m in seeded) and sum(bool(m.body_en) for m in seeded) >= 3
        teams = {m.team_id for m in seeded}
        assert None in teams and set(routing.team_names(session)) <= teams
        assert all(not macros.unknown_placeholders(m.body_en + m.body_zh) for m in seeded)

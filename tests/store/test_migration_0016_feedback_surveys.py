"""Migration 0016 adds the feedback domain's tables (competitors, surveys, survey_versions,
survey_responses, survey_answers) to a store with users, customers, teams and tickets (every row
kept), takes rows of its own with their foreign keys and unique keys, and goes down again leaving
the rest as it was."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
import sqlalchemy as sa

from kehu.store.db import Database
from store_support import DIALECTS, downgrade, insert_row, store_at

NOW = datetime(2026, 12, 6, 2, 0)
_insert = partial(insert_row, filled_at=NOW)
TABLES = {"competitors", "surveys", "survey_versions", "survey_responses", "survey_answers"}


@pytest.fixture(params=DIALECTS)
def store_before(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    with store_at(request.param, tmp_path, "0015") as database:
        yield database


def test_the_feedback_tables_come_and_go_with_the_rest_kept(store_before: Database) -> None:
    database = store_before
    with database.engine.begin() as connection:
        _insert(connection, "users", id=7, email="ana@example.com", display_name="Ana")
        _insert(connection, "customers", id=3, external_id="C-3", kind="person")
        _insert(connection, "teams", id=2, name="Front")
        _insert(connection, "tickets", id=12, customer_id=3, subject="Parcel", status="new")

    database.upgrade("0016")
    with database.engine.begin() as connection:
        _insert(connection, "competitors", id=1, name="Rival", active=True)
        _insert(connection, "surveys", id=5, name="NPS", status="published", created_by=7)
        _insert(connection, "survey_versions", id=8, survey_id=5, number=1, definition={"q": 1})
        _insert(
            connection,
            "survey_responses",
            id=9,
            survey_id=5,
            survey_version_id=8,
            version_number=1,
            status="submitted",
            customer_id=3,
            ticket_id=12,
            team_id=2,
            channel="email",
            invitation_id=None,
        )
        _insert(connection, "survey_answers", response_id=9, question_id="recommend", item="",
                number=9.0)  # fmt: skip
        _insert(connection, "survey_answers", response_id=9, question_id="why", item="",
                text="Fast")  # fmt: skip
    with database.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT r.customer_id, r.ticket_id, r.team_id, a.question_id, a.number, a.text "
                "FROM survey_answers a JOIN survey_responses r ON r.id = a.response_id "
                "ORDER BY a.question_id"
            )
        ).all()
        assert [tuple(row) for row in rows] == [
            (3, 12, 2, "recommend", 9.0, None),
            (3, 12, 2, "why", None, "Fast"),
        ]
        indexes = {i["name"] for i in sa.inspect(connection).get_indexes("survey_responses")}
        assert {"ix_survey_responses_survey_status", "ix_survey_responses_customer_id"} <= indexes
    # one answer row per (response, question, item); one version per (survey, number)
    for table, row in (
        ("survey_answers", {"response_id": 9, "question_id": "why", "item": ""}),
        ("survey_versions", {"survey_id": 5, "number": 1, "definition": {}}),
    ):
        with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
            _insert(connection, table, **row)
    # a response needs its version
    with pytest.raises(sa.exc.IntegrityError), database.engine.begin() as connection:
        if database.dialect == "sqlite":
            connection.execute(sa.text("PRAGMA foreign_keys = ON"))
        _insert(connection, "survey_responses", survey_id=5, survey_version_id=999,
                version_number=1, status="partial")  # fmt: skip

    downgrade(database, "0015")
    with database.engine.connect() as connection:
        assert TABLES.isdisjoint(sa.inspect(connection).get_table_names())
        assert connection.execute(sa.text("SELECT id, email FROM users")).all() == [
            (7, "ana@example.com")
        ]
        assert connection.execute(sa.text("SELECT id, subject FROM tickets")).all() == [
            (12, "Parcel")
        ]
        assert connection.execute(sa.text("SELECT id, name FROM teams")).all() == [(2, "Front")]
    database.upgrade("0016")  # and up again

"""What the survey pages show beside a definition: each survey's responses and the last one;
what changed between two versions; a competitor renamed (a name taken is a conflict). The
expected values are the inputs (the definitions and responses written here)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from kehu.core.auth import Principal
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from kehu.feedback import importing, surveys
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.overview import definition_changes, survey_summaries
from kehu.store.db import Database
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])
READER = Principal.for_user(30, ["read_only"])


def _q(qid: str, kind: str = "free_text", en: str = "Text?") -> dict[str, object]:
    question: dict[str, object] = {"id": qid, "type": kind, "text": {"en": en, "zh-Hans": "问？"}}
    return question


def _definition(*questions: dict[str, object], title: str = "T") -> SurveyDefinition:
    return SurveyDefinition.model_validate(
        {"title": {"en": title, "zh-Hans": "标题"}, "questions": list(questions)}
    )


def test_changes_name_added_removed_changed_and_moved_questions() -> None:
    before = _definition(_q("a"), _q("b"), _q("c"), _q("d"))
    after = _definition(_q("c"), _q("a"), _q("b", en="Other?"), _q("e"), title="T2")
    assert definition_changes(before, after) == [
        ("title", ""),
        ("moved", "c"),
        ("moved", "a"),
        ("changed", "b"),
        ("added", "e"),
        ("removed", "d"),
    ]
    assert definition_changes(before, before) == []


def test_summaries_count_each_surveys_responses_and_the_last(database: Database) -> None:
    with database.session() as session:
        add_staff(session, 1, 30)
        answered = surveys.create_survey(session, MANAGER, name="A", template_key="nps")
        empty = surveys.create_survey(session, MANAGER, name="B", template_key="csat")
        importing.import_responses_csv(
            session,
            MANAGER,
            answered.id,
            io.StringIO("recommend,submitted_at\n9,2026-11-02T08:00:00\n4,2026-11-05T10:30:00\n"),
        )
        rows = {row.id: row for row in survey_summaries(session, READER)}
    assert [rows[answered.id].n_responses, rows[empty.id].n_responses] == [2, 0]
    assert rows[answered.id].last_response_at == datetime(2026, 11, 5, 10, 30, tzinfo=UTC)
    assert rows[empty.id].last_response_at is None
    assert list(rows) == [empty.id, answered.id]  # newest first


def test_a_competitor_is_renamed_and_a_taken_name_is_a_conflict(database: Database) -> None:
    with database.session() as session:
        acme = surveys.create_competitor(session, MANAGER, name="Acme")
        surveys.create_competitor(session, MANAGER, name="Globex")
        assert surveys.rename_competitor(session, MANAGER, acme.id, name=" Acme Ltd ").name == (
            "Acme Ltd"
        )
        with pytest.raises(ConflictError, match="Globex"):
            surveys.rename_competitor(session, MANAGER, acme.id, name="Globex")
        with pytest.raises(InputError) as refused:
            surveys.rename_competitor(session, MANAGER, acme.id, name="  ")
        assert refused.value.column == "name"
        with pytest.raises(NotFoundError):
            surveys.rename_competitor(session, MANAGER, 999_999, name="X")
        with pytest.raises(PermissionDeniedError):
            surveys.rename_competitor(session, READER, acme.id, name="Y")

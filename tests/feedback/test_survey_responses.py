"""Surveys and responses on the store (SQLite always, PostgreSQL when configured): a survey from
a template, published; a response started, saved partially, resumed and submitted; answers out
of range refused naming the question; a definition changed after responses exist makes a new
version and the old responses are still read against theirs; two changes from the same version:
one wins, the other is a conflict; the response import lists every bad row by file line and
imports nothing then; merges move responses, erasure redacts free text; the timeline shows
submitted responses. No published figure is involved: the expected values are the inputs."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from kehu.core.auth import SYSTEM, Principal
from kehu.core.events import subscribe, unsubscribe
from kehu.core.personal_data import MARKER
from kehu.customers.erasure import erase_customer_personal_data
from kehu.customers.merge import merge_customers
from kehu.customers.schemas import CustomerCreate
from kehu.customers.service import create_customer
from kehu.customers.timeline import customer_timeline
from kehu.errors import ConflictError, InputError, InvalidRowsError, PermissionDeniedError
from kehu.feedback import importing, responses, surveys
from kehu.feedback.events import SurveyResponseSubmitted
from kehu.feedback.responses import ResponseContext
from kehu.feedback.tables import SurveyAnswer, SurveyResponse
from kehu.store.db import Database
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])
AGENT = Principal.for_user(10, ["agent"])
READER = Principal.for_user(30, ["read_only"])
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _customer(session, external_id: str) -> int:  # type: ignore[no-untyped-def]
    return create_customer(
        session, SYSTEM, CustomerCreate(external_id=external_id, name=f"Customer {external_id}")
    ).id


@pytest.fixture
def nps_survey(database: Database) -> int:
    with database.session() as session:
        add_staff(session, 1, 10, 30)
        survey = surveys.create_survey(session, MANAGER, name="After purchase", template_key="nps")
        surveys.publish_survey(session, MANAGER, survey.id)
        return survey.id


def test_a_response_is_saved_partially_resumed_and_submitted(
    database: Database, nps_survey: int
) -> None:
    with database.session() as session:
        customer = _customer(session, "C-1")
        started = responses.start_response(
            session,
            AGENT,
            nps_survey,
            ResponseContext(customer_id=customer, channel="phone", language="zh-Hans"),
            answers={"recommend": 6},
            now=NOW,
        )
        response_id = started.id
    with database.session() as session:  # later: resumed
        saved = responses.get_response(session, READER, response_id)
        assert (saved.status, saved.answers, saved.language) == (
            "partial",
            {"recommend": 6},
            "zh-Hans",
        )
        responses.save_answers(session, AGENT, response_id, {"recommend": 4, "why": " slow "})
        with pytest.raises(InputError) as refused:
            responses.save_answers(session, AGENT, response_id, {"recommend": 11})
        assert refused.value.column == "recommend"
    published: list[SurveyResponseSubmitted] = []

    def note(_session: object, event: SurveyResponseSubmitted) -> None:
        published.append(event)

    subscribe(SurveyResponseSubmitted, note)
    try:
        with database.session() as session:
            responses.submit_response(session, AGENT, response_id, now=NOW)
    finally:
        unsubscribe(SurveyResponseSubmitted, note)
    assert [(e.response_id, e.survey_id, e.customer_id) for e in published] == [
        (response_id, nps_survey, customer)
    ]
    with database.session() as session:
        done = responses.get_response(session, READER, response_id)
        assert done.status == "submitted" and done.submitted_at == NOW
        assert done.answers == {"recommend": 4, "why": "slow"}
        with pytest.raises(ConflictError, match="submitted"):
            responses.save_answers(session, AGENT, response_id, {"recommend": 9})
        with pytest.raises(PermissionDeniedError):
            responses.start_response(session, READER, nps_survey)
        columns, rows = responses.answer_table(session, READER, nps_survey)
        assert columns[-2:] == ["recommend", "why"]
        assert rows == [[response_id, customer, None, None, "phone", "zh-Hans", NOW, 4.0, "slow"]]
        # on the customer's timeline
        page = customer_timeline(session, AGENT, customer)
        entries = [e for e in page.entries if e.kind == "survey_response"]
        assert [e.detail["response_id"] for e in entries] == [response_id]
        assert entries[0].title == "Survey answered: After purchase"


def test_a_required_answer_is_needed_to_submit(database: Database, nps_survey: int) -> None:
    with database.session() as session:
        response = responses.start_response(session, AGENT, nps_survey)
        with pytest.raises(InputError) as refused:
            responses.submit_response(session, AGENT, response.id)
        assert refused.value.column == "recommend"


def test_a_change_after_responses_makes_a_new_version_and_old_answers_stay_readable(
    database: Database, nps_survey: int
) -> None:
    with database.session() as session:
        first = responses.start_response(session, AGENT, nps_survey, answers={"recommend": 9})
        responses.submit_response(session, AGENT, first.id)
        detail = surveys.get_survey(session, READER, nps_survey)
        changed = detail.definition.model_dump(by_alias=True, exclude_none=True)
        changed["questions"] = [
            {"id": "recommend", "type": "rating", "min": 1, "max": 5, "required": True,
             "text": {"en": "Would you recommend us?", "zh-Hans": "您会推荐我们吗？"}}
        ]  # fmt: skip
        surveys.change_definition(
            session, MANAGER, nps_survey, changed, expected_version=detail.version
        )
    with database.session() as session:
        detail = surveys.get_survey(session, READER, nps_survey)
        assert detail.current_version == 2
        assert [(v.number, v.n_responses) for v in detail.versions] == [(1, 1), (2, 0)]
        assert detail.versions[0].definition.questions[0].type == "nps"
        # the old response keeps its 0-10 answer; a new one is on the 1-5 scale
        assert responses.get_response(session, READER, first.id).answers == {"recommend": 9}
        second = responses.start_response(session, AGENT, nps_survey)
        with pytest.raises(InputError) as refused:
            responses.save_answers(session, AGENT, second.id, {"recommend": 9})
        assert refused.value.column == "recommend"
        _, old_rows = responses.answer_table(session, READER, nps_survey, survey_version=1)
        assert [row[-2] for row in old_rows] == [9.0]
        # the version without responses yet is rewritten in place
        again = surveys.get_survey(session, READER, nps_survey).definition
        surveys.change_definition(session, MANAGER, nps_survey, again)
    with database.session() as session:
        assert surveys.get_survey(session, READER, nps_survey).current_version == 3
        # (the partial response above is on version 2, so version 3 was made)


def test_two_changes_from_one_version_one_wins_the_other_conflicts(
    database: Database, nps_survey: int
) -> None:
    with database.session() as session:
        base = surveys.get_survey(session, READER, nps_survey)
    definition = base.definition.model_dump(by_alias=True, exclude_none=True)
    first = database.session()
    second = database.session()
    with first as one:
        surveys.change_definition(
            one, MANAGER, nps_survey, definition, expected_version=base.version
        )
    with pytest.raises(ConflictError, match="changed by someone else"), second as two:
        surveys.change_definition(
            two, MANAGER, nps_survey, definition, expected_version=base.version
        )
    with database.session() as session:
        # no response yet: the change rewrote version 1 in place
        after = surveys.get_survey(session, READER, nps_survey)
        assert (after.current_version, len(after.versions)) == (1, 1)
        assert after.version == base.version + 1
    if database.dialect != "postgresql":
        return  # SQLite lets one write transaction at a time: the race below cannot happen
    # both sessions read the survey before either wrote: the loser sees it only on writing
    left = database.session()
    right = database.session()
    with left as a, right as b:
        version = surveys.get_survey(a, READER, nps_survey).version
        assert surveys.get_survey(b, READER, nps_survey).version == version
        surveys.change_definition(a, MANAGER, nps_survey, definition, expected_version=version)
        a.commit()
        with pytest.raises(ConflictError):
            surveys.change_definition(b, MANAGER, nps_survey, definition, expected_version=version)


SERVQUAL_HEADER = "customer,submitted_at,channel,servqual_q1.expectation,servqual_q1.perception"


def test_an_import_lists_every_bad_row_and_imports_nothing(database: Database) -> None:
    with database.session() as session:
        add_staff(session, 1)
        _customer(session, "K-7")
        definition = {
            "title": {"en": "Gaps", "zh-Hans": "差距"},
            "questions": [
                {"id": "servqual_q1", "type": "servqual_pair", "required": True,
                 "text": {"en": "Modern equipment", "zh-Hans": "现代化设备"}},
                {"id": "choice", "type": "multiple_choice",
                 "text": {"en": "Which?", "zh-Hans": "哪些？"},
                 "options": [{"id": "a", "text": {"en": "A", "zh-Hans": "甲"}},
                             {"id": "b", "text": {"en": "B", "zh-Hans": "乙"}}]},
            ],
        }  # fmt: skip
        survey = surveys.create_survey(session, MANAGER, name="Gaps", definition=definition)
        survey_id = survey.id
    bad = (
        f"{SERVQUAL_HEADER},choice\n"
        "K-7,2026-11-01,email,5,6,a;b\n"  # line 2: good
        "K-7,2026-11-02,email,8,6,\n"  # line 3: expectation out of range
        'nobody,2026-11-03,email,5,"6",a\n'  # line 4: unknown customer
        "K-7,yesterday,email,0,6,c\n"  # line 5: date, range and an unknown option
        "K-7,,email,5,,\n"  # line 6: the pair incomplete
        "K-7,,fax,9,6,\n"  # line 7: channel and range
    )
    with database.session() as session, pytest.raises(InvalidRowsError) as refused:
        importing.import_responses_csv(
            session, MANAGER, survey_id, io.StringIO(bad), source="x.csv"
        )
    error = refused.value
    assert error.n_rows == 5
    found = {(p.column, tuple(n for n, _ in p.places)) for p in error.problems}
    assert found == {
        ("servqual_q1.expectation", (3, 5, 7)),
        ("customer", (4,)),
        ("submitted_at", (5,)),
        ("choice", (5,)),
        ("servqual_q1.perception", (6,)),
        ("channel", (7,)),
    }
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    unknown = "servqual_q1.expectation,servqual_q2.expectation,colour\n5,5,red\n"
    with database.session() as session, pytest.raises(InputError) as columns:
        importing.import_responses_csv(session, MANAGER, survey_id, io.StringIO(unknown))
    assert "servqual_q2.expectation, colour" in str(columns.value)
    good = f"{SERVQUAL_HEADER},choice\nK-7,2026-11-01T10:30:00+08:00,email,5,6,b;a\n,,,7,7,\n"
    with database.session() as session:
        result = importing.import_responses_csv(session, MANAGER, survey_id, io.StringIO(good))
        assert (result.rows, result.imported, result.survey_version) == (2, 2, 1)
    with database.session() as session:
        columns_out, rows = responses.answer_table(session, READER, survey_id)
        assert columns_out[7:] == [
            "servqual_q1.expectation", "servqual_q1.perception", "choice.a", "choice.b",
        ]  # fmt: skip
        assert [row[6] for row in rows] == [
            datetime(2026, 11, 1, 2, 30, tzinfo=UTC),
            rows[1][6],
        ]
        assert [row[7:] for row in rows] == [[5.0, 6.0, 1.0, 1.0], [7.0, 7.0, None, None]]


def test_merges_move_responses_and_erasure_redacts_free_text(
    database: Database, nps_survey: int
) -> None:
    with database.session() as session:
        add_staff(session, 1)
        kept, merged = _customer(session, "M-1"), _customer(session, "M-2")
        response = responses.start_response(
            session, AGENT, nps_survey, ResponseContext(customer_id=merged),
            answers={"recommend": 2, "why": "The courier was rude to me"},
        )  # fmt: skip
        responses.submit_response(session, AGENT, response.id)
        response_id = response.id
    with database.session() as session:
        merge_customers(session, SYSTEM, kept, merged)
    with database.session() as session:
        assert responses.get_response(session, READER, response_id).customer_id == kept
        erase_customer_personal_data(session, SYSTEM, kept)
    with database.session() as session:
        texts = list(
            session.scalars(select(SurveyAnswer.text).where(SurveyAnswer.text.is_not(None)))
        )
        assert texts == [MARKER]
        assert responses.get_response(session, READER, response_id).answers["recommend"] == 2

"""Complaint themes in the feedback domain, on the store (SQLite always, PostgreSQL when
configured): the tagging job tags new tickets and submitted verbatims once (incremental,
idempotent); an agent's correction replaces the model's tags, survives later runs and is
learned (a wording no seed word covers is recognised in the next tickets); the catalogue
refuses bad input naming the field; the results are those of
:func:`kehu.analytics.themes.summarise_themes` computed in the test from the same texts' tags,
periods, segments and the survey answers entered here (the expected CSAT/NPS per text are the
inputs, chosen by hand; the statistics themselves are pinned to statsmodels in
tests/analytics/test_themes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from kehu.analytics.themes import rank_by_outcome, summarise_themes
from kehu.core.auth import SYSTEM, Principal
from kehu.core.jobs import JOB_REGISTRY, run_due_jobs
from kehu.customers.schemas import CustomerCreate
from kehu.customers.service import create_customer
from kehu.desk.routing import create_category, create_team
from kehu.desk.schemas import TicketCreate
from kehu.desk.ticket_commands import create_ticket
from kehu.errors import InputError, NotFoundError, PermissionDeniedError
from kehu.feedback import responses, surveys, themes
from kehu.feedback.responses import ResponseContext
from kehu.feedback.theme_tables import Theme, ThemeTag, ThemeText
from kehu.store.db import Database
from settings_support import DEFAULT_SETTINGS
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])
TEAM = 1  # the fixture's team: the agent and the reader see its tickets
AGENT = Principal.for_user(10, ["agent"], team_ids=[TEAM])
READER = Principal.for_user(30, ["read_only"], team_ids=[TEAM])
NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _customer(session, external_id: str) -> int:  # type: ignore[no-untyped-def]
    return create_customer(
        session, SYSTEM, CustomerCreate(external_id=external_id, name=f"Customer {external_id}")
    ).id


def _ticket(session, customer: int, subject: str, text: str, now: datetime) -> int:  # type: ignore[no-untyped-def]
    data = TicketCreate(
        customer_id=customer,
        kind="complaint",
        channel="email",
        subject=subject,
        description=text,
        team_id=TEAM,
    )
    return create_ticket(session, SYSTEM, data, now=now, settings=DEFAULT_SETTINGS).id


def _theme_id(session, key: str) -> int:  # type: ignore[no-untyped-def]
    found = session.scalar(select(Theme.id).where(Theme.key == key))
    assert found is not None
    return int(found)


def _keys(view: themes.TextTags) -> list[str]:
    return [tag.key for tag in view.tags]


@pytest.fixture
def store(database: Database) -> Database:
    with database.session() as session:
        add_staff(session, 1, 10, 30)
        assert create_team(session, SYSTEM, "Front").id == TEAM
    return database


def test_the_job_is_registered_and_tags_each_new_text_once(store: Database) -> None:
    assert themes.TAGGING_JOB in JOB_REGISTRY
    assert JOB_REGISTRY[themes.TAGGING_JOB].every == timedelta(minutes=15)
    with store.session() as session:
        customer = _customer(session, "C-1")
        parcel = _ticket(session, customer, "快递", "快递一个星期了还没到，物流信息不更新", NOW)
        refund = _ticket(
            session, customer, "Refund", "I returned it and the refund never came", NOW
        )
        thanks = _ticket(session, customer, "Hello", "Thanks, all good", NOW)
        first = themes.tag_new_texts(session, now=NOW)
    assert (first.tickets, first.answers) == (3, 0)
    with store.session() as session:
        assert _keys(themes.ticket_tags(session, AGENT, parcel)) == ["delivery"]
        assert _keys(themes.ticket_tags(session, AGENT, refund)) == ["refund"]
        other = themes.ticket_tags(session, AGENT, thanks)
        assert other.tagged and other.tags == []  # read, of no theme
        # the default catalogue was installed by the first run, in both languages
        names = {t.key: (t.name_en, t.name_zh) for t in themes.list_themes(session, READER)}
        assert names["delivery"] == ("Delivery", "物流配送")
        assert len(names) == len(themes.DEFAULT_THEMES)
    with store.session() as session:
        again = themes.tag_new_texts(session, now=NOW)
        assert again == themes.TaggingRun(0, 0, 0, 0)
        assert session.scalar(select(func.count()).select_from(ThemeText)) == 3
        later = _ticket(session, customer, "App", "登录一直提示验证码错误，app 闪退", NOW)
        third = themes.tag_new_texts(session, now=NOW)
        assert (third.tickets, third.answers) == (1, 0)
        assert _keys(themes.ticket_tags(session, AGENT, later)) == ["app"]


def test_submitted_verbatims_are_tagged_partial_ones_wait(store: Database) -> None:
    with store.session() as session:
        customer = _customer(session, "C-2")
        survey = surveys.create_survey(session, MANAGER, name="CSAT", template_key="csat")
        surveys.publish_survey(session, MANAGER, survey.id)
        waiting = responses.start_response(
            session, MANAGER, survey.id, ResponseContext(customer_id=customer),
            answers={"comment": "The courier left the parcel in the rain"},
        )  # fmt: skip
        done = responses.start_response(
            session, MANAGER, survey.id, ResponseContext(customer_id=customer),
            answers={"satisfaction": 2, "comment": "店员态度很差，不耐烦"},
        )  # fmt: skip
        responses.submit_response(session, MANAGER, done.id)
        run = themes.tag_new_texts(session, now=NOW)
        assert (run.tickets, run.answers) == (0, 1)
        responses.submit_response(session, MANAGER, waiting.id, {"satisfaction": 3})
        run = themes.tag_new_texts(session, now=NOW)
        assert (run.tickets, run.answers) == (0, 1)
        tagged = {
            text: key
            for text, key in session.execute(
                select(ThemeText.text, Theme.key)
                .join(ThemeTag, ThemeTag.text_id == ThemeText.id)
                .join(Theme, Theme.id == ThemeTag.theme_id)
            )
        }
    assert tagged == {
        "店员态度很差，不耐烦": "staff",
        "The courier left the parcel in the rain": "delivery",
    }


def test_a_correction_replaces_the_model_sticks_across_runs_and_is_learned(
    store: Database,
) -> None:
    """ "砸坏" (smashed) and "凹了" (dented) are in no seed word; the first ticket says only that,
    and is of no theme until an agent tags it 'defect'. The next ticket with the same words is
    then tagged 'defect' by the model: the correction was learned."""
    with store.session() as session:
        customer = _customer(session, "C-3")
        smashed = _ticket(session, customer, "砸坏", "箱子砸坏了，边角凹了", NOW)
        themes.tag_new_texts(session, now=NOW)
        assert themes.ticket_tags(session, AGENT, smashed).tags == []
        defect = _theme_id(session, "defect")
        corrected = themes.correct_ticket_tags(session, AGENT, smashed, [defect], now=NOW)
    assert corrected.checked and corrected.checked_by == 10
    assert [(t.key, t.source, t.tagged_by) for t in corrected.tags] == [("defect", "agent", 10)]
    with store.session() as session:
        again = _ticket(session, customer, "又砸坏", "这次又砸坏了，凹了一块", NOW)
        run = themes.tag_new_texts(session, now=NOW)
        assert run.corrections_learned == 1
        assert _keys(themes.ticket_tags(session, AGENT, again)) == ["defect"]
        # the corrected ticket is as the agent left it
        kept = themes.ticket_tags(session, AGENT, smashed)
        assert [(t.key, t.source) for t in kept.tags] == [("defect", "agent")]


def test_removing_a_model_tag_is_kept_and_a_correction_before_the_job_is_kept(
    store: Database,
) -> None:
    with store.session() as session:
        customer = _customer(session, "C-4")
        lost = _ticket(session, customer, "包裹", "包裹丢了，快递不管", NOW)
        themes.tag_new_texts(session, now=NOW)
        assert _keys(themes.ticket_tags(session, AGENT, lost)) == ["delivery"]
        delivery = _theme_id(session, "delivery")
        left = themes.remove_ticket_tag(session, AGENT, lost, delivery, now=NOW)
        assert left.tags == [] and left.checked
        early = _ticket(session, customer, "Points", "my loyalty points vanished", NOW)
        points = _theme_id(session, "points")
        refund = _theme_id(session, "refund")
        themes.correct_ticket_tags(session, AGENT, early, [refund, points], now=NOW)
        themes.tag_new_texts(session, now=NOW)
        assert themes.ticket_tags(session, AGENT, lost).tags == []
        kept = themes.ticket_tags(session, AGENT, early)
        assert [(t.key, t.source) for t in kept.tags] == [("refund", "agent"), ("points", "agent")]
        with pytest.raises(NotFoundError):
            themes.remove_ticket_tag(session, AGENT, lost, delivery, now=NOW)
        # the agent's order is kept: removing the first leaves the second as the main one
        after = themes.remove_ticket_tag(session, AGENT, early, refund, now=NOW)
        assert _keys(after) == ["points"]


def test_corrections_need_ticket_rights_and_name_a_bad_theme(store: Database) -> None:
    with store.session() as session:
        customer = _customer(session, "C-5")
        ticket = _ticket(session, customer, "Late", "the delivery is late", NOW)
        themes.tag_new_texts(session, now=NOW)
        with pytest.raises(PermissionDeniedError):
            themes.correct_ticket_tags(session, READER, ticket, [], now=NOW)
        with pytest.raises(InputError, match=r"theme_ids\[1\]"):
            themes.correct_ticket_tags(session, AGENT, ticket, [_theme_id(session, "app"), 999])
        with pytest.raises(NotFoundError):
            themes.ticket_tags(session, AGENT, 12345)


def test_the_catalogue_is_edited_by_managers_and_refuses_bad_input(store: Database) -> None:
    with store.session() as session:
        theme = themes.create_theme(
            session, MANAGER, key="stock", name_en="Out of stock", name_zh="缺货",
            seed_words=["缺货", "out of stock", "sold out"],
        )  # fmt: skip
        with pytest.raises(PermissionDeniedError):
            themes.create_theme(
                session, AGENT, key="x", name_en="X", name_zh="X", seed_words=["x-ray"]
            )
        with pytest.raises(InputError, match="key"):
            themes.create_theme(
                session, MANAGER, key="stock", name_en="Y", name_zh="Y", seed_words=["yak"]
            )
        with pytest.raises(InputError, match="key"):
            themes.create_theme(
                session, MANAGER, key="other", name_en="Y", name_zh="Y", seed_words=["yak"]
            )
        with pytest.raises(InputError, match=r"seed_words\[1\]"):
            themes.update_theme(session, MANAGER, theme.id, seed_words=["缺货", "the"])
        with pytest.raises(InputError, match="name_zh"):
            themes.update_theme(session, MANAGER, theme.id, name_zh="  ")
        changed = themes.update_theme(session, MANAGER, theme.id, active=False, name_en="Stock")
        assert (changed.name_en, changed.active) == ("Stock", False)
        # a store with a theme of its own gets no default catalogue from the job
        themes.tag_new_texts(session, now=NOW)
        assert [t.key for t in themes.list_themes(session, READER)] == ["stock"]


def test_discovery_suggests_themes_from_untagged_texts(store: Database) -> None:
    """Twelve texts of no seeded theme about two things (gift wrapping; store opening hours):
    discovery with two themes puts each set's shared words together."""
    wrapping = [f"gift wrapping was torn and the ribbon missing, order {i}" for i in range(6)]
    hours = [f"store opening hours on the door were wrong on sunday {i}" for i in range(6)]
    with store.session() as session:
        customer = _customer(session, "C-6")
        for text in wrapping + hours:
            _ticket(session, customer, "Note", text, NOW)
        themes.tag_new_texts(session, now=NOW)
        found = themes.suggest_themes(session, READER, n_themes=2, now=NOW)
        assert themes.suggest_themes(session, READER, n_themes=8, now=NOW) == []  # too few
    words = [set(s.words) for s in found]
    assert len(found) == 2 and all(s.n == 6 for s in found)
    assert any({"gift", "wrapping", "ribbon"} <= w for w in words)
    assert any({"opening", "hour", "sunday"} <= w for w in words)  # "hours": plural folded


def test_results_are_the_analytics_of_the_tags_months_segments_and_answers(
    store: Database,
) -> None:
    """Tickets over four months; CSAT answers on some tickets (by ticket) and one customer's
    answer standing for their other ticket (by customer); the expected summary is
    summarise_themes of the membership read back from the tags, the months, the (unscored:
    None) segments and the CSAT per text built here by hand."""
    months = [datetime(2026, m, 10, 12, tzinfo=UTC) for m in (9, 10, 11, 12)]
    rows = [  # (customer index, month index, text, csat of its ticket's response or None)
        (0, 0, "快递太慢了，一周才到", 2),
        (1, 0, "the parcel never arrived, courier lost it", 1),
        (2, 1, "refund not received after return", 3),
        (3, 1, "物流信息一直不更新", None),
        (4, 2, "退款还没到账", 4),
        (5, 2, "delivery was late again", 2),
        (6, 3, "the courier threw my package", 1),
        (7, 3, "还没收到退款", 5),
        (8, 3, "refund please, I returned it", 4),
        (3, 3, "门店店员态度很差", None),
    ]
    with store.session() as session:
        customers = [_customer(session, f"R-{i}") for i in range(9)]
        survey = surveys.create_survey(session, MANAGER, name="CSAT", template_key="csat")
        surveys.publish_survey(session, MANAGER, survey.id)
        tickets = []
        for who, month, text, csat in rows:
            ticket = _ticket(session, customers[who], "Complaint", text, months[month])
            tickets.append(ticket)
            if csat is not None:
                response = responses.start_response(
                    session, MANAGER, survey.id,
                    ResponseContext(customer_id=customers[who], ticket_id=ticket),
                    answers={"satisfaction": csat},
                )  # fmt: skip
                responses.submit_response(session, MANAGER, response.id)
        # customer 3's own answer is on neither of their tickets: it stands for both
        response = responses.start_response(
            session, MANAGER, survey.id, ResponseContext(customer_id=customers[3]),
            answers={"satisfaction": 3},
        )  # fmt: skip
        responses.submit_response(session, MANAGER, response.id)
        themes.tag_new_texts(session, now=NOW)
        result = themes.theme_results(session, READER, now=NOW, settings=DEFAULT_SETTINGS)
        catalogue = themes.list_themes(session, READER)
        membership = np.zeros((len(tickets), len(catalogue)), dtype=bool)
        for i, ticket in enumerate(tickets):
            for tag in themes.ticket_tags(session, READER, ticket).tags:
                membership[i, [t.key for t in catalogue].index(tag.key)] = True
    assert result is not None
    assert result.n_texts == 10 and result.months == ["2026-09", "2026-10", "2026-11", "2026-12"]
    csat = [np.nan if c is None else float(c) for _, _, _, c in rows]
    csat[3] = csat[9] = 3.0  # by customer
    with np.errstate(over="ignore"):  # as the domain does (themes.theme_results)
        expected = summarise_themes(
            membership,
            [t.key for t in catalogue],
            ids=list(range(10)),
            periods=[["2026-09", "2026-10", "2026-11", "2026-12"][m] for _, m, _, _ in rows],
            segments=[None] * 10,
            outcomes={"csat": csat},
        )
    got = {r.theme.key: r.summary for r in result.themes}
    for summary in expected:
        mine = got[summary.theme]
        assert mine.n == summary.n and mine.by_period == summary.by_period
        assert mine.outcomes.keys() == summary.outcomes.keys()
        for name, gap in summary.outcomes.items():
            assert mine.outcomes[name].difference == pytest.approx(gap.difference, abs=1e-12)
            assert mine.outcomes[name].low == pytest.approx(gap.low, abs=1e-12)
            assert mine.outcomes[name].n_with == gap.n_with
        if summary.trend is None:
            assert mine.trend is None
        else:
            assert mine.trend is not None
            assert mine.trend.estimate == pytest.approx(summary.trend.estimate, abs=1e-10)
    assert got["delivery"].n == 5 and got["refund"].n == 4
    assert result.ranked["csat"] == [s.theme for s in rank_by_outcome(expected, "csat")
                                     if "csat" in s.outcomes]  # fmt: skip
    delivery = next(r for r in result.themes if r.theme.key == "delivery")
    assert {e.ticket_id for e in delivery.examples} <= {tickets[i] for i in (0, 1, 3, 5, 6)}


def test_results_count_every_text_but_quote_only_tickets_the_reader_may_read(
    store: Database,
) -> None:
    with store.session() as session:
        back = create_team(session, SYSTEM, "Back").id
        customer = _customer(session, "C-7")
        mine = _ticket(session, customer, "快递", "快递三天了还没到", NOW)
        data = TicketCreate(
            customer_id=customer, kind="complaint", channel="email", subject="Parcel",
            description="the courier never came", team_id=back,
        )  # fmt: skip
        theirs = create_ticket(session, SYSTEM, data, now=NOW, settings=DEFAULT_SETTINGS).id
        themes.tag_new_texts(session, now=NOW)
        for_reader = themes.theme_results(session, READER, now=NOW, settings=DEFAULT_SETTINGS)
        for_manager = themes.theme_results(session, MANAGER, now=NOW, settings=DEFAULT_SETTINGS)
    assert for_reader is not None and for_manager is not None
    reader = next(r for r in for_reader.themes if r.theme.key == "delivery")
    manager = next(r for r in for_manager.themes if r.theme.key == "delivery")
    assert reader.summary.n == manager.summary.n == 2
    assert [e.target_id for e in reader.examples] == [mine]
    assert {e.target_id for e in manager.examples} == {mine, theirs}


def test_the_worker_runs_the_tagging_job(store: Database) -> None:
    """The registered handler, run by the worker's loop (run_due_jobs), tags a new ticket; a
    second occurrence in the next period tags nothing more."""
    with store.session() as session:
        ticket = _ticket(session, _customer(session, "C-8"), "Refund", "where is my refund", NOW)
    registry = {themes.TAGGING_JOB: JOB_REGISTRY[themes.TAGGING_JOB]}
    for now in (NOW, NOW + timedelta(minutes=15)):
        outcomes = run_due_jobs(store, now, "w1", settings=DEFAULT_SETTINGS, registry=registry)
        assert [(o.run.name, o.error) for o in outcomes] == [(themes.TAGGING_JOB, None)]
    with store.session() as session:
        assert _keys(themes.ticket_tags(session, AGENT, ticket)) == ["refund"]
        assert session.scalar(select(func.count()).select_from(ThemeText)) == 1


def test_the_repeat_gap_is_the_desks_repeat_figure(store: Database) -> None:
    """Six customers write twice about delivery in one category (the desk links the second
    ticket as a repeat of the first) and six once about refunds; the repeat outcome per text is
    then 0, 1 (delivery) and 0 (refund), and the gap is summarise_themes' of those values."""
    with store.session() as session:
        category = create_category(session, SYSTEM, "Orders").id
        ids = []
        for i in range(6):
            customer = _customer(session, f"D-{i}")
            for hours in (0, 1):
                data = TicketCreate(
                    customer_id=customer, kind="complaint", channel="email", subject="快递",
                    description=f"快递还没到，第{hours + 1}次问", team_id=TEAM,
                    category_id=category,
                )  # fmt: skip
                when = NOW - timedelta(days=1) + timedelta(hours=hours)
                ids.append(
                    create_ticket(session, SYSTEM, data, now=when, settings=DEFAULT_SETTINGS).id
                )
        for i in range(6):
            _ticket(session, _customer(session, f"E-{i}"), "退款", "退款还没到账", NOW)
        themes.tag_new_texts(session, now=NOW)
        result = themes.theme_results(session, MANAGER, now=NOW, settings=DEFAULT_SETTINGS)
        catalogue = [t.key for t in themes.list_themes(session, MANAGER)]
    assert result is not None and "repeat" in result.ranked
    membership = np.zeros((18, len(catalogue)), dtype=bool)
    membership[:12, catalogue.index("delivery")] = True
    membership[12:, catalogue.index("refund")] = True
    repeat = [0.0, 1.0] * 6 + [0.0] * 6
    expected = summarise_themes(membership, catalogue, outcomes={"repeat": repeat})
    got = {r.theme.key: r.summary for r in result.themes}
    for key in ("delivery", "refund"):
        want = next(s for s in expected if s.theme == key).outcomes["repeat"]
        assert got[key].n == want.n_with
        mine = got[key].outcomes["repeat"]
        assert mine.difference == pytest.approx(want.difference, abs=1e-12)
        assert mine.high == pytest.approx(want.high, abs=1e-12)
    assert got["delivery"].outcomes["repeat"].difference == pytest.approx(0.5)
    assert result.ranked["repeat"][0] == "delivery"  # the theme with more repeat contacts

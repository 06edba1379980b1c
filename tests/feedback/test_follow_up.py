"""Closing the loop on the store (SQLite always, PostgreSQL when configured): a detractor, a very
high effort and a very low satisfaction open a follow-up item, a passive and a promoter do not;
the item is on the customer's timeline; one click files a recovery ticket through the desk and
links the two; the automatic rule opens tickets for high-value detractors only when it is on;
the outcome per month counts who came back and whose next score rose, with Wilson intervals.

Pinned numbers: the counts are the test's inputs; the Wilson intervals are statsmodels'
``proportion_confint(count, n, alpha=0.05, method="wilson")`` (another tool, not kehu)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from statsmodels.stats.proportion import proportion_confint

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.customers.schemas import CustomerCreate
from kehu.customers.service import create_customer
from kehu.customers.timeline import customer_timeline
from kehu.desk.routing import add_team_member, create_routing_rule, create_team
from kehu.desk.ticket_queries import get_ticket
from kehu.errors import ConflictError, InputError, PermissionDeniedError
from kehu.feedback import follow_up, responses, surveys
from kehu.feedback.follow_up_tables import FollowUp
from kehu.feedback.responses import ResponseContext
from kehu.store.db import Database
from kehu.value.tables import Transaction
from staff_support import add_staff

MANAGER = Principal.for_user(1, ["manager"])
AGENT = Principal.for_user(10, ["agent"])
READER = Principal.for_user(30, ["read_only"])
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None, outbox_dir=tmp_path / "outbox", reporting_timezone="UTC"
    )


def _customer(session, external_id: str) -> int:  # type: ignore[no-untyped-def]
    return create_customer(
        session, SYSTEM, CustomerCreate(external_id=external_id, name=f"Customer {external_id}")
    ).id


def _survey(session, template: str) -> int:  # type: ignore[no-untyped-def]
    survey = surveys.create_survey(session, MANAGER, name=template, template_key=template)
    surveys.publish_survey(session, MANAGER, survey.id)
    return survey.id


def _answer(session, survey_id: int, customer: int | None, answers, at=NOW) -> int:  # type: ignore[no-untyped-def]
    started = responses.start_response(
        session, AGENT, survey_id, ResponseContext(customer_id=customer), now=at
    )
    responses.submit_response(session, AGENT, started.id, answers, now=at)
    return started.id


@pytest.fixture
def store(database: Database) -> dict[str, int]:
    with database.session() as session:
        add_staff(session, 1, 10, 30)
        return {
            "nps": _survey(session, "nps"),
            "ces": _survey(session, "ces"),
            "csat": _survey(session, "csat"),
        }


def _items(session) -> list[FollowUp]:  # type: ignore[no-untyped-def]
    return list(session.scalars(select(FollowUp).order_by(FollowUp.id)))


def test_the_rules_open_items_and_not_for_a_passive(
    database: Database, store: dict[str, int]
) -> None:
    with database.session() as session:
        customer = _customer(session, "C-1")
        detractor = _answer(session, store["nps"], customer, {"recommend": 6})
        _answer(session, store["nps"], customer, {"recommend": 7})  # passive
        _answer(session, store["nps"], customer, {"recommend": 10})  # promoter
        _answer(session, store["nps"], None, {"recommend": 0})  # anonymous: no one to call
        effort = _answer(session, store["ces"], customer, {"effort": 2})
        _answer(session, store["ces"], customer, {"effort": 3})
        low = _answer(session, store["csat"], customer, {"satisfaction": 2})
        _answer(session, store["csat"], customer, {"satisfaction": 3})
    with database.session() as session:
        items = _items(session)
        assert [(i.response_id, i.reason, i.question_id, i.score, i.status) for i in items] == [
            (detractor, "detractor", "recommend", 6.0, "open"),
            (effort, "high_effort", "effort", 2.0, "open"),
            (low, "low_satisfaction", "satisfaction", 2.0, "open"),
        ]
        assert items[0].due_at == NOW + timedelta(days=2)
        queue = follow_up.list_follow_ups(session, READER)
        assert [row.id for row in queue] == [i.id for i in items]
        assert queue[0].survey_name == "nps"


def test_changed_rules_change_what_opens_an_item(database: Database, store: dict[str, int]) -> None:
    with database.session() as session:
        with pytest.raises(PermissionDeniedError):
            follow_up.set_rules(session, AGENT, follow_up.Rules(nps_at_most=4))
        with pytest.raises(InputError) as refused:
            follow_up.set_rules(session, MANAGER, follow_up.Rules(ces_at_most=8))
        assert refused.value.column == "ces_at_most"
        follow_up.set_rules(session, MANAGER, follow_up.Rules(nps_at_most=4, due_days=1))
    with database.session() as session:
        customer = _customer(session, "C-2")
        _answer(session, store["nps"], customer, {"recommend": 5})
        kept = _answer(session, store["nps"], customer, {"recommend": 4})
    with database.session() as session:
        assert [(i.response_id, i.due_at) for i in _items(session)] == [
            (kept, NOW + timedelta(days=1))
        ]


def test_an_item_is_on_the_customers_timeline(database: Database, store: dict[str, int]) -> None:
    with database.session() as session:
        customer = _customer(session, "C-3")
        _answer(session, store["nps"], customer, {"recommend": 1})
    with database.session() as session:
        page = customer_timeline(session, READER, customer)
        entries = [e for e in page.entries if e.source == "follow_ups"]
        assert [(e.kind, e.title, e.detail["reason"]) for e in entries] == [
            ("follow_up", "Follow-up: Detractor", "detractor")
        ]


def test_one_click_opens_a_recovery_ticket_linked_back(
    database: Database, store: dict[str, int], settings: Settings
) -> None:
    with database.session() as session:
        care = create_team(session, MANAGER, "Care").id
        billing = create_team(session, MANAGER, "Billing").id
        add_team_member(session, MANAGER, care, 10)
        # the desk routes complaints to Billing, a team the agent is not in
        create_routing_rule(
            session, MANAGER, name="complaints", team_id=billing, kinds=["complaint"]
        )
        customer = _customer(session, "C-4")
        response = _answer(session, store["nps"], customer, {"recommend": 3})
        item = _items(session)[0].id
    agent = Principal.for_user(10, ["agent"], team_ids=[care])
    with database.session() as session:
        with pytest.raises(PermissionDeniedError):
            follow_up.open_recovery_ticket(session, READER, item, settings=settings)
        with pytest.raises(ConflictError):
            follow_up.open_recovery_ticket(
                session, agent, item, settings=settings, expected_version=99
            )
        with pytest.raises(InputError, match="in no team"):  # could not see its own ticket
            follow_up.open_recovery_ticket(session, AGENT, item, settings=settings)
        opened = follow_up.open_recovery_ticket(session, agent, item, settings=settings, now=NOW)
        assert (opened.status, opened.owner_id, opened.opened_by_rule) == (
            "ticket_opened",
            10,
            False,
        )
        assert opened.ticket_id is not None
        # the one who clicked has it, in their own team, and so can see it
        ticket = get_ticket(session, agent, opened.ticket_id)
        assert (ticket.customer_id, ticket.kind, ticket.priority) == (customer, "complaint", "high")
        assert (ticket.team_id, ticket.assignee_id) == (care, 10)
        assert f"follow-up #{item}" in ticket.description
        assert f"survey response #{response}" in ticket.description
    with database.session() as session:
        with pytest.raises(ConflictError):  # not twice
            follow_up.open_recovery_ticket(session, agent, item, settings=settings)
        closed = follow_up.close_follow_up(session, agent, item, now=NOW)
        assert closed.status == "closed"
        assert follow_up.list_follow_ups(session, READER) == []
        assert [r.id for r in follow_up.list_follow_ups(session, READER, status="closed")] == [item]


def test_a_lead_who_sees_every_team_keeps_the_routed_team(
    database: Database, store: dict[str, int], settings: Settings
) -> None:
    with database.session() as session:
        billing = create_team(session, MANAGER, "Billing").id
        create_routing_rule(
            session, MANAGER, name="complaints", team_id=billing, kinds=["complaint"]
        )
        add_team_member(session, MANAGER, billing, 1)
        customer = _customer(session, "C-5")
        _answer(session, store["nps"], customer, {"recommend": 1})
        item = _items(session)[0].id
    with database.session() as session:
        opened = follow_up.open_recovery_ticket(session, MANAGER, item, settings=settings, now=NOW)
        assert opened.ticket_id is not None
        ticket = get_ticket(session, MANAGER, opened.ticket_id)
        assert (ticket.team_id, ticket.assignee_id) == (billing, 1)


def test_the_automatic_rule_opens_tickets_of_high_value_detractors_when_on(
    database: Database,
    store: dict[str, int],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with database.session() as session:
        high, middle = _customer(session, "H-1"), _customer(session, "M-1")
        _answer(session, store["nps"], high, {"recommend": 2})
        _answer(session, store["nps"], middle, {"recommend": 2})
        _answer(session, store["ces"], high, {"effort": 1})  # not a detractor
    tiers = {high: "high", middle: "middle"}
    monkeypatch.setattr(follow_up, "value_tier_of", lambda _session, c: tiers.get(c))
    with database.session() as session:  # off by default
        assert follow_up.auto_open_recovery_tickets(session, settings=settings, now=NOW) == []
        follow_up.set_rules(session, MANAGER, follow_up.Rules(auto_open_high_value=True))
    with database.session() as session:
        opened = follow_up.auto_open_recovery_tickets(session, settings=settings, now=NOW)
        items = _items(session)
        assert opened == [items[0].id]
        assert [(i.customer_id, i.status, i.opened_by_rule) for i in items] == [
            (high, "ticket_opened", True),
            (middle, "open", False),
            (high, "open", False),
        ]
    with database.session() as session:  # done once
        assert follow_up.auto_open_recovery_tickets(session, settings=settings, now=NOW) == []


def test_the_theme_hook_opens_one_item_per_customer_and_theme(database: Database) -> None:
    with database.session() as session:
        customer = _customer(session, "T-1")
        first = follow_up.open_theme_follow_up(session, customer, "refund delay", now=NOW)
        again = follow_up.open_theme_follow_up(session, customer, "refund delay", now=NOW)
        assert first == again
        with pytest.raises(InputError):
            follow_up.open_theme_follow_up(session, customer, " ")
        (item,) = _items(session)
        assert (item.reason, item.theme, item.response_id) == ("urgent_theme", "refund delay", None)


def _buy(session, customer: int, at: datetime, key: str) -> None:  # type: ignore[no-untyped-def]
    session.add(
        Transaction(
            customer_id=customer,
            transaction_key=f"id:{key}",
            occurred_at=at,
            amount_minor=1_000,
            currency="CNY",
        )
    )


def test_the_outcome_per_month(
    database: Database, store: dict[str, int], settings: Settings
) -> None:
    """March 2026: five followed-up detractors. Came back within 30 days: 3 of the 4 whose window
    has ended (the fifth opened too late). Answered again: 3, of whom 2 scored higher. One open
    item is not followed up and is not counted."""
    march = [NOW + timedelta(days=d) for d in (0, 1, 2, 3, 25)]
    with database.session() as session:
        customers = [_customer(session, f"O-{i}") for i in range(6)]
        for customer, at in zip(customers, [*march, NOW], strict=True):
            _answer(session, store["nps"], customer, {"recommend": 5}, at=at)
        later = NOW + timedelta(days=40)
        _answer(session, store["nps"], customers[0], {"recommend": 9}, at=later)  # rose
        _answer(session, store["nps"], customers[1], {"recommend": 8}, at=later)  # rose
        _answer(session, store["nps"], customers[2], {"recommend": 4}, at=later)  # fell
        _buy(session, customers[0], NOW + timedelta(days=5), "a")
        _buy(session, customers[1], NOW + timedelta(days=20), "b")
        _buy(session, customers[2], NOW + timedelta(days=30), "c")  # the last day counts
        _buy(session, customers[3], NOW + timedelta(days=45), "d")  # too late
    with database.session() as session:
        for item in _items(session)[:5]:
            follow_up.close_follow_up(session, AGENT, item.id, now=NOW)
    with database.session() as session:
        evaluated = NOW + timedelta(days=50)
        (row,) = follow_up.outcome_by_month(
            session, READER, settings=settings, days=30, now=evaluated
        )
        assert (row.month, row.followed_up) == ("2026-03", 5)
        assert (row.came_back.count, row.came_back.n) == (3, 4)
        assert (row.score_rose.count, row.score_rose.n) == (2, 3)
        for share, (count, n) in ((row.came_back, (3, 4)), (row.score_rose, (2, 3))):
            low, high = proportion_confint(count, n, alpha=0.05, method="wilson")
            assert (share.low, share.high) == pytest.approx((low, high), abs=1e-9)
        with pytest.raises(InputError):
            follow_up.outcome_by_month(session, READER, settings=settings, days=0)

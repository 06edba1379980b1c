"""The service-quality gaps linked to the desk, on the store (SQLite always, PostgreSQL when
configured): eight tickets of the small test desk (tests/desk/desk.py), each answered by its
customer (reliability perception, CES, NPS), some kept their promise, some were transferred, some
customers bought again.

Pinned numbers: counts and means are the test's inputs; the correlations are
``scipy.stats.pearsonr`` of the same pairs and the loyalty drop is statsmodels' Poisson GLM
with HC0 (robust) covariance, ``exp(b) - 1`` and ``exp(b ± 1.96 se) - 1`` (Zou 2004's modified
Poisson regression) -- other tools, not kehu."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats

sys.path.insert(0, str(Path(__file__).parents[1] / "desk"))  # the desk tests' small desk

from desk import Desk, add_customer, b, build_desk
from kehu.core.auth import SYSTEM
from kehu.desk import ticket_commands
from kehu.feedback import desk_link, responses, surveys
from kehu.feedback.responses import ResponseContext
from kehu.store.db import Database
from kehu.value.tables import Transaction


def _text(text: str) -> dict[str, str]:
    return {"en": text, "zh-Hans": text}


DEFINITION = {
    "title": _text("After your ticket"),
    "dimensions": [{"id": "reliability", "name": _text("Reliability")}],
    "questions": [
        {
            "id": "promise",
            "type": "servqual_pair",
            "text": _text("Kept its promise"),
            "dimension": "reliability",
            "required": True,
        },
        {"id": "effort", "type": "ces", "text": _text("Made it easy"), "required": True},
        {"id": "recommend", "type": "nps", "text": _text("Recommend"), "required": True},
    ],
}

# per ticket: (transfers, resolved within the promise, perception 1-7, CES 1-7, bought again)
TICKETS = [
    (0, True, 7, 7, True),
    (0, True, 6, 6, True),
    (0, True, 6, 5, True),
    (0, False, 3, 6, False),
    (1, True, 5, 4, True),
    (1, False, 2, 3, False),
    (2, False, 2, 2, False),
    (2, True, 4, 2, True),
]


@pytest.fixture
def desk(database: Database, tmp_path: Path) -> Desk:
    return build_desk(database, tmp_path, reporting_timezone="Europe/Berlin")


@pytest.fixture
def answered(desk: Desk) -> list[int]:
    m = desk.manager
    created = b(3, 2, 9)  # Monday 2 March 2026
    with desk.database.session() as session:
        survey = surveys.create_survey(session, m, name="After ticket", definition=DEFINITION)
        surveys.publish_survey(session, m, survey.id)
        customers = [add_customer(session, f"L-{i}", f"Customer {i}") for i in range(8)]
    tickets = []
    for i, (transfers, kept, perception, ces, bought) in enumerate(TICKETS):
        t = desk.new_ticket(created, customer_id=customers[i], team_id=desk.front)
        tickets.append(t)
        with desk.database.session() as session:
            s = desk.settings
            for hop in range(transfers):
                team = desk.billing if hop % 2 == 0 else desk.front
                ticket_commands.transfer(
                    session, m, t, team, now=created + timedelta(minutes=10 + hop), settings=s
                )
            resolved = b(3, 2, 12) if kept else b(3, 20, 12)  # 16 business hours promised
            ticket_commands.resolve(session, m, t, now=resolved, settings=s)
            started = responses.start_response(
                session,
                SYSTEM,
                survey.id,
                ResponseContext(customer_id=customers[i], ticket_id=t),
                now=resolved,
            )
            responses.submit_response(
                session,
                SYSTEM,
                started.id,
                {
                    "promise": {"expectation": 7, "perception": perception},
                    "effort": ces,
                    "recommend": 5,
                },
                now=resolved,
            )
            if bought:
                session.add(
                    Transaction(
                        customer_id=customers[i],
                        transaction_key=f"id:{i}",
                        occurred_at=created + timedelta(days=10),
                        amount_minor=1_000,
                        currency="EUR",
                    )
                )
    return tickets


def test_kept_promises_against_reliability_per_team_and_month(
    desk: Desk, answered: list[int]
) -> None:
    with desk.database.session() as session:
        gaps = desk_link.reliability_gaps(session, desk.manager, settings=desk.settings)
    # one transfer ends in Billing, two transfers (there and back) in Front
    front = [row for i, row in enumerate(TICKETS) if row[0] != 1]
    billing = [row for row in TICKETS if row[0] == 1]
    expected = {
        desk.front: (
            len(front),
            sum(r[1] for r in front),
            np.mean([(r[2] - 1) / 6 * 100 for r in front]),
        ),
        desk.billing: (
            len(billing),
            sum(r[1] for r in billing),
            np.mean([(r[2] - 1) / 6 * 100 for r in billing]),
        ),
    }
    assert {row.team_id: (row.tickets, row.kept, row.mean_reliability) for row in gaps.rows} == {
        team: (n, kept, pytest.approx(mean)) for team, (n, kept, mean) in expected.items()
    }
    assert {row.month for row in gaps.rows} == {"2026-03"}
    assert all(row.rated == row.tickets for row in gaps.rows)
    assert gaps.by_team_month is None  # two team-months: too few for a correlation
    kept = [float(r[1]) for r in TICKETS]
    points = [(r[2] - 1) / 6 * 100 for r in TICKETS]
    reference = stats.pearsonr(kept, points)
    assert gaps.by_ticket is not None
    assert gaps.by_ticket.n == 8
    assert gaps.by_ticket.estimate == pytest.approx(reference.statistic, abs=1e-12)
    assert gaps.by_ticket.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_transfers_and_repeats_against_ces(desk: Desk, answered: list[int]) -> None:
    with desk.database.session() as session:
        gaps = desk_link.effort_gaps(session, desk.manager, settings=desk.settings)
    rows = {row.team_id: row for row in gaps.rows}
    assert (rows[desk.front].tickets, rows[desk.front].transfers) == (6, 4)
    assert (rows[desk.billing].tickets, rows[desk.billing].transfers) == (2, 2)
    assert rows[desk.billing].mean_ces == pytest.approx(3.5)
    assert rows[desk.front].repeats == 0  # distinct customers: no repeat contacts
    reference = stats.pearsonr([float(r[0]) for r in TICKETS], [float(r[3]) for r in TICKETS])
    assert gaps.transfers_by_ticket is not None
    assert gaps.transfers_by_ticket.estimate == pytest.approx(reference.statistic, abs=1e-12)
    assert gaps.repeats_by_ticket is None  # no repeat at all: a constant column


def test_the_loyalty_drop_per_transfer_or_repeat(desk: Desk, answered: list[int]) -> None:
    with desk.database.session() as session:
        too_soon = desk_link.loyalty_drop(
            session, desk.manager, days=30, settings=desk.settings, now=b(3, 10)
        )
        drop = desk_link.loyalty_drop(
            session, desk.manager, days=30, settings=desk.settings, now=b(6, 1)
        )
    assert (too_soon.n, too_soon.effect) == (0, None)
    assert too_soon.reason
    exposure = np.array([float(r[0]) for r in TICKETS])
    outcome = np.array([float(r[4]) for r in TICKETS])
    fit = sm.GLM(outcome, sm.add_constant(exposure), family=sm.families.Poisson()).fit(
        cov_type="HC0"
    )
    slope, se = fit.params[1], fit.bse[1]
    assert (drop.n, drop.came_back, drop.quoted) == (8, 5, -0.10)
    assert drop.effect is not None
    assert drop.effect.estimate == pytest.approx(np.expm1(slope), rel=1e-6)
    assert (drop.effect.low, drop.effect.high) == pytest.approx(
        (np.expm1(slope - 1.959963984540054 * se), np.expm1(slope + 1.959963984540054 * se)),
        rel=1e-6,
    )

"""Promise calibration on tickets with known elapsed business times (Berlin office calendar,
Mon-Fri 09:00-17:00): the nearest-rank 95th percentile, the share kept, the expected kept rate
under the suggested and a typed target, the minimum sample, the caller's scope, and applying a
suggestion as a new policy version (optimistic, audited, later tickets get the new target). Runs
on SQLite and PostgreSQL (the ``database`` fixture)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from desk import Desk, b
from kehu.core.audit.tables import AuditEvent
from kehu.core.config import Settings
from kehu.desk import sla_store, ticket_commands, ticket_messages
from kehu.desk.calibration import (
    apply_target,
    kept_share,
    nearest_rank,
    promise_calibration,
    suggested_target,
)
from kehu.desk.schemas import TicketCreate
from kehu.desk.sla import SlaTarget
from kehu.errors import ConflictError, InputError, PermissionDeniedError

M = timedelta(minutes=1)
NOW = b(3, 30, 12)
FR = SlaTarget.FIRST_RESPONSE
RES = SlaTarget.RESOLUTION


def test_nearest_rank_by_hand() -> None:
    twenty = [i * M for i in range(20, 0, -1)]  # 20, 19, ..., 1 minutes, unsorted
    assert nearest_rank(twenty) == 19 * M  # k = ceil(0.95 x 20) = 19
    assert nearest_rank(twenty[1:]) == 19 * M  # 19, ..., 1: k = ceil(18.05) = 19, the largest
    assert nearest_rank([5 * M, 1 * M, 3 * M]) == 5 * M  # k = ceil(2.85) = 3
    assert nearest_rank([i * M for i in range(1, 101)]) == 95 * M  # k = 95
    assert nearest_rank([i * M for i in range(1, 101)], 50) == 50 * M
    assert nearest_rank([]) is None
    assert kept_share([1 * M, 2 * M, 3 * M, 4 * M], 2 * M) == 0.5  # at the due time: kept
    assert kept_share([], M) is None
    assert suggested_target(timedelta(minutes=189, seconds=1)) == 190 * M
    assert suggested_target(190 * M) == 190 * M
    assert suggested_target(timedelta(0)) == M
    with pytest.raises(ValueError):
        nearest_rank([M], 0)


def seed(desk: Desk) -> list[int]:
    """20 standard tickets: 19 created Monday 23 March 09:00 and answered after 10, 20, ..., 190
    minutes; one of high priority created Friday 20 March 16:30 and answered Monday 13:30 (3
    days later, but 30 min + 4 h 30 = 300 business minutes: the 4 h promise broken). The first
    three are resolved after 8, 12 and 20 business hours (the last breaks the 16 h promise)."""
    ids = []
    with desk.database.session() as session:
        for i in range(1, 20):
            t = ticket_commands.create_ticket(
                session,
                desk.manager,
                _create(desk),
                now=b(3, 23, 9),
                settings=desk.settings,
            ).id
            ticket_messages.reply(
                session,
                desk.manager,
                t,
                "On it",
                now=b(3, 23, 9) + i * 10 * M,
                settings=desk.settings,
            )
            ids.append(t)
        late = ticket_commands.create_ticket(
            session,
            desk.manager,
            _create(desk, "high", desk.delivery_category),
            now=b(3, 20, 16, 30),
            settings=desk.settings,
        ).id
        ticket_messages.reply(
            session, desk.manager, late, "Sorry", now=b(3, 23, 13, 30), settings=desk.settings
        )
        ids.append(late)
        for t, at in zip(ids, (b(3, 24, 9), b(3, 24, 13), b(3, 25, 13)), strict=False):
            ticket_commands.resolve(session, desk.manager, t, now=at, settings=desk.settings)
    return ids


def _create(desk: Desk, priority: str = "normal", category: int | None = None) -> TicketCreate:
    return TicketCreate(
        customer_id=desk.customer,
        category_id=category,
        kind="complaint",
        channel="email",
        subject="Parcel broken",
        priority=priority,  # type: ignore[arg-type]
    )


def test_calibration_by_hand(desk: Desk) -> None:
    seed(desk)
    with desk.database.session() as session:
        calibration = promise_calibration(
            session,
            desk.manager,
            start=date(2026, 3, 20),
            end=date(2026, 3, 23),
            settings=desk.settings,
            now=NOW,
        )
    assert calibration.min_sample == 20 and calibration.percent == 95
    first = calibration.row(desk.standard, FR)
    assert first is not None
    assert first.policy_name == "standard" and first.version == 1
    assert first.current_target == timedelta(hours=4)
    assert first.elapsed == (*(i * 10 * M for i in range(1, 20)), 300 * M)
    assert first.sample == 20 and first.running == 0
    assert first.kept == 19 and first.kept_rate == 0.95  # the Friday ticket broke it
    assert first.percentile == 190 * M  # k = ceil(0.95 x 20) = 19: the 19th, 190 min
    assert first.enough_data and first.suggested == 190 * M
    assert first.suggested_kept_rate == 0.95
    assert first.current_kept_rate == 0.95  # 300 min > 240
    assert first.expected_kept_rate(100 * M) == 0.5  # a typed target: 10 of 20
    assert first.expected_kept_rate(300 * M) == 1.0
    # by category, kind, priority and tier: the normal complaints need less than the promise
    normal, high = first.groups
    assert (normal.category_id, normal.kind, normal.priority) == (None, "complaint", "normal")
    assert normal.value_tier is None and high.category_id == desk.delivery_category
    assert normal.sample == 19 and normal.kept_rate == 1.0 and normal.percentile == 190 * M
    assert (high.priority, high.sample, high.kept, high.percentile) == ("high", 1, 0, 300 * M)

    resolution = calibration.row(desk.standard, RES)
    assert resolution is not None
    assert resolution.elapsed == (8 * 60 * M, 12 * 60 * M, 20 * 60 * M)
    assert resolution.sample == 3 and resolution.running == 17
    assert resolution.kept == 2
    assert resolution.percentile == 20 * 60 * M  # k = ceil(2.85) = 3
    assert not resolution.enough_data and resolution.suggested is None  # 3 < 20: no suggestion
    assert resolution.expected_kept_rate(12 * 60 * M) == pytest.approx(2 / 3)

    urgent = calibration.row(desk.urgent, FR)  # no ticket: listed with an empty sample
    assert urgent is not None and urgent.sample == 0 and urgent.percentile is None
    assert urgent.kept_rate is None and urgent.suggested is None
    assert urgent.current_target == timedelta(hours=1)


def test_the_window_and_the_minimum_sample(desk: Desk) -> None:
    seed(desk)
    with desk.database.session() as session:
        monday = promise_calibration(
            session,
            desk.manager,
            start=date(2026, 3, 23),
            end=date(2026, 3, 23),
            settings=desk.settings,
            now=NOW,
        )
        first = monday.row(desk.standard, FR)
        assert first is not None and first.sample == 19 and first.kept == 19
        assert first.percentile == 190 * M  # k = ceil(18.05) = 19: the largest
        assert first.suggested is None  # 19 < 20
        lenient = promise_calibration(
            session,
            desk.manager,
            start=date(2026, 3, 23),
            end=date(2026, 3, 23),
            settings=desk.settings.model_copy(update={"calibration_min_sample": 19}),
            now=NOW,
        )
        row = lenient.row(desk.standard, FR)
        assert row is not None and row.suggested == 190 * M and row.min_sample == 19
        with pytest.raises(InputError) as bad:
            promise_calibration(
                session,
                desk.manager,
                start=date(2026, 3, 24),
                end=date(2026, 3, 23),
                settings=desk.settings,
            )
        assert bad.value.column == "to"


def test_an_agent_calibrates_their_teams_tickets_only(desk: Desk) -> None:
    seed(desk)  # all with the Front team (routing: no category -> Front)
    with desk.database.session() as session:
        billing = promise_calibration(
            session,
            desk.billing_agent,
            start=date(2026, 3, 20),
            end=date(2026, 3, 23),
            settings=desk.settings,
            now=NOW,
        )
        front = promise_calibration(
            session,
            desk.front_agent,
            start=date(2026, 3, 20),
            end=date(2026, 3, 23),
            settings=desk.settings,
            now=NOW,
        )
    billing_row = billing.row(desk.standard, FR)
    front_row = front.row(desk.standard, FR)
    assert billing_row is not None and billing_row.sample == 0
    assert front_row is not None and front_row.sample == 20


def test_applying_a_suggestion_makes_a_new_version(desk: Desk) -> None:
    seed(desk)
    window = {"start": date(2026, 3, 20), "end": date(2026, 3, 23), "settings": desk.settings}
    with desk.database.session() as session:
        with pytest.raises(PermissionDeniedError):
            apply_target(
                session,
                desk.front_agent,
                policy_id=desk.standard,
                target=FR,
                new_target=190 * M,
                expected_version=1,
                now=NOW,
                **window,
            )
        applied = apply_target(
            session,
            desk.manager,
            policy_id=desk.standard,
            target=FR,
            new_target=190 * M,
            expected_version=1,
            now=NOW,
            **window,
        )
        assert applied.version == 2 and applied.previous == timedelta(hours=4)
        assert applied.new == 190 * M and applied.sample == 20
        assert applied.expected_kept_rate == 0.95
        versions = sla_store.policy_versions(session, desk.standard)
        assert [v.first_response_seconds for v in versions] == [4 * 3600, 190 * 60]
        assert versions[1].resolution_seconds == 16 * 3600  # the other target unchanged
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "sla_policy")
                .order_by(AuditEvent.id)
            )
        )
        assert actions[-2:] == ["sla_policy.revised", "sla_policy.calibrated"]
        evidence = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "sla_policy.calibrated")
        ).one()
        assert evidence.after["sample"] == 20 and evidence.after["expected_kept_rate"] == 0.95
        assert evidence.after["percentile_seconds"] == 190 * 60
        assert evidence.before == {"version": 1, "first_response": 4 * 3600}
    with desk.database.session() as session:
        with pytest.raises(ConflictError):  # someone else's version 2 came first
            apply_target(
                session,
                desk.manager,
                policy_id=desk.standard,
                target=RES,
                new_target=20 * 60 * M,
                expected_version=1,
                now=NOW,
                **window,
            )
        with pytest.raises(InputError) as bad:
            apply_target(
                session,
                desk.manager,
                policy_id=desk.standard,
                target=RES,
                new_target=timedelta(seconds=30),
                expected_version=2,
                now=NOW,
                **window,
            )
        assert bad.value.column == "target_seconds"
    # a later ticket gets the new promise: 3 h 10 min from Monday 30 March 09:00
    later = desk.new_ticket(b(3, 30, 9))
    assert desk.ticket(later).first_response_due_at == b(3, 30, 12, 10)
    # tickets filed before keep theirs, so the window's figures do not change
    with desk.database.session() as session:
        again = promise_calibration(session, desk.manager, **window, now=NOW).row(desk.standard, FR)
    assert again is not None and again.version == 2 and again.current_target == 190 * M
    assert again.kept == 19 and again.current_kept_rate == 0.95
    assert replace(again, current_target=timedelta(hours=4)).current_kept_rate == 0.95


def test_the_minimum_sample_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEHU_CALIBRATION_MIN_SAMPLE", "5")
    assert Settings(_env_file=None).calibration_min_sample == 5  # type: ignore[call-arg]
    assert Settings(_env_file=None, calibration_min_sample=1).calibration_min_sample == 1  # type: ignore[call-arg]
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None, calibration_min_sample=0)  # type: ignore[call-arg]
    assert "calibration_min_sample" in str(refused.value)

"""Service promises on real tickets: due times stored and recalculated on every change (pauses,
priority changes, reopenings), across weekends, holidays and the daylight-saving change; policy
versions; the kept-promise rate per policy, team and month. Frozen time via explicit ``now``."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from desk import OFFICE, Desk, H, b
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM
from kehu.desk import sla_store, ticket_commands, ticket_messages, ticket_queries
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.effort import kept_promise_rates
from kehu.desk.tables import SlaPolicyVersion
from kehu.errors import PermissionDeniedError


def version_of(desk: Desk, ticket_id: int) -> tuple[str, int]:
    with desk.database.session() as session:
        ticket = ticket_queries.get_ticket(session, desk.manager, ticket_id)
        row = session.get(SlaPolicyVersion, ticket.sla_policy_version_id)
        assert row is not None
        return row.name, row.version


def test_pause_and_resume_move_the_due_time(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))  # Monday
    created = desk.ticket(t)
    assert created.first_response_due_at == b(3, 23, 13)
    assert created.resolution_due_at == b(3, 24, 17)
    with desk.database.session() as session:
        ticket_messages.reply(
            session,
            desk.manager,
            t,
            "Photo please",
            wait_for_customer=True,
            now=b(3, 23, 10),
            settings=desk.settings,
        )
    paused = desk.ticket(t)
    assert paused.first_response_due_at is None  # met
    assert paused.resolution_due_at is None and paused.sla_due_at is None  # clock paused
    with desk.database.session() as session:
        ticket_messages.add_customer_reply(
            session, SYSTEM, t, "Here.", now=b(3, 25, 11), settings=desk.settings
        )
    resumed = desk.ticket(t)
    # 1 h used before the pause; 15 h left from Wednesday 11:00: 6 + 8 + 1 -> Friday 10:00
    assert resumed.resolution_due_at == b(3, 27, 10)
    assert resumed.sla_due_at == b(3, 27, 10)


def test_raising_the_priority_switches_policy_from_that_instant(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    assert version_of(desk, t) == ("standard", 1)
    with desk.database.session() as session:
        ticket_commands.change_priority(
            session, desk.manager, t, "urgent", now=b(3, 23, 9, 30), settings=desk.settings
        )
    ticket = desk.ticket(t)
    assert version_of(desk, t) == ("urgent", 1)
    # half an hour consumed; urgent promises 1 h / 4 h
    assert ticket.first_response_due_at == b(3, 23, 10)
    assert ticket.resolution_due_at == b(3, 23, 13)
    with desk.database.session() as session:
        event = ticket_queries.list_events(session, desk.manager, t)[-1]
    assert event.kind == "priority_changed"
    assert event.before == {"priority": "normal"}
    assert event.after["sla_policy_version_id"] == ticket.sla_policy_version_id


def test_due_times_skip_holidays_and_weekends(desk: Desk) -> None:
    # Thursday before Easter: Good Friday, the weekend and Easter Monday are closed
    t = desk.new_ticket(b(4, 2, 16))
    assert desk.ticket(t).first_response_due_at == b(4, 7, 12)


def test_due_times_across_the_daylight_saving_change(desk: Desk) -> None:
    # Friday 27 March 16:00 CET; Berlin springs forward on Sunday 29 March
    t = desk.new_ticket(b(3, 27, 16))
    due = desk.ticket(t).first_response_due_at
    assert due == b(3, 30, 12)  # 12:00 CEST
    assert due is not None and due.utcoffset() == timedelta(0) and due.hour == 10


def test_reopen_keeps_the_business_time_consumed(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        ticket_messages.reply(
            session, desk.manager, t, "Done", now=b(3, 23, 10), settings=desk.settings
        )
        ticket_commands.resolve(session, desk.manager, t, now=b(3, 23, 11), settings=desk.settings)
    resolved = desk.ticket(t)
    assert resolved.sla_due_at is None and resolved.sla_kept is True
    with desk.database.session() as session:
        ticket_commands.reopen(session, desk.manager, t, now=b(3, 24, 9), settings=desk.settings)
    reopened = desk.ticket(t)
    # 2 h consumed before resolution; 14 h from Tuesday 09:00 -> Wednesday 15:00
    assert reopened.resolution_due_at == b(3, 25, 15)
    assert reopened.sla_kept is None


def test_a_policy_edit_never_rewrites_a_tickets_promise(desk: Desk) -> None:
    old = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        revised = sla_store.revise_policy(
            session, desk.manager, desk.standard, first_response=2 * H, expected_version=1
        )
        assert revised.version == 2
    with desk.database.session() as session:
        ticket_messages.add_note(
            session,
            desk.manager,
            old,
            "still on the old promise",
            now=b(3, 23, 10),
            settings=desk.settings,
        )
    new = desk.new_ticket(b(3, 23, 9))
    assert version_of(desk, old) == ("standard", 1)
    assert desk.ticket(old).first_response_due_at == b(3, 23, 13)
    assert version_of(desk, new) == ("standard", 2)
    assert desk.ticket(new).first_response_due_at == b(3, 23, 11)
    # a stale policy edit is refused
    with desk.database.session() as session:
        try:
            sla_store.revise_policy(session, desk.manager, desk.standard, expected_version=1)
        except Exception as exc:
            assert type(exc).__name__ == "ConflictError"
        else:  # pragma: no cover
            raise AssertionError("stale policy edit accepted")


def test_a_calendar_edit_versions_the_policies_using_it(desk: Desk) -> None:
    before = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        sla_store.update_calendar(
            session,
            desk.manager,
            desk.calendar,
            BusinessCalendar.office_hours(
                "Europe/Berlin",
                holidays=[*OFFICE.holidays, date(2026, 3, 24)],
                name="Berlin office",
            ),
            expected_version=1,
        )
        versions = sla_store.policy_versions(session, desk.standard)
        assert [v.version for v in versions] == [1, 2]
        assert "2026-03-24" in versions[-1].calendar["holidays"]
    after = desk.new_ticket(b(3, 23, 9))
    assert desk.ticket(before).resolution_due_at == b(3, 24, 17)
    assert desk.ticket(after).resolution_due_at == b(3, 25, 17)  # the 24th is now closed


def test_kept_promise_rate_per_policy_team_and_month(desk: Desk) -> None:
    kept = desk.new_ticket(b(3, 23, 9))
    late = desk.new_ticket(b(3, 23, 9))
    billing = desk.new_ticket(b(3, 31, 16), category_id=desk.billing_category)
    open_ticket = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        m = desk.manager
        ticket_messages.reply(session, m, kept, "ok", now=b(3, 23, 10), settings=desk.settings)
        ticket_commands.resolve(session, m, kept, now=b(3, 23, 11), settings=desk.settings)
        ticket_messages.reply(
            session, m, late, "sorry for the wait", now=b(3, 23, 14), settings=desk.settings
        )  # due 13:00
        ticket_commands.resolve(session, m, late, now=b(3, 23, 15), settings=desk.settings)
        ticket_commands.resolve(session, m, billing, now=b(4, 1, 10), settings=desk.settings)
    assert desk.ticket(late).sla_kept is False
    assert desk.ticket(open_ticket).sla_kept is None
    with desk.database.session() as session:
        rows = kept_promise_rates(session, desk.manager, settings=desk.settings)
        front_only = kept_promise_rates(session, desk.front_agent, settings=desk.settings)
    summary = [(r.policy_name, r.team_id, r.month, r.kept, r.total) for r in rows]
    assert summary == [
        ("standard", desk.front, "2026-03", 1, 2),
        ("standard", desk.billing, "2026-04", 1, 1),
    ]
    assert rows[0].rate == 0.5
    assert [(r.team_id, r.total) for r in front_only] == [(desk.front, 2)]


def test_tickets_without_a_matching_policy_have_no_due_time(desk: Desk) -> None:
    with desk.database.session() as session:
        sla_store.deactivate_policy(session, desk.manager, desk.standard)
    t = desk.new_ticket(b(3, 23, 9))
    ticket = desk.ticket(t)
    assert ticket.sla_policy_version_id is None and ticket.sla_due_at is None
    with desk.database.session() as session:
        assert session.scalars(select(SlaPolicyVersion)).all()


def test_an_activated_policy_is_given_to_new_tickets_again(desk: Desk) -> None:
    with desk.database.session() as session:
        sla_store.deactivate_policy(session, desk.manager, desk.standard)
        sla_store.activate_policy(session, desk.manager, desk.standard)
        sla_store.activate_policy(session, desk.manager, desk.standard)  # already active
        actions = list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.entity == "sla_policy", AuditEvent.action.like("%activated"))
                .order_by(AuditEvent.seq)
            )
        )
    assert actions == ["sla_policy.deactivated", "sla_policy.activated"]
    ticket = desk.ticket(desk.new_ticket(b(3, 23, 9)))
    assert ticket.sla_policy_version_id is not None and ticket.sla_due_at is not None
    with desk.database.session() as session, pytest.raises(PermissionDeniedError):
        sla_store.activate_policy(session, desk.front_agent, desk.standard)

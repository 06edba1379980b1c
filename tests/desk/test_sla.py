"""Service promises: policy selection and the SLA clock, with explicit (frozen) ``now`` instants.

The calendar is Mon-Fri 09:00-17:00 in Europe/Berlin with Good Friday (3 April 2026) and Easter
Monday (6 April 2026) closed; the default promise is a first response within 4 business hours and
a resolution within 16. 20 March 2026 is a Friday; Berlin springs forward on 29 March.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.desk.calendars import BusinessCalendar
from kehu.desk.sla import (
    AlertKind,
    EventKind,
    KeptRate,
    SlaError,
    SlaEvent,
    SlaPolicy,
    SlaStatus,
    SlaTarget,
    TargetState,
    TicketAttributes,
    alert_key,
    evaluate,
    kept_promise_rate,
    next_alert_due,
    reporting_month,
    select_policy,
)
from kehu.errors import InputError

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)
SECOND = timedelta(seconds=1)

OFFICE = BusinessCalendar.office_hours(
    "Europe/Berlin", holidays=[date(2026, 4, 3), date(2026, 4, 6)], name="Berlin office"
)
STANDARD = SlaPolicy(
    id=1,
    version=1,
    name="standard",
    first_response_target=4 * H,
    resolution_target=16 * H,
    calendar=OFFICE,
    warning_thresholds=(0.75,),
)


def b(mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, y: int = 2026) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=BERLIN)


def ev(kind: str, when: datetime, policy: SlaPolicy | None = None) -> SlaEvent:
    return SlaEvent(at=when, kind=EventKind(kind), policy=policy)


# -- the clock: due times ----------------------------------------------------------------------


def test_created_friday_afternoon_first_response_due_monday_noon() -> None:
    events = [ev("created", b(3, 20, 16))]
    status = evaluate(STANDARD, events, now=b(3, 20, 16))
    assert status.first_response_due == b(3, 23, 12)
    assert status.first_response_due is not None and status.first_response_due.tzinfo is UTC
    # 16 h: 1 h Friday, 8 h Monday, 7 h Tuesday
    assert status.resolution_due == b(3, 24, 16)
    assert status.first_response.state is TargetState.RUNNING
    assert status.first_response.consumed == timedelta(0)
    assert status.first_response.remaining == 4 * H
    assert status.kept is None
    assert not status.breached
    assert status.alerts == ()


def test_due_times_do_not_move_while_the_clock_runs() -> None:
    events = [ev("created", b(3, 20, 16))]
    for now in (b(3, 20, 16, 30), b(3, 21, 12), b(3, 23, 10)):
        status = evaluate(STANDARD, events, now=now)
        assert status.first_response_due == b(3, 23, 12)
    monday = evaluate(STANDARD, events, now=b(3, 23, 10))
    assert monday.first_response.consumed == 2 * H
    assert monday.first_response.remaining == 2 * H
    assert monday.first_response.elapsed_fraction == 0.5


def test_first_response_in_time_is_met() -> None:
    events = [ev("created", b(3, 20, 16)), ev("first_response", b(3, 23, 11))]
    status = evaluate(STANDARD, events, now=b(3, 23, 15))
    fr = status.first_response
    assert fr.state is TargetState.MET
    assert fr.stopped_at == b(3, 23, 11)
    assert fr.consumed == 3 * H
    assert fr.due == b(3, 23, 12)
    assert status.resolution.state is TargetState.RUNNING
    assert status.resolution.consumed == 7 * H


def test_response_exactly_at_the_due_time_is_met() -> None:
    events = [ev("created", b(3, 20, 16)), ev("first_response", b(3, 23, 12))]
    assert evaluate(STANDARD, events, now=b(3, 23, 12)).first_response.state is TargetState.MET
    assert evaluate(STANDARD, events, now=b(3, 25)).first_response.state is TargetState.MET


def test_across_a_holiday() -> None:
    # Thu 2 April 15:00: 2 h Thursday, Good Friday, weekend and Easter Monday closed
    events = [ev("created", b(4, 2, 15))]
    status = evaluate(STANDARD, events, now=b(4, 2, 15))
    assert status.first_response_due == b(4, 7, 11)
    assert status.resolution_due == b(4, 8, 15)
    on_holiday = evaluate(STANDARD, events, now=b(4, 6, 12))
    assert on_holiday.first_response.consumed == 2 * H


def test_across_the_spring_forward_weekend() -> None:
    events = [ev("created", b(3, 27, 16))]
    status = evaluate(STANDARD, events, now=b(3, 27, 16))
    assert status.first_response_due == b(3, 30, 12)  # CEST
    assert status.first_response_due == datetime(2026, 3, 30, 10, tzinfo=UTC)


def test_across_the_fall_back_weekend_in_new_york() -> None:
    calendar = BusinessCalendar.office_hours("America/New_York")
    policy = SlaPolicy(1, 1, "ny", 4 * H, 16 * H, calendar)
    created = datetime(2026, 10, 30, 16, tzinfo=NEW_YORK)
    status = evaluate(policy, [ev("created", created)], now=created)
    assert status.first_response_due == datetime(2026, 11, 2, 12, tzinfo=NEW_YORK)
    assert status.first_response_due == datetime(2026, 11, 2, 17, tzinfo=UTC)


def test_shanghai_policy() -> None:
    calendar = BusinessCalendar.office_hours("Asia/Shanghai", end=time(18))
    policy = SlaPolicy(2, 1, "cn", 2 * H, 9 * H, calendar)
    created = datetime(2026, 3, 27, 17, 30, tzinfo=SHANGHAI)  # a Friday
    status = evaluate(policy, [ev("created", created)], now=created)
    assert status.first_response_due == datetime(2026, 3, 30, 10, 30, tzinfo=SHANGHAI)
    assert status.resolution_due == datetime(2026, 3, 30, 17, 30, tzinfo=SHANGHAI)  # 0.5 + 8.5 h


def test_twenty_four_seven_policy_counts_real_hours_across_the_change() -> None:
    policy = SlaPolicy(3, 1, "24x7", H, 24 * H, BusinessCalendar.always_open("Europe/Berlin"))
    events = [ev("created", b(3, 28, 12))]
    status = evaluate(policy, events, now=b(3, 28, 12))
    assert status.first_response_due == b(3, 28, 13)
    assert status.resolution_due == b(3, 29, 13)  # the Sunday has 23 hours
    assert evaluate(policy, events, now=b(3, 29, 12)).resolution.consumed == 23 * H


# -- pauses ------------------------------------------------------------------------------------


def test_pause_friday_resume_tuesday() -> None:
    events = [
        ev("created", b(3, 19, 10)),  # Thursday
        ev("first_response", b(3, 19, 11)),
        ev("paused", b(3, 20, 12)),  # Friday: 7 h Thursday + 3 h Friday consumed
    ]
    paused = evaluate(STANDARD, events, now=b(3, 23, 15))
    assert paused.paused
    assert paused.resolution.state is TargetState.PAUSED
    assert paused.resolution.consumed == 10 * H
    assert paused.resolution.remaining == 6 * H
    assert paused.resolution_due is None
    assert paused.first_response.state is TargetState.MET

    resumed = [*events, ev("resumed", b(3, 24, 10))]  # Tuesday
    status = evaluate(STANDARD, resumed, now=b(3, 24, 10))
    assert status.resolution.state is TargetState.RUNNING
    assert status.resolution_due == b(3, 24, 16)
    assert status.resolution.consumed == 10 * H
    # the 75% warning (12 h) falls on Tuesday 12:00, after the pause
    later = evaluate(STANDARD, resumed, now=b(3, 24, 13))
    assert [(c.target, c.threshold, c.crossed_at) for c in later.crossings] == [
        (SlaTarget.RESOLUTION, 0.75, b(3, 24, 12))
    ]


def test_pause_before_the_first_response_stops_both_clocks() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("paused", b(3, 16, 10)),
        ev("resumed", b(3, 17, 9)),
    ]
    status = evaluate(STANDARD, events, now=b(3, 17, 9))
    assert status.first_response.consumed == H
    assert status.first_response_due == b(3, 17, 12)


def test_resolving_a_paused_ticket() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 10)),
        ev("paused", b(3, 16, 11)),
        ev("resolved", b(3, 18, 9)),
    ]
    status = evaluate(STANDARD, events, now=b(3, 18, 12))
    assert status.resolution.state is TargetState.MET
    assert status.resolution.consumed == 2 * H
    assert status.kept is True
    assert not status.paused


# -- warnings and breaches ---------------------------------------------------------------------


def test_warning_crossed_exactly_at_seventy_five_percent() -> None:
    events = [ev("created", b(3, 20, 16))]
    before = evaluate(STANDARD, events, now=b(3, 23, 11) - SECOND)
    assert before.crossings == ()
    exactly = evaluate(STANDARD, events, now=b(3, 23, 11))  # 3 h of 4 h
    assert len(exactly.crossings) == 1
    crossing = exactly.crossings[0]
    assert (crossing.target, crossing.threshold, crossing.crossed_at) == (
        SlaTarget.FIRST_RESPONSE,
        0.75,
        b(3, 23, 11),
    )
    (alert,) = exactly.alerts
    assert alert.kind is AlertKind.WARNING
    assert alert.key == ("first_response", "warning", 0.75)
    # the crossing instant is the same whenever it is evaluated afterwards
    assert evaluate(STANDARD, events, now=b(3, 30)).crossings[0].crossed_at == b(3, 23, 11)


def test_breach_detection() -> None:
    events = [ev("created", b(3, 20, 16))]
    at_due = evaluate(STANDARD, events, now=b(3, 23, 12))
    assert at_due.first_response.state is TargetState.RUNNING
    assert at_due.first_response.remaining == timedelta(0)
    assert not at_due.breached

    after = evaluate(STANDARD, events, now=b(3, 23, 12, 0, 1))
    fr = after.first_response
    assert fr.state is TargetState.BREACHED
    assert fr.breached_at == b(3, 23, 12)
    assert fr.due == b(3, 23, 12)
    assert fr.remaining == -SECOND
    assert after.breached
    assert [a.key for a in after.alerts] == [
        ("first_response", "warning", 0.75),
        ("first_response", "breach", None),
    ]

    # answering late does not undo the breach, and the promise is not kept
    late = [*events, ev("first_response", b(3, 23, 14)), ev("resolved", b(3, 23, 15))]
    status = evaluate(STANDARD, late, now=b(3, 24))
    assert status.first_response.state is TargetState.BREACHED
    assert status.first_response.stopped_at == b(3, 23, 14)
    assert status.resolution.state is TargetState.MET
    assert status.kept is False


def test_breach_over_a_closed_period_waits_for_business_time() -> None:
    # 4 h reached at Friday 17:00 closing time: not breached over the weekend, breached Monday
    events = [ev("created", b(3, 20, 13))]
    weekend = evaluate(STANDARD, events, now=b(3, 22, 12))
    assert weekend.first_response.state is TargetState.RUNNING
    assert weekend.first_response_due == b(3, 20, 17)
    monday = evaluate(STANDARD, events, now=b(3, 23, 9, 0, 1))
    assert monday.first_response.breached_at == b(3, 20, 17)


def test_an_event_in_closed_hours_does_not_move_the_breach() -> None:
    # 4 h reached at Friday 17:00; a no-op event on Saturday must not make Saturday the due time
    events = [
        ev("created", b(3, 20, 13)),
        ev("resumed", b(3, 21, 10)),  # not paused: changes nothing
        ev("policy_changed", b(3, 21, 11), STANDARD),  # re-selected, same version
    ]
    weekend = evaluate(STANDARD, events, now=b(3, 22, 12))
    assert weekend.first_response.state is TargetState.RUNNING
    assert weekend.first_response_due == b(3, 20, 17)
    monday = evaluate(STANDARD, events, now=b(3, 23, 10))
    assert monday.first_response.breached_at == b(3, 20, 17)
    assert monday == evaluate(STANDARD, events[:1], now=b(3, 23, 10))


def test_escalation_thresholds_above_one() -> None:
    policy = STANDARD.revise(warning_thresholds=(0.5, 0.75, 1.5))
    events = [ev("created", b(3, 16, 9))]
    status = evaluate(policy, events, now=b(3, 16, 16))
    assert [(c.threshold, c.crossed_at) for c in status.crossings] == [
        (0.5, b(3, 16, 11)),
        (0.75, b(3, 16, 12)),
        (1.5, b(3, 16, 15)),
    ]
    kinds = [(a.kind, a.at) for a in status.alerts if a.target is SlaTarget.FIRST_RESPONSE]
    assert (AlertKind.BREACH, b(3, 16, 13)) in kinds


def test_resolution_without_a_reply_counts_as_the_response() -> None:
    events = [ev("created", b(3, 16, 9)), ev("resolved", b(3, 16, 10))]
    status = evaluate(STANDARD, events, now=b(3, 16, 10))
    assert status.first_response.state is TargetState.MET
    assert status.first_response.stopped_at == b(3, 16, 10)
    assert status.resolved
    assert status.kept is True


# -- reopen ------------------------------------------------------------------------------------


def test_reopen_resumes_the_resolution_clock() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 10)),
        ev("resolved", b(3, 16, 13)),  # 4 h consumed
    ]
    resolved = evaluate(STANDARD, events, now=b(3, 17, 9))
    assert resolved.kept is True
    assert resolved.resolution.state is TargetState.MET

    reopened = [*events, ev("reopened", b(3, 18, 9))]
    status = evaluate(STANDARD, reopened, now=b(3, 18, 11))
    assert status.kept is None
    assert not status.resolved
    assert status.resolution.state is TargetState.RUNNING
    assert status.resolution.stopped_at is None
    assert status.resolution.consumed == 6 * H  # the time while resolved does not count
    assert status.resolution_due == b(3, 19, 13)  # 12 h left from Wednesday 09:00
    assert status.first_response.state is TargetState.MET  # not affected

    final = [*reopened, ev("resolved", b(3, 19, 12))]
    assert evaluate(STANDARD, final, now=b(3, 20)).kept is True


def test_reopen_then_late_resolution_breaks_the_promise() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 10)),
        ev("resolved", b(3, 16, 13)),
        ev("reopened", b(3, 18, 9)),
        ev("resolved", b(3, 20, 9)),  # 4 + 8 + 8 = 20 h > 16 h
    ]
    status = evaluate(STANDARD, events, now=b(3, 20, 12))
    assert status.resolution.state is TargetState.BREACHED
    assert status.resolution.breached_at == b(3, 19, 13)
    assert status.kept is False


# -- policy changes and versions ---------------------------------------------------------------


URGENT = SlaPolicy(
    id=2,
    version=1,
    name="urgent",
    first_response_target=H,
    resolution_target=8 * H,
    calendar=BusinessCalendar.always_open("Europe/Berlin"),
    priorities={"urgent"},
    warning_thresholds=(0.75,),
)


def test_policy_change_applies_from_that_moment() -> None:
    # Monday 09:00 created on the office policy; raised to urgent (24x7) at 09:30
    events = [ev("created", b(3, 16, 9)), ev("policy_changed", b(3, 16, 9, 30), URGENT)]
    status = evaluate(STANDARD, events, now=b(3, 16, 9, 30))
    assert status.policy is URGENT
    assert status.first_response.goal == H
    assert status.first_response_due == b(3, 16, 10)
    # resolution: 30 min consumed on the office calendar, 7.5 h more around the clock
    assert status.resolution_due == b(3, 16, 17)
    evening = evaluate(STANDARD, events, now=b(3, 16, 20))  # the office is closed, 24x7 is not
    assert evening.resolution.consumed == 11 * H
    assert evening.resolution.breached_at == b(3, 16, 17)


def test_shorter_target_already_exceeded_breaches_at_the_change() -> None:
    events = [ev("created", b(3, 16, 9)), ev("policy_changed", b(3, 16, 11), URGENT)]
    status = evaluate(STANDARD, events, now=b(3, 16, 11))
    fr = status.first_response
    assert fr.state is TargetState.BREACHED
    assert fr.breached_at == b(3, 16, 11)
    assert [(c.threshold, c.crossed_at) for c in status.crossings] == [(0.75, b(3, 16, 11))]


def test_a_breach_stays_when_the_target_is_lengthened() -> None:
    relaxed = STANDARD.revise(first_response_target=8 * H)
    events = [
        ev("created", b(3, 16, 9)),
        ev("policy_changed", b(3, 16, 14), relaxed),
        ev("first_response", b(3, 16, 15)),
    ]
    status = evaluate(STANDARD, events, now=b(3, 16, 16))
    assert status.first_response.state is TargetState.BREACHED
    assert status.first_response.breached_at == b(3, 16, 13)


def test_met_targets_keep_their_result_after_a_change() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 11)),
        ev("policy_changed", b(3, 16, 12), URGENT),  # 1 h target, 2 h were used
    ]
    status = evaluate(STANDARD, events, now=b(3, 16, 12))
    assert status.first_response.state is TargetState.MET
    assert status.first_response.goal == 4 * H


def test_editing_a_policy_never_rewrites_a_ticket() -> None:
    events = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 12)),
        ev("resolved", b(3, 17, 16)),
    ]
    before = evaluate(STANDARD, events, now=b(3, 18))
    edited = STANDARD.revise(first_response_target=2 * H, resolution_target=8 * H)
    assert edited.version == 2 and edited.id == STANDARD.id
    assert STANDARD.version == 1 and STANDARD.first_response_target == 4 * H
    # the ticket keeps version 1: same result after the edit
    assert evaluate(STANDARD, events, now=b(3, 18)) == before
    assert before.kept is True
    # a new ticket on the edited version would have broken it
    assert evaluate(edited, events, now=b(3, 18)).kept is False
    with pytest.raises(SlaError):
        STANDARD.revise(version=7)


# -- as-of evaluation and robustness -----------------------------------------------------------


def test_events_after_now_are_ignored() -> None:
    events = [ev("created", b(3, 16, 9)), ev("first_response", b(3, 16, 10))]
    status = evaluate(STANDARD, events, now=b(3, 16, 9, 30))
    assert status.first_response.state is TargetState.RUNNING
    assert status.first_response.consumed == timedelta(minutes=30)


def test_duplicate_and_out_of_place_events_change_nothing() -> None:
    base = [
        ev("created", b(3, 16, 9)),
        ev("first_response", b(3, 16, 10)),
        ev("paused", b(3, 16, 11)),
        ev("resumed", b(3, 16, 14)),
        ev("resolved", b(3, 16, 16)),
    ]
    noisy = [
        *base,
        ev("first_response", b(3, 16, 12)),
        ev("paused", b(3, 16, 12)),
        ev("resumed", b(3, 16, 15)),
        ev("resolved", b(3, 17, 10)),
        ev("paused", b(3, 17, 11)),
        ev("reopened", b(3, 16, 15, 30)),
    ]
    # noisy has a reopen at 15:30 while open: a no-op
    assert evaluate(STANDARD, noisy[::-1], now=b(3, 18)) == evaluate(STANDARD, base, now=b(3, 18))


def test_event_validation() -> None:
    with pytest.raises(SlaError, match="exactly one 'created'"):
        evaluate(STANDARD, [ev("first_response", b(3, 16, 9))], now=b(3, 16, 10))
    with pytest.raises(SlaError, match="exactly one 'created'"):
        evaluate(STANDARD, [ev("created", b(3, 16, 9)), ev("created", b(3, 16, 10))], b(3, 17))
    with pytest.raises(SlaError, match="before the ticket was created"):
        evaluate(STANDARD, [ev("created", b(3, 16, 9)), ev("paused", b(3, 16, 8))], b(3, 17))
    with pytest.raises(SlaError, match=r"now .* is before"):
        evaluate(STANDARD, [ev("created", b(3, 16, 9))], now=b(3, 16, 8))
    with pytest.raises(ValueError, match="timezone-aware"):
        SlaEvent(at=datetime(2026, 3, 16, 9), kind=EventKind.CREATED)
    with pytest.raises(ValueError, match="timezone-aware"):
        evaluate(STANDARD, [ev("created", b(3, 16, 9))], now=datetime(2026, 3, 16, 10))
    with pytest.raises(SlaError, match="must carry the new policy"):
        SlaEvent(at=b(3, 16), kind=EventKind.POLICY_CHANGED)
    with pytest.raises(SlaError, match="must carry the new policy"):
        SlaEvent(at=b(3, 16), kind=EventKind.PAUSED, policy=URGENT)
    with pytest.raises(SlaError, match="unknown SLA event kind"):
        SlaEvent(at=b(3, 16), kind="escalated")  # type: ignore[arg-type]
    assert SlaEvent(at=b(3, 16), kind="paused").kind is EventKind.PAUSED  # type: ignore[arg-type]
    assert issubclass(SlaError, ValueError) and issubclass(SlaError, InputError)


def test_same_instant_events_apply_created_first() -> None:
    events = [ev("first_response", b(3, 16, 9)), ev("created", b(3, 16, 9))]
    status = evaluate(STANDARD, events, now=b(3, 16, 9))
    assert status.first_response.state is TargetState.MET
    assert status.first_response.consumed == timedelta(0)


# -- policies ----------------------------------------------------------------------------------


def _policy(pid: int, order: int = 0, version: int = 1, **conditions: object) -> SlaPolicy:
    return SlaPolicy(
        id=pid,
        version=version,
        name=f"p{pid}",
        first_response_target=H,
        resolution_target=8 * H,
        calendar=OFFICE,
        order=order,
        **conditions,  # type: ignore[arg-type]
    )


def test_matches() -> None:
    policy = _policy(1, priorities={"high", "urgent"}, value_tiers={"high"})
    assert policy.matches(TicketAttributes("urgent", "complaint", "phone", "high"))
    assert not policy.matches(TicketAttributes("normal", "complaint", "phone", "high"))
    assert not policy.matches(TicketAttributes("urgent", "complaint", "phone", None))
    assert not policy.matches(TicketAttributes("urgent", "complaint", "phone", "low"))
    anything = _policy(2)
    assert anything.matches(TicketAttributes("low", "inquiry", "email"))
    assert anything.specificity == 0 and policy.specificity == 2
    assert policy.priorities == frozenset({"high", "urgent"})
    hash(policy)  # policies are hashable values


def test_select_policy_most_specific_then_order_then_id() -> None:
    default = _policy(1)
    complaints = _policy(2, kinds={"complaint"})
    vip_complaints = _policy(3, order=5, kinds={"complaint"}, value_tiers={"high"})
    phone_complaints = _policy(4, order=1, kinds={"complaint"}, channels={"phone"})
    phone_complaints_b = _policy(5, order=1, kinds={"complaint"}, channels={"phone"})
    policies = [default, complaints, vip_complaints, phone_complaints, phone_complaints_b]

    vip_phone = TicketAttributes("normal", "complaint", "phone", "high")
    # vip_complaints and phone_complaints both set 2 conditions: lower order wins
    assert select_policy(policies, vip_phone) is phone_complaints
    assert select_policy(policies, TicketAttributes("normal", "complaint", "email", "high")) is (
        vip_complaints
    )
    assert select_policy(policies, TicketAttributes("normal", "complaint", "email")) is complaints
    assert select_policy(policies, TicketAttributes("normal", "inquiry", "email")) is default
    assert select_policy([complaints], TicketAttributes("normal", "inquiry", "email")) is None
    # same specificity and order: lowest id; same id: newest version
    assert select_policy([phone_complaints_b, phone_complaints], vip_phone) is phone_complaints
    v2 = phone_complaints.revise(name="phone complaints, faster")
    assert select_policy([phone_complaints, v2], vip_phone) is v2


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"version": 0}, "version"),
        ({"first_response_target": timedelta(0)}, "positive"),
        ({"resolution_target": -H}, "positive"),
        ({"warning_thresholds": (0.0,)}, "thresholds"),
        ({"warning_thresholds": (float("nan"),)}, "thresholds"),
        ({"warning_thresholds": ("soon",)}, "thresholds"),
        ({"priorities": "high"}, "set of codes"),
        ({"kinds": {""}}, "non-empty"),
    ],
)
def test_invalid_policies_are_refused(changes: dict[str, object], message: str) -> None:
    fields: dict[str, object] = {
        "id": 9,
        "version": 1,
        "name": "bad",
        "first_response_target": H,
        "resolution_target": 8 * H,
        "calendar": OFFICE,
        **changes,
    }
    with pytest.raises(SlaError, match=message):
        SlaPolicy(**fields)  # type: ignore[arg-type]


def test_thresholds_are_sorted_and_unique() -> None:
    assert STANDARD.revise(warning_thresholds=(0.9, 0.5, 0.9)).warning_thresholds == (0.5, 0.9)


# -- the reliability figure --------------------------------------------------------------------


def test_kept_promise_rate_per_policy_team_and_month() -> None:
    results = [
        ((1, "berlin", "2026-03"), True),
        ((1, "berlin", "2026-03"), False),
        ((1, "berlin", "2026-03"), True),
        ((1, "berlin", "2026-03"), None),  # still open: not counted
        ((2, "shanghai", "2026-04"), True),
        ((3, "nyc", "2026-04"), None),
    ]
    rates = kept_promise_rate(results)
    assert rates == {
        (1, "berlin", "2026-03"): KeptRate(kept=2, total=3),
        (2, "shanghai", "2026-04"): KeptRate(kept=1, total=1),
    }
    assert rates[(1, "berlin", "2026-03")].rate == pytest.approx(2 / 3)
    assert kept_promise_rate([]) == {}


def test_kept_promise_rate_from_evaluated_tickets() -> None:
    tickets = [
        [ev("created", b(3, 16, 9)), ev("resolved", b(3, 16, 10))],  # kept
        [ev("created", b(3, 16, 9)), ev("resolved", b(3, 30, 10))],  # resolution breached
        [ev("created", b(4, 1, 9)), ev("resolved", b(4, 1, 10))],  # kept, April
        [ev("created", b(4, 1, 9))],  # open
    ]
    now = b(4, 10)
    pairs = []
    for events in tickets:
        status = evaluate(STANDARD, events, now)
        resolved_at = status.resolution.stopped_at or now
        key = (status.policy.id, reporting_month(resolved_at, "Europe/Berlin"))
        pairs.append((key, status.kept))
    assert kept_promise_rate(pairs) == {
        (1, "2026-03"): KeptRate(1, 2),
        (1, "2026-04"): KeptRate(1, 1),
    }


def test_reporting_month_uses_the_local_month() -> None:
    instant = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    assert reporting_month(instant) == "2026-03"
    assert reporting_month(instant, "Asia/Shanghai") == "2026-04"
    with pytest.raises(SlaError, match="unknown time zone"):
        reporting_month(instant, "Nowhere/Land")


# -- exactly-once alerts (property) ------------------------------------------------------------

KINDS = ["first_response", "paused", "resumed", "resolved", "reopened", "policy_changed"]
POLICIES = [
    STANDARD,
    URGENT,
    STANDARD.revise(first_response_target=2 * H, warning_thresholds=(0.5, 1.25)),
]


@st.composite
def ticket_histories(draw: st.DrawFn, with_policy_changes: bool = True) -> list[SlaEvent]:
    created = b(3, 16, 9) + timedelta(minutes=draw(st.integers(0, 14 * 24 * 60)))
    events = [ev("created", created)]
    t = created
    for _ in range(draw(st.integers(0, 8))):
        t = t + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        kind = draw(st.sampled_from(KINDS if with_policy_changes else KINDS[:-1]))
        policy = draw(st.sampled_from(POLICIES)) if kind == "policy_changed" else None
        events.append(ev(kind, t, policy))
    return events


@settings(max_examples=150, deadline=None)
@given(ticket_histories(), st.integers(0, 20 * 24 * 60), st.integers(0, 20 * 24 * 60))
def test_alerts_are_stable_so_each_fires_exactly_once(
    events: list[SlaEvent], m1: int, m2: int
) -> None:
    created = events[0].at
    now1 = created + timedelta(minutes=min(m1, m2))
    now2 = created + timedelta(minutes=max(m1, m2))
    early = evaluate(STANDARD, events, now1)
    late = evaluate(STANDARD, events, now2)
    keys = [a.key for a in late.alerts]
    assert len(keys) == len(set(keys))  # one alert per target and threshold
    late_by_key = {a.key: a for a in late.alerts}
    for alert in early.alerts:
        assert alert.at <= now1
        assert late_by_key[alert.key] == alert  # same instant later: never fired twice
    for target in (SlaTarget.FIRST_RESPONSE, SlaTarget.RESOLUTION):
        assert late.target(target).consumed >= early.target(target).consumed
        if early.target(target).state is TargetState.BREACHED:  # a breach is final
            assert late.target(target).state is TargetState.BREACHED
    if (
        early.kept is not None
        and late.resolved
        and late.resolution.stopped_at == (early.resolution.stopped_at)
    ):
        assert late.kept == early.kept


@settings(max_examples=150, deadline=None)
@given(ticket_histories(with_policy_changes=False), st.integers(0, 20 * 24 * 60), st.data())
def test_reselecting_the_same_policy_changes_nothing(
    events: list[SlaEvent], minutes: int, data: st.DataObject
) -> None:
    created = events[0].at
    now = created + timedelta(minutes=minutes)
    offset = data.draw(st.integers(0, minutes))
    noop = ev("policy_changed", created + timedelta(minutes=offset), STANDARD)
    assert evaluate(STANDARD, [*events, noop], now) == evaluate(STANDARD, events, now)


# -- when the next alert is due ----------------------------------------------------------------

TICK = timedelta(microseconds=1)
WIDE = STANDARD.revise(warning_thresholds=(0.5, 0.75, 1.5))


def unraised(status: SlaStatus, raised: set[str]) -> set[str]:
    return {alert_key(a) for a in status.alerts} - raised


def test_the_next_alert_is_the_warning_then_the_breach_just_past_the_due_time() -> None:
    events = [ev("created", b(3, 23, 9))]
    status = evaluate(STANDARD, events, b(3, 23, 9))
    assert next_alert_due(status, set()) == b(3, 23, 12)  # 75% of 4 h
    later = evaluate(STANDARD, events, b(3, 23, 12, 30))
    assert next_alert_due(later, set()) == b(3, 23, 12)  # reported, not raised: due at once
    raised = {"first_response:warning:0.75"}
    assert next_alert_due(later, raised) == b(3, 23, 13) + TICK
    raised.add("first_response:breach:-")
    # then resolution's warning: 12 of 16 business hours, Tuesday 13:00
    assert next_alert_due(evaluate(STANDARD, events, b(3, 23, 14)), raised) == b(3, 24, 13)


def test_a_target_due_at_closing_time_alerts_when_the_desk_opens_again() -> None:
    events = [ev("created", b(3, 20, 13))]  # Friday: 4 h to the first response end at 17:00
    status = evaluate(STANDARD, events, b(3, 20, 16))
    raised = {"first_response:warning:0.75"}
    assert status.first_response_due == b(3, 20, 17)
    assert next_alert_due(status, raised) == b(3, 23, 9) + TICK  # Monday's opening
    assert unraised(evaluate(STANDARD, events, b(3, 23, 9)), raised) == set()
    assert unraised(evaluate(STANDARD, events, b(3, 23, 9) + TICK), raised) == {
        "first_response:breach:-"
    }


def test_paused_and_stopped_targets_reach_nothing_more() -> None:
    created = b(3, 23, 9)
    paused = [
        ev("created", created),
        ev("first_response", b(3, 23, 10)),
        ev("paused", b(3, 23, 10)),
    ]
    assert next_alert_due(evaluate(STANDARD, paused, b(3, 23, 11)), set()) is None
    # paused after a warning was reported and before it was raised: still due
    late_pause = [ev("created", created), ev("paused", b(3, 23, 12, 30))]
    status = evaluate(STANDARD, late_pause, b(3, 23, 12, 31))
    assert next_alert_due(status, set()) == b(3, 23, 12)
    assert next_alert_due(status, {"first_response:warning:0.75"}) is None
    resolved = [ev("created", created), ev("resolved", b(3, 23, 10))]
    assert next_alert_due(evaluate(STANDARD, resolved, b(3, 23, 10)), set()) is None


def test_escalation_points_past_the_breach_are_scheduled() -> None:
    events = [ev("created", b(3, 23, 9))]
    raised = {
        "first_response:warning:0.5",
        "first_response:warning:0.75",
        "first_response:breach:-",
        "resolution:warning:0.5",
    }
    status = evaluate(WIDE, events, b(3, 24, 9))
    # first response 1.5 x 4 h = 6 business hours: Monday 15:00, reported, not raised
    assert next_alert_due(status, raised) == b(3, 23, 15)
    raised.add("first_response:warning:1.5")
    assert next_alert_due(status, raised) == b(3, 24, 13)  # resolution 75% of 16 h


def test_an_alert_a_calendar_never_reaches_is_never_due() -> None:
    """Two special days only (16 business hours): the resolution target is reached at the
    very end, so its breach (business time past it) and its warning at 3 x never come."""
    hours = [(time(9), time(17))]
    two_days = BusinessCalendar.from_hours(
        "Europe/Berlin", {}, special_hours={date(2026, 3, 23): hours, date(2026, 3, 24): hours}
    )
    policy = SlaPolicy(
        id=9,
        version=1,
        name="two days",
        first_response_target=4 * H,
        resolution_target=16 * H,
        calendar=two_days,
        warning_thresholds=(3.0,),
    )
    status = evaluate(policy, [ev("created", b(3, 23, 9))], b(3, 23, 9))
    assert next_alert_due(status, set()) == b(3, 23, 13) + TICK
    raised = {"first_response:breach:-"}
    assert next_alert_due(status, raised) == b(3, 24, 13)  # 3 x 4 h
    raised.add("first_response:warning:3")
    assert next_alert_due(status, raised) is None


@settings(max_examples=300, deadline=None)
@given(
    ticket_histories(),
    st.sampled_from([STANDARD, WIDE, URGENT]),
    st.integers(0, 3 * 24 * 60 * 60),
    st.data(),
)
def test_the_next_alert_due_is_exactly_when_evaluate_first_reports_it(
    events: list[SlaEvent], policy: SlaPolicy, seconds: int, data: st.DataObject
) -> None:
    """From any instant at or after the last event, with any of the alerts reported by then
    raised: nothing new is reported a microsecond before the instant, something at it."""
    start = max(e.at for e in events) + timedelta(seconds=seconds)
    status = evaluate(policy, events, start)
    reported = sorted(alert_key(a) for a in status.alerts)
    raised = set(data.draw(st.lists(st.sampled_from(reported), unique=True)) if reported else [])
    due = next_alert_due(status, raised)
    if due is None:
        assert unraised(evaluate(policy, events, start + timedelta(days=60)), raised) == set()
        return
    if due <= start:
        assert unraised(status, raised)
        return
    assert unraised(status, raised) == set()
    assert unraised(evaluate(policy, events, due - TICK), raised) == set()
    assert unraised(evaluate(policy, events, due), raised)

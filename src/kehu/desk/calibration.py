"""Promise calibration: which service promise targets are kept, and which target would have been.

The seeds ask the business to "lower the customer's expectation where a high promise is not
needed" -- and, where a promise is broken too often, to promise what the desk can keep. For every
promise target (a service promise's first-response or resolution target; the policy's conditions
-- kinds, priorities, channels, customer value tiers -- are the combination it applies to),
:func:`promise_calibration` measures the tickets created in a window:

- **elapsed time**: the business time the target consumed until it stopped (the first reply, the
  resolution), exactly as the SLA clock counts it (:func:`kehu.desk.sla.evaluate`: on the policy
  version's calendar, only while the clock runs, pauses while waiting on the customer left out).
  A ticket counts under the policy it ended with (after a priority change, the new one). Targets
  still running (no reply yet, not resolved) are not measured; their number is reported.
- **share kept**: measured targets that were met under the promise each ticket was given.
- **the 95th percentile** by the *nearest-rank* definition: with the n measured elapsed times
  sorted ascending, the k-th one where k = ceil(0.95 x n). It is an observed time, and at least
  95% of the sample is at or below it (a stop exactly at the due time meets the target).
- **suggested target**: that percentile rounded up to a whole minute (policies are kept in
  seconds; rounding up keeps the 95%). Only offered with at least ``min_sample`` measured tickets
  (``Settings.calibration_min_sample``); with fewer, ``suggested`` is ``None``.
- **expected kept rate** under any target T: the share of the window's measured tickets whose
  elapsed time is at most T (:meth:`TargetCalibration.expected_kept_rate`).

:func:`apply_target` turns a suggestion (or a target the manager typed) into a new policy version
through :func:`kehu.desk.sla_store.revise_policy` (optimistic: ``expected_version`` is required,
a stale one is a 409), and audits ``sla_policy.calibrated`` with the evidence (window, sample,
percentile, expected kept rate). Tickets already filed keep the version they were given.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import groupby

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.audit import record_audit
from kehu.core.auth import Principal, require, scoped
from kehu.core.config import Settings
from kehu.desk import sla_store
from kehu.desk.sla import SlaTarget, TargetState, evaluate, reporting_zone
from kehu.desk.tables import Ticket, TicketEvent
from kehu.desk.ticket_queries import sla_inputs_of
from kehu.errors import InputError
from kehu.store.base import utc_now

__all__ = [
    "PERCENTILE",
    "AppliedTarget",
    "Calibration",
    "GroupFigures",
    "TargetCalibration",
    "apply_target",
    "default_window",
    "kept_share",
    "nearest_rank",
    "promise_calibration",
    "suggested_target",
]

#: The share of tickets a suggested target would have been kept for, in percent.
PERCENTILE = 95
#: The window a calibration reads when none is given.
DEFAULT_WINDOW_DAYS = 90
#: The longest window one calibration reads (about ten years).
MAX_WINDOW_DAYS = 3660
#: The longest target a manager may set here (a year of business time).
MAX_TARGET = timedelta(days=365)
_MINUTE = timedelta(minutes=1)
_BATCH = 500


def nearest_rank(values: Sequence[timedelta], percent: int = PERCENTILE) -> timedelta | None:
    """The ``percent``-th percentile of ``values`` by the nearest-rank definition: sorted
    ascending, the k-th value with k = ceil(percent / 100 x n); ``None`` for no values."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError("percent must be in (0, 100]")
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # integer ceiling: no floating-point rounding
    return ordered[rank - 1]


def kept_share(values: Sequence[timedelta], target: timedelta) -> float | None:
    """The share of ``values`` at most ``target`` (``None`` for no values)."""
    if not values:
        return None
    return sum(1 for v in values if v <= target) / len(values)


def suggested_target(elapsed: timedelta) -> timedelta:
    """``elapsed`` rounded up to a whole minute, at least one minute."""
    minutes = max(1, -(-elapsed // _MINUTE))
    return minutes * _MINUTE


@dataclass(frozen=True)
class GroupFigures:
    """One combination of ticket category, kind, priority and customer value tier under a
    promise target: where a part of the promise's tickets needs less (or more) than the
    promise."""

    category_id: int | None
    kind: str
    priority: str
    value_tier: str | None
    elapsed: tuple[timedelta, ...]  # ascending
    kept: int

    @property
    def sample(self) -> int:
        return len(self.elapsed)

    @property
    def kept_rate(self) -> float | None:
        return self.kept / self.sample if self.sample else None

    @property
    def percentile(self) -> timedelta | None:
        return nearest_rank(self.elapsed)


@dataclass(frozen=True)
class TargetCalibration:
    """One promise target over the window (see the module docstring)."""

    policy_id: int
    policy_name: str
    version: int  # the policy's current version
    active: bool
    target: SlaTarget
    current_target: timedelta  # the current version's target
    priorities: tuple[str, ...]
    kinds: tuple[str, ...]
    channels: tuple[str, ...]
    value_tiers: tuple[str, ...]
    elapsed: tuple[timedelta, ...]  # measured business times, ascending
    kept: int  # measured targets met under the promise each ticket was given
    running: int  # targets not stopped yet (not measured)
    min_sample: int
    percent: int = PERCENTILE
    #: the measured tickets by category, kind, priority and value tier, largest group first
    groups: tuple[GroupFigures, ...] = ()

    @property
    def sample(self) -> int:
        return len(self.elapsed)

    @property
    def kept_rate(self) -> float | None:
        return self.kept / self.sample if self.sample else None

    @property
    def enough_data(self) -> bool:
        return self.sample >= self.min_sample

    @property
    def percentile(self) -> timedelta | None:
        """The nearest-rank percentile of the elapsed times (shown even for a small sample)."""
        return nearest_rank(self.elapsed, self.percent)

    @property
    def suggested(self) -> timedelta | None:
        """The suggested target, ``None`` with fewer than ``min_sample`` measured tickets."""
        percentile = self.percentile
        if percentile is None or not self.enough_data:
            return None
        return suggested_target(percentile)

    def expected_kept_rate(self, target: timedelta) -> float | None:
        return kept_share(self.elapsed, target)

    @property
    def current_kept_rate(self) -> float | None:
        """The share of the window's tickets within the current version's target."""
        return self.expected_kept_rate(self.current_target)

    @property
    def suggested_kept_rate(self) -> float | None:
        suggested = self.suggested
        return None if suggested is None else self.expected_kept_rate(suggested)


@dataclass(frozen=True)
class Calibration:
    start: date  # first day of the window (in the reporting time zone)
    end: date  # last day, inclusive
    timezone: str
    min_sample: int
    rows: list[TargetCalibration] = field(default_factory=list)
    percent: int = PERCENTILE

    def row(self, policy_id: int, target: SlaTarget) -> TargetCalibration | None:
        return next((r for r in self.rows if r.policy_id == policy_id and r.target is target), None)


def default_window(settings: Settings, now: datetime | None = None) -> tuple[date, date]:
    """The last :data:`DEFAULT_WINDOW_DAYS` days up to today, in the reporting time zone."""
    today = (now or utc_now()).astimezone(reporting_zone(settings.reporting_timezone)).date()
    return today - timedelta(days=DEFAULT_WINDOW_DAYS - 1), today


def window_bounds(start: date, end: date, timezone: str) -> tuple[datetime, datetime]:
    """``[start 00:00, end + 1 day 00:00)`` in ``timezone``; bad input names the field."""
    if end < start:
        raise InputError("the window must not end before it starts", column="to", value=end)
    if (end - start).days >= MAX_WINDOW_DAYS:
        raise InputError(
            f"the window may span at most {MAX_WINDOW_DAYS} days", column="to", value=end
        )
    zone = reporting_zone(timezone)
    return (
        datetime.combine(start, time(0), zone),
        datetime.combine(end + timedelta(days=1), time(0), zone),
    )


_Attributes = tuple[int | None, str, str, str | None]  # category, kind, priority, value tier


def _tickets(
    session: Session, principal: Principal, since: datetime, until: datetime
) -> dict[int, _Attributes]:
    statement = scoped(
        select(Ticket.id, Ticket.category_id, Ticket.kind, Ticket.priority, Ticket.value_tier)
        .where(
            Ticket.created_at >= since,
            Ticket.created_at < until,
            Ticket.sla_policy_version_id.is_not(None),
            Ticket.merged_into_id.is_(None),
        )
        .order_by(Ticket.id),
        principal,
        Ticket,
    )
    return {
        ticket_id: (category_id, kind, priority, tier)
        for ticket_id, category_id, kind, priority, tier in session.execute(statement)
    }


def _events(session: Session, ticket_ids: list[int]) -> Iterator[list[TicketEvent]]:
    """Each ticket's events in order, loaded a batch of tickets at a time."""
    for i in range(0, len(ticket_ids), _BATCH):
        batch = ticket_ids[i : i + _BATCH]
        rows = session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id.in_(batch))
            .order_by(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.id)
        ).all()
        for _ticket_id, events in groupby(rows, key=lambda e: e.ticket_id):
            yield list(events)


def promise_calibration(
    session: Session,
    principal: Principal,
    *,
    start: date,
    end: date,
    settings: Settings,
    now: datetime | None = None,
) -> Calibration:
    """Every promise target over the tickets in the caller's scope created from ``start`` to
    ``end`` (days in the reporting time zone, both inclusive); active policies without tickets
    are listed with an empty sample."""
    since, until = window_bounds(start, end, settings.reporting_timezone)
    instant = now or utc_now()
    elapsed: dict[tuple[int, SlaTarget], list[timedelta]] = defaultdict(list)
    kept: dict[tuple[int, SlaTarget], int] = defaultdict(int)
    running: dict[tuple[int, SlaTarget], int] = defaultdict(int)
    grouped: dict[tuple[int, SlaTarget], dict[_Attributes, list[tuple[timedelta, bool]]]] = (
        defaultdict(lambda: defaultdict(list))
    )
    tickets = _tickets(session, principal, since, until)
    for events in _events(session, list(tickets)):
        attributes = tickets[events[0].ticket_id]
        inputs = sla_inputs_of(session, events)
        if inputs is None:
            continue
        policy, sla_events = inputs
        created = min(e.at for e in sla_events)
        status = evaluate(policy, sla_events, max(instant, created))
        for which in SlaTarget:
            key = (status.policy.id, which)
            target = status.target(which)
            if target.stopped_at is None:
                running[key] += 1
                continue
            met = target.state is TargetState.MET
            elapsed[key].append(target.consumed)
            kept[key] += met
            grouped[key][attributes].append((target.consumed, met))
    policy_ids = {p.id for p in sla_store.list_policies(session)} | {k[0] for k in elapsed}
    policy_ids |= {k[0] for k in running}
    rows = []
    for policy_id in sorted(policy_ids):
        stored = sla_store.get_policy(session, policy_id)
        current = next(
            v
            for v in sla_store.policy_versions(session, policy_id)
            if v.version == stored.current_version
        )
        for which in SlaTarget:
            key = (policy_id, which)
            seconds = (
                current.first_response_seconds
                if which is SlaTarget.FIRST_RESPONSE
                else current.resolution_seconds
            )
            rows.append(
                TargetCalibration(
                    policy_id=policy_id,
                    policy_name=stored.name,
                    version=stored.current_version,
                    active=stored.active,
                    target=which,
                    current_target=timedelta(seconds=seconds),
                    priorities=tuple(current.priorities),
                    kinds=tuple(current.kinds),
                    channels=tuple(current.channels),
                    value_tiers=tuple(current.value_tiers),
                    elapsed=tuple(sorted(elapsed.get(key, ()))),
                    kept=kept.get(key, 0),
                    running=running.get(key, 0),
                    min_sample=settings.calibration_min_sample,
                    groups=_groups(grouped.get(key, {})),
                )
            )
    return Calibration(
        start=start,
        end=end,
        timezone=settings.reporting_timezone,
        min_sample=settings.calibration_min_sample,
        rows=rows,
    )


def _groups(measured: dict[_Attributes, list[tuple[timedelta, bool]]]) -> tuple[GroupFigures, ...]:
    groups = [
        GroupFigures(
            category_id=category_id,
            kind=kind,
            priority=priority,
            value_tier=tier,
            elapsed=tuple(sorted(e for e, _met in values)),
            kept=sum(1 for _e, met in values if met),
        )
        for (category_id, kind, priority, tier), values in measured.items()
    ]
    groups.sort(
        key=lambda g: (-g.sample, g.category_id or 0, g.kind, g.priority, g.value_tier or "")
    )
    return tuple(groups)


@dataclass(frozen=True)
class AppliedTarget:
    """A new policy version from a calibration, with what the window says of it."""

    policy_id: int
    policy_name: str
    version: int  # the new version
    target: SlaTarget
    previous: timedelta
    new: timedelta
    sample: int
    expected_kept_rate: float | None


def apply_target(
    session: Session,
    principal: Principal,
    *,
    policy_id: int,
    target: SlaTarget,
    new_target: timedelta,
    expected_version: int,
    start: date,
    end: date,
    settings: Settings,
    now: datetime | None = None,
) -> AppliedTarget:
    """A new version of the policy with ``target`` set to ``new_target`` (the suggestion or a
    target the manager typed), through :func:`kehu.desk.sla_store.revise_policy`: 409 when the
    policy is no longer at ``expected_version``. Audited as ``sla_policy.calibrated`` with the
    window's evidence for it."""
    require(principal, "settings:write")
    which = SlaTarget(target)
    if not isinstance(new_target, timedelta) or new_target < _MINUTE:
        raise InputError("a target is at least one minute", column="target_seconds")
    if new_target > MAX_TARGET:
        raise InputError("a target is at most 365 days", column="target_seconds")
    calibration = promise_calibration(
        session, principal, start=start, end=end, settings=settings, now=now
    )
    row = calibration.row(policy_id, which)
    policy_name = sla_store.get_policy(session, policy_id).name
    change = "first_response" if which is SlaTarget.FIRST_RESPONSE else "resolution"
    version = sla_store.revise_policy(
        session, principal, policy_id, expected_version=expected_version, **{change: new_target}
    )
    sample = row.sample if row is not None else 0
    expected = row.expected_kept_rate(new_target) if row is not None else None
    old_target = row.current_target if row is not None else new_target
    record_audit(
        session,
        principal,
        "sla_policy.calibrated",
        "sla_policy",
        policy_id,
        {"version": expected_version, change: int(old_target.total_seconds())},
        {
            "version": version.version,
            change: int(new_target.total_seconds()),
            "window": [start.isoformat(), end.isoformat()],
            "sample": sample,
            "percentile": PERCENTILE,
            "percentile_seconds": (
                int(row.percentile.total_seconds())
                if row is not None and row.percentile is not None
                else None
            ),
            "expected_kept_rate": expected,
        },
    )
    return AppliedTarget(
        policy_id=policy_id,
        policy_name=policy_name,
        version=version.version,
        target=which,
        previous=old_target,
        new=new_target,
        sample=sample,
        expected_kept_rate=expected,
    )

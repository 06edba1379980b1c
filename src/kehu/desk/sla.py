"""Service promises (SLA policies) and the SLA clock of a ticket.

A service promise tells the customer "we answer within X and resolve within Y business hours".
kehu keeps it in three pure pieces: the :class:`SlaPolicy` (what was promised, to whom, on which
:class:`~kehu.desk.calendars.BusinessCalendar`), :func:`select_policy` (which promise applies
to a ticket) and :func:`evaluate` (the clock: where a ticket stands against its promise at an
instant ``now``, computed from the ticket's :class:`SlaEvent` list alone). Nothing here reads
the system clock or a database; the ticket use cases store events and call :func:`evaluate`.

Policies and versions
---------------------
- A policy's conditions are sets of priorities, kinds, channels and customer value tiers; an
  empty set means "any". A policy *matches* a ticket when every non-empty set contains the
  ticket's value (a ticket without a value tier matches only policies without a tier condition).
- :func:`select_policy` picks, among the matching policies, the most specific one (most
  non-empty conditions); ties go to the lowest ``order`` (the administrator's ranking), then the
  lowest ``id``, then the highest ``version``.
- Policies are immutable and versioned: an edit is a new version (:meth:`SlaPolicy.revise`).
  A ticket keeps the version it was given at creation; only a ``policy_changed`` event switches
  it (the use case emits one when a change of the ticket -- priority, kind, channel, tier --
  selects another policy). So editing a policy never rewrites the result of an existing ticket,
  and no later event rewrites a past result: a breach stays a breach, a met first response stays
  met, and a met resolution only opens again with the ticket (``reopened``).

The clock (rules of :func:`evaluate`)
-------------------------------------
There are two targets, **first response** and **resolution**, each a business-time budget on the
policy's calendar: only time while the calendar is open counts, and only while the clock runs.

- The clock runs from ``created``; it stops while the ticket is ``paused`` (waiting on the
  customer) and runs again when it is ``resumed`` (the customer replied). Both targets pause.
- The first-response target stops at the first ``first_response`` (an agent's reply; later
  replies do not matter). Resolving a ticket that never had a reply counts as the response.
- The resolution target stops at ``resolved``. ``reopened`` resumes the resolution clock with
  the business time already consumed (it is not reset, and the time the ticket spent resolved
  does not count); the promise is judged again at the final resolution. The first-response
  result is not affected by a reopen.
- ``policy_changed`` (carrying the new policy) applies **from that instant on**: business time
  consumed so far is kept, later time is counted on the new policy's calendar, and the new
  targets and warning thresholds apply to the total. If the consumed time already exceeds a new,
  shorter target, that target is breached at the change instant; a warning threshold already
  passed is crossed at the change instant. Stopped targets keep their result.
- A target is **breached** once its consumed business time exceeds the target; the breach
  instant (``breached_at``) is the moment the consumed time reached the target -- its due time.
  Stopping exactly at the due time meets the target. A breach is final: the state stays
  ``breached`` even if the ticket is later answered, resolved, or given a longer target.
- A **warning threshold** ``f`` (a fraction of the target, e.g. 0.75) is crossed at the first
  instant the consumed time reaches ``f`` x target while the target runs (inclusive: reaching
  exactly 75% crosses 0.75). Fractions above 1 are escalation points after the breach (1.5:
  half the target again overdue). Each crossing is reported once per target and threshold, with
  its instant, across policy changes.
- **Due times** are recomputed at every event: a running target is due when its remaining
  business time will have passed if the clock keeps running; a paused target has no due time.
- **Events after ``now`` are ignored**, so ``evaluate(policy, events, now)`` is the ticket as it
  stood at ``now``. Events at the same instant are applied in the given order (``created``
  first). Duplicate or out-of-place events (a second ``resolved``, ``resumed`` without a pause,
  ``paused`` on a resolved ticket) change nothing, so re-delivered events are harmless.
- The promise is **kept** when the ticket is resolved (as of ``now``) and neither target was
  breached; while the ticket is open, ``kept`` is ``None``.

Firing warnings exactly once
----------------------------
Every crossing and breach that :func:`evaluate` reports has an instant at or before ``now``,
which depends only on the events up to that instant; evaluating later (with more events) gives
the same instant again. A worker that fires each :attr:`SlaStatus.alerts` entry whose
:attr:`SlaAlert.key` it has not recorded yet for the ticket therefore fires each warning, breach
and escalation exactly once per ticket and threshold -- provided events are recorded when they
happen (a back-dated event can move instants that lie after it).

When the next alert is due
--------------------------
A checker need not evaluate every open ticket every minute to find the few with an alert due:
:func:`next_alert_due` says when a ticket's earliest alert not raised yet will be reported,
assuming nothing more happens to the ticket. That is the instant of an alert already reported
and not raised (due at once), a warning threshold's instant (reported from the instant the
consumed time reaches it), or for a breach the first instant the consumed time *exceeds* the
target: one microsecond of business time past the due time (a target due at closing time is
breached, and reported, only once the desk opens again). A paused or stopped target reaches
nothing more; the next event (resume, reopen) is a change of the ticket, after which the
instant is computed again. Computed from a status evaluated at or after the ticket's last
event, the instant is exact: :func:`evaluate` at any earlier instant reports no alert that is
not raised yet, and at that instant it reports one.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kehu.desk.calendars import BusinessCalendar, CalendarError, ensure_aware
from kehu.errors import InputError

__all__ = [
    "AlertKind",
    "EventKind",
    "KeptRate",
    "SlaAlert",
    "SlaError",
    "SlaEvent",
    "SlaPolicy",
    "SlaStatus",
    "SlaTarget",
    "TargetState",
    "TargetStatus",
    "ThresholdCrossing",
    "TicketAttributes",
    "alert_key",
    "evaluate",
    "kept_promise_rate",
    "next_alert_due",
    "reporting_month",
    "reporting_zone",
    "select_policy",
]

_ZERO = timedelta(0)
#: The smallest step of time a datetime has: a breach is reported once the consumed business
#: time exceeds the target by it.
_TICK = timedelta(microseconds=1)
K = TypeVar("K", bound=Hashable)


class SlaError(InputError, ValueError):
    """An SLA policy, event list or evaluation request is unusable (also a ValueError)."""


class SlaTarget(StrEnum):
    """The two promises of a policy."""

    FIRST_RESPONSE = "first_response"
    RESOLUTION = "resolution"


class TargetState(StrEnum):
    """Where one target stands: ``running`` (the clock counts), ``paused`` (waiting on the
    customer), ``met`` (stopped within the target), ``breached`` (the target was exceeded;
    final)."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class EventKind(StrEnum):
    """What happened to a ticket, as far as the SLA clock is concerned."""

    CREATED = "created"
    FIRST_RESPONSE = "first_response"  # an agent replied to the customer
    PAUSED = "paused"  # waiting on the customer
    RESUMED = "resumed"  # the customer replied
    RESOLVED = "resolved"
    REOPENED = "reopened"
    POLICY_CHANGED = "policy_changed"  # carries the newly selected policy


class AlertKind(StrEnum):
    WARNING = "warning"
    BREACH = "breach"


@dataclass(frozen=True)
class TicketAttributes:
    """The ticket attributes a policy's conditions look at (codes, compared exactly)."""

    priority: str
    kind: str
    channel: str
    value_tier: str | None = None


def _condition(values: Iterable[str], name: str) -> frozenset[str]:
    if isinstance(values, str):
        raise SlaError(f"policy condition {name} must be a set of codes, got the string {values!r}")
    codes = frozenset(values)
    bad = [v for v in codes if not isinstance(v, str) or not v]
    if bad:
        raise SlaError(f"policy condition {name} must hold non-empty strings, got {bad!r}")
    return codes


@dataclass(frozen=True)
class SlaPolicy:
    """One version of a service promise (see the module docstring for the rules).

    Attributes:
        id: the policy's identity, shared by all its versions.
        version: 1, 2, ...; an edit is a new version (:meth:`revise`).
        name: display name.
        first_response_target: business time allowed until the first agent reply (> 0).
        resolution_target: business time allowed until resolution (> 0).
        calendar: the business hours both targets are counted in.
        priorities, kinds, channels, value_tiers: conditions; an empty set means "any".
        warning_thresholds: fractions of a target elapsed at which to warn, e.g. ``(0.75,)``;
            values above 1 are escalation points after a breach. Stored sorted, unique.
        order: administrator's ranking, used to break ties between equally specific policies
            (lower first).
    """

    id: int
    version: int
    name: str
    first_response_target: timedelta
    resolution_target: timedelta
    calendar: BusinessCalendar
    priorities: AbstractSet[str] = frozenset()
    kinds: AbstractSet[str] = frozenset()
    channels: AbstractSet[str] = frozenset()
    value_tiers: AbstractSet[str] = frozenset()
    warning_thresholds: tuple[float, ...] = (0.75,)
    order: int = 0

    def __post_init__(self) -> None:
        label = f"SLA policy {self.name!r} (id {self.id}, version {self.version})"
        if self.version < 1:
            raise SlaError(f"{label}: version must be 1 or more")
        for name in ("first_response_target", "resolution_target"):
            value = getattr(self, name)
            if not isinstance(value, timedelta) or value <= _ZERO:
                raise SlaError(f"{label}: {name} must be a positive timedelta, got {value!r}")
        if not isinstance(self.calendar, BusinessCalendar):
            raise SlaError(f"{label}: calendar must be a BusinessCalendar")
        for name in ("priorities", "kinds", "channels", "value_tiers"):
            object.__setattr__(self, name, _condition(getattr(self, name), name))
        try:
            thresholds = tuple(sorted({float(t) for t in self.warning_thresholds}))
        except (TypeError, ValueError):
            thresholds = (math.nan,)
        if any(not (t > 0 and math.isfinite(t)) for t in thresholds):
            raise SlaError(
                f"{label}: warning thresholds must be positive finite fractions of the target, "
                f"got {self.warning_thresholds!r}"
            )
        object.__setattr__(self, "warning_thresholds", thresholds)

    @property
    def specificity(self) -> int:
        """How many conditions are set (0 to 4)."""
        return sum(1 for c in (self.priorities, self.kinds, self.channels, self.value_tiers) if c)

    def matches(self, attributes: TicketAttributes) -> bool:
        """Whether every set condition holds for ``attributes``."""
        checks = (
            (self.priorities, attributes.priority),
            (self.kinds, attributes.kind),
            (self.channels, attributes.channel),
            (self.value_tiers, attributes.value_tier),
        )
        return all(not allowed or value in allowed for allowed, value in checks)

    def target(self, which: SlaTarget) -> timedelta:
        """The business-time budget of ``which`` target."""
        if which is SlaTarget.FIRST_RESPONSE:
            return self.first_response_target
        return self.resolution_target

    def revise(self, **changes: Any) -> SlaPolicy:
        """A new version of this policy (``version + 1``) with ``changes`` applied; this one is
        left as it was, so tickets already on it keep their promise."""
        if "id" in changes or "version" in changes:
            raise SlaError("revise() keeps the id and numbers the version itself")
        return replace(self, version=self.version + 1, **changes)


def select_policy(policies: Iterable[SlaPolicy], attributes: TicketAttributes) -> SlaPolicy | None:
    """The policy for a ticket with ``attributes``, or ``None`` when none matches.

    The most specific matching policy wins (most set conditions); ties go to the lowest
    ``order``, then the lowest ``id``, then the highest ``version`` (pass the current version of
    each policy; if several versions of one policy are given, the newest is preferred).
    """
    candidates = [p for p in policies if p.matches(attributes)]
    if not candidates:
        return None
    return min(candidates, key=lambda p: (-p.specificity, p.order, p.id, -p.version))


@dataclass(frozen=True)
class SlaEvent:
    """Something that happened to a ticket at instant ``at`` (timezone-aware; kept in UTC).

    ``policy`` is the newly selected policy, required for ``policy_changed`` and not allowed for
    any other kind.
    """

    at: datetime
    kind: EventKind
    policy: SlaPolicy | None = None

    def __post_init__(self) -> None:
        try:
            kind = EventKind(self.kind)
        except ValueError:
            known = ", ".join(k.value for k in EventKind)
            raise SlaError(f"unknown SLA event kind {self.kind!r}; known: {known}") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "at", _aware(self.at, f"{kind.value} event time"))
        if (kind is EventKind.POLICY_CHANGED) != (self.policy is not None):
            raise SlaError(
                "a policy_changed event must carry the new policy, and only it may carry one "
                f"(got kind {kind.value!r} with policy {self.policy!r})"
            )


@dataclass(frozen=True)
class ThresholdCrossing:
    """A warning threshold of a target reached at ``crossed_at`` (UTC)."""

    target: SlaTarget
    threshold: float
    crossed_at: datetime


@dataclass(frozen=True)
class SlaAlert:
    """A warning (threshold crossed) or breach to notify about, once per ticket and :attr:`key`."""

    target: SlaTarget
    kind: AlertKind
    threshold: float | None
    at: datetime

    @property
    def key(self) -> tuple[str, str, float | None]:
        """Identity of the alert within one ticket, for exactly-once delivery."""
        return (self.target.value, self.kind.value, self.threshold)


@dataclass(frozen=True)
class TargetStatus:
    """One target of a ticket at ``now``.

    Attributes:
        target: which target.
        goal: the business time allowed (from the policy in force now, or when it stopped).
        state: running, paused, met or breached.
        consumed: business time counted so far (pauses and closed hours excluded).
        remaining: ``goal - consumed``; negative when overdue.
        due: the due instant (UTC): for a running target, when ``remaining`` will have passed
            if the clock keeps running (the instant the target was reached, if ``remaining`` is
            zero); for a breached target, the breach instant; for a met target, the due time in
            force when it stopped (for one stopped while paused: counted on from the stop);
            ``None`` while paused.
        stopped_at: when the target stopped (first reply, resolution), ``None`` if it has not.
        breached_at: when it was breached, ``None`` if it was not.
    """

    target: SlaTarget
    goal: timedelta
    state: TargetState
    consumed: timedelta
    remaining: timedelta
    due: datetime | None
    stopped_at: datetime | None
    breached_at: datetime | None

    @property
    def breached(self) -> bool:
        return self.breached_at is not None

    @property
    def elapsed_fraction(self) -> float:
        """Consumed business time as a fraction of the goal."""
        return self.consumed / self.goal


@dataclass(frozen=True)
class SlaStatus:
    """A ticket against its promise at ``now`` (see :func:`evaluate`)."""

    now: datetime
    policy: SlaPolicy
    first_response: TargetStatus
    resolution: TargetStatus
    crossings: tuple[ThresholdCrossing, ...]
    resolved: bool
    paused: bool
    kept: bool | None

    @property
    def first_response_due(self) -> datetime | None:
        return self.first_response.due

    @property
    def resolution_due(self) -> datetime | None:
        return self.resolution.due

    @property
    def breached(self) -> bool:
        """Whether either target has been breached."""
        return self.first_response.breached or self.resolution.breached

    @property
    def alerts(self) -> tuple[SlaAlert, ...]:
        """Warnings and breaches so far, in time order, each with its exactly-once key."""
        alerts = [
            SlaAlert(c.target, AlertKind.WARNING, c.threshold, c.crossed_at) for c in self.crossings
        ]
        for status in (self.first_response, self.resolution):
            if status.breached_at is not None:
                alerts.append(SlaAlert(status.target, AlertKind.BREACH, None, status.breached_at))
        alerts.sort(key=lambda a: (a.at, a.kind is AlertKind.BREACH, a.target.value))
        return tuple(alerts)

    def target(self, which: SlaTarget) -> TargetStatus:
        return self.first_response if which is SlaTarget.FIRST_RESPONSE else self.resolution


def _aware(instant: datetime, name: str) -> datetime:
    try:
        return ensure_aware(instant, name)
    except ValueError as exc:
        raise SlaError(str(exc)) from None


@dataclass
class _Clock:
    """Mutable bookkeeping of one target while :func:`evaluate` replays the events."""

    target: SlaTarget
    consumed: timedelta = _ZERO
    stopped_at: datetime | None = None
    stopped_goal: timedelta | None = None
    due_at_stop: datetime | None = None
    breached_at: datetime | None = None
    crossings: dict[float, datetime] = field(default_factory=dict)
    # when the consumed time reached ``reached_goal`` (the breach instant, should it be exceeded)
    reached_at: datetime | None = None
    reached_goal: timedelta | None = None

    def reached(self, goal: timedelta) -> datetime | None:
        """When the consumed time reached ``goal``, if it has (for the goal in force)."""
        return self.reached_at if self.reached_goal == goal else None

    def run(self, policy: SlaPolicy, start: datetime, end: datetime) -> None:
        """Count the business time of ``[start, end)``, recording crossings and the breach."""
        if end <= start:
            return
        calendar = policy.calendar
        elapsed = calendar.business_time_between(start, end)
        if elapsed == _ZERO:
            return
        goal = policy.target(self.target)
        for threshold in policy.warning_thresholds:
            if threshold in self.crossings:
                continue
            need = goal * threshold - self.consumed
            if need <= elapsed:
                self.crossings[threshold] = (
                    calendar.add_business_time(start, need) if need > _ZERO else start
                )
        need = goal - self.consumed
        if self.reached(goal) is None and need <= elapsed:
            self.reached_at = calendar.add_business_time(start, need) if need > _ZERO else start
            self.reached_goal = goal
        if self.breached_at is None and self.consumed + elapsed > goal:
            self.breached_at = self.reached(goal)
        self.consumed += elapsed

    def check(self, policy: SlaPolicy, at: datetime) -> None:
        """Record what the consumed time already amounts to under ``policy`` (after a change)."""
        goal = policy.target(self.target)
        for threshold in policy.warning_thresholds:
            if threshold not in self.crossings and self.consumed >= goal * threshold:
                self.crossings[threshold] = at
        if self.consumed >= goal and self.reached(goal) is None:
            self.reached_at, self.reached_goal = at, goal
        if self.breached_at is None and self.consumed > goal:
            self.breached_at = at

    def due(self, policy: SlaPolicy, at: datetime) -> datetime:
        """When the goal is (or was) reached if the clock runs on from ``at``."""
        goal = policy.target(self.target)
        reached = self.reached(goal)
        if reached is not None:
            return reached
        remaining = max(goal - self.consumed, _ZERO)
        return policy.calendar.add_business_time(at, remaining)

    def stop(self, policy: SlaPolicy, at: datetime) -> None:
        self.stopped_at = at
        self.stopped_goal = policy.target(self.target)
        self.due_at_stop = self.breached_at or self.due(policy, at)

    def status(self, policy: SlaPolicy, paused: bool, now: datetime) -> TargetStatus:
        goal = self.stopped_goal if self.stopped_goal is not None else policy.target(self.target)
        due: datetime | None
        if self.breached_at is not None:
            state, due = TargetState.BREACHED, self.breached_at
        elif self.stopped_at is not None:
            state, due = TargetState.MET, self.due_at_stop
        elif paused:
            state, due = TargetState.PAUSED, None
        else:
            state, due = TargetState.RUNNING, self.due(policy, now)
        return TargetStatus(
            target=self.target,
            goal=goal,
            state=state,
            consumed=self.consumed,
            remaining=goal - self.consumed,
            due=due,
            stopped_at=self.stopped_at,
            breached_at=self.breached_at,
        )


def _ordered(events: Sequence[SlaEvent]) -> list[SlaEvent]:
    for event in events:
        if not isinstance(event, SlaEvent):
            raise SlaError(f"expected SlaEvent values, got {type(event).__name__}")
    ordered = sorted(events, key=lambda e: (e.at, e.kind is not EventKind.CREATED))
    created = [e for e in ordered if e.kind is EventKind.CREATED]
    if len(created) != 1:
        raise SlaError(f"a ticket needs exactly one 'created' event, got {len(created)}")
    if ordered[0].kind is not EventKind.CREATED:
        raise SlaError(
            f"event {ordered[0].kind.value!r} at {ordered[0].at.isoformat()} is before the "
            f"ticket was created ({created[0].at.isoformat()})"
        )
    return ordered


def evaluate(policy: SlaPolicy, events: Sequence[SlaEvent], now: datetime) -> SlaStatus:
    """Where a ticket stands against its promise at ``now`` (rules: module docstring).

    ``policy`` is the policy version the ticket was given at creation; ``events`` are its SLA
    events in any order (exactly one ``created``; none before it); events after ``now`` are
    ignored. ``now`` must be timezone-aware and not before the creation.
    """
    if not isinstance(policy, SlaPolicy):
        raise SlaError("policy must be an SlaPolicy")
    now_utc = _aware(now, "now")
    ordered = _ordered(events)
    created_at = ordered[0].at
    if now_utc < created_at:
        raise SlaError(
            f"now ({now_utc.isoformat()}) is before the ticket was created "
            f"({created_at.isoformat()})"
        )

    clocks = (_Clock(SlaTarget.FIRST_RESPONSE), _Clock(SlaTarget.RESOLUTION))
    first, resolution = clocks
    current = policy
    paused = False
    resolved = False
    cursor = created_at

    for event in ordered[1:]:
        if event.at > now_utc:
            break
        for clock in clocks:
            if clock.stopped_at is None and not paused:
                clock.run(current, cursor, event.at)
        cursor = event.at
        kind = event.kind
        if kind is EventKind.FIRST_RESPONSE:
            if first.stopped_at is None:
                first.stop(current, event.at)
        elif kind is EventKind.PAUSED:
            if not resolved:
                paused = True
        elif kind is EventKind.RESUMED:
            paused = False
        elif kind is EventKind.RESOLVED:
            if not resolved:
                if first.stopped_at is None:
                    first.stop(current, event.at)
                resolution.stop(current, event.at)
                resolved = True
                paused = False
        elif kind is EventKind.REOPENED:
            if resolved:
                resolved = False
                resolution.stopped_at = None
                resolution.stopped_goal = None
                resolution.due_at_stop = None
        elif kind is EventKind.POLICY_CHANGED:
            assert event.policy is not None
            current = event.policy
        elif kind is EventKind.CREATED:  # pragma: no cover - _ordered allows only one
            raise SlaError("a ticket has only one 'created' event")
        for clock in clocks:
            if clock.stopped_at is None:
                clock.check(current, event.at)

    for clock in clocks:
        if clock.stopped_at is None and not paused:
            clock.run(current, cursor, now_utc)

    crossings = sorted(
        (
            ThresholdCrossing(clock.target, threshold, at)
            for clock in clocks
            for threshold, at in clock.crossings.items()
        ),
        key=lambda c: (c.crossed_at, c.target.value, c.threshold),
    )
    first_status = first.status(current, paused, now_utc)
    resolution_status = resolution.status(current, paused, now_utc)
    kept = not (first_status.breached or resolution_status.breached) if resolved else None
    return SlaStatus(
        now=now_utc,
        policy=current,
        first_response=first_status,
        resolution=resolution_status,
        crossings=tuple(crossings),
        resolved=resolved,
        paused=paused,
        kept=kept,
    )


def alert_key(alert: SlaAlert) -> str:
    """The alert's identity as the store records it once raised (``fired_alerts``), e.g.
    ``first_response:warning:0.75`` or ``resolution:breach:-``."""
    target, kind, threshold = alert.key
    return f"{target}:{kind}:{'-' if threshold is None else format(threshold, 'g')}"


def _upcoming_alerts(status: SlaStatus) -> Iterable[tuple[SlaAlert, datetime]]:
    """Alerts the running targets reach after ``status.now`` if nothing else happens to the
    ticket, each with the first instant :func:`evaluate` reports it."""
    if status.paused:
        return
    policy, now = status.policy, status.now
    crossed = {(c.target, c.threshold) for c in status.crossings}
    for target in (status.first_response, status.resolution):
        if target.stopped_at is not None:
            continue
        goal = policy.target(target.target)
        # the same arithmetic as _Clock.run, so the instants are the ones it will report
        pending = [
            (SlaAlert(target.target, AlertKind.WARNING, f, now), goal * f - target.consumed)
            for f in policy.warning_thresholds
            if (target.target, f) not in crossed
        ]
        if target.breached_at is None:
            pending.append(
                (SlaAlert(target.target, AlertKind.BREACH, None, now), goal - target.consumed)
            )
        for alert, need in pending:
            try:
                at = policy.calendar.add_business_time(now, max(need, _ZERO))
                due = at
                if alert.kind is AlertKind.BREACH:
                    due = policy.calendar.add_business_time(now, max(need, _ZERO) + _TICK)
            except CalendarError:  # the calendar never opens long enough: never reached
                continue
            yield replace(alert, at=at), due


def next_alert_due(status: SlaStatus, raised: AbstractSet[str]) -> datetime | None:
    """When the ticket's earliest alert whose :func:`alert_key` is not in ``raised`` is
    reported (rules: module docstring); ``None`` if none will be while nothing happens to it.
    ``status`` is the ticket evaluated at or after its last event."""
    reported = (alert.at for alert in status.alerts if alert_key(alert) not in raised)
    upcoming = (due for alert, due in _upcoming_alerts(status) if alert_key(alert) not in raised)
    return min((*reported, *upcoming), default=None)


@dataclass(frozen=True)
class KeptRate:
    """Kept promises out of resolved tickets, for one key."""

    kept: int
    total: int

    @property
    def rate(self) -> float:
        """``kept / total`` (the reliability figure, 0..1)."""
        return self.kept / self.total


def kept_promise_rate(results: Iterable[tuple[K, bool | None]]) -> dict[K, KeptRate]:
    """Kept-promise rate per key from ``(key, kept)`` pairs.

    The key is whatever the report groups by, e.g. ``(policy_id, team, "2026-03")`` (see
    :func:`reporting_month`). ``kept`` is :attr:`SlaStatus.kept`; ``None`` (ticket still open)
    is not counted, so a key appears only once it has at least one resolved ticket. Keys are
    returned in order of first appearance.
    """
    counts: dict[K, list[int]] = {}
    for key, kept in results:
        if kept is None:
            continue
        entry = counts.setdefault(key, [0, 0])
        entry[0] += bool(kept)
        entry[1] += 1
    return {key: KeptRate(kept=k, total=n) for key, (k, n) in counts.items()}


def reporting_zone(timezone: str) -> ZoneInfo:
    """The reporting time zone named ``timezone`` (``SlaError`` for an unknown name)."""
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise SlaError(f"unknown time zone {timezone!r}; use an IANA name") from None


def reporting_month(instant: datetime, timezone: str = "UTC") -> str:
    """The ``"YYYY-MM"`` month of ``instant`` in ``timezone`` (a resolution at 23:30 UTC on
    31 March is an April result in Asia/Shanghai)."""
    zone = reporting_zone(timezone)
    local = _aware(instant, "instant").astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"

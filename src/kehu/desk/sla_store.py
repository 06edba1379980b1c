"""Service promises and business calendars in the store, versioned.

- A **calendar** (``business_calendars``) is edited in place (optimistic ``version``).
- A **policy** (``sla_policies``) is an identity; its content lives in immutable
  ``sla_policy_versions`` rows. Every edit writes a new version row holding a *snapshot* of the
  calendar, so a ticket, which keeps the version row it was given, keeps its promise exactly as it
  was made. Editing a calendar therefore writes a new version of every active policy that uses it:
  new tickets get the new hours and holidays, tickets already open keep the ones promised.
- :func:`pure_policy` turns a version row into the pure :class:`~kehu.desk.sla.SlaPolicy`
  (``id`` = the policy's id, ``version`` = the version number) that the SLA clock evaluates.

Every change appends an audit event: ``business_calendar.created``/``.updated`` (the changed
columns before and after) and ``sla_policy.created``/``.revised``/``.deactivated``/``.activated``
(the version's changed terms before and after; a revision caused by a calendar edit is audited
as well).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.audit import changed, record_audit, snapshot
from kehu.core.auth import Principal, require
from kehu.desk.calendars import BusinessCalendar, CalendarError
from kehu.desk.sla import SlaPolicy, TicketAttributes, select_policy
from kehu.desk.tables import BusinessCalendarRow, SlaPolicyRow, SlaPolicyVersion
from kehu.desk.workflow import CHANNELS, KINDS, PRIORITIES
from kehu.errors import ConflictError, InputError, NotFoundError

__all__ = [
    "activate_policy",
    "calendar_from_json",
    "calendar_to_json",
    "create_calendar",
    "create_policy",
    "current_policy_versions",
    "deactivate_policy",
    "get_calendar",
    "get_policy",
    "list_calendars",
    "list_policies",
    "policy_versions",
    "pure_policy",
    "revise_policy",
    "select_policy_version",
    "update_calendar",
]

#: The value engine's tier codes (``kehu.analytics.tiers.TIER_LABELS``; not imported here to keep
#: pandas out of the service desk's import path -- a test keeps the two equal).
VALUE_TIERS = ("high", "middle", "low")


# -- calendars as JSON ------------------------------------------------------------------------


def _time_text(value: time, end: bool) -> str:
    if end and value == time(0):
        return "24:00"
    return value.isoformat(timespec="seconds" if value.second else "minutes")


def _parse_time(text: Any, where: str) -> time:
    if not isinstance(text, str):
        raise InputError(f"expected a time such as '09:00', got {text!r}", column=where)
    if text in ("24:00", "24:00:00"):
        return time(0)
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a time such as '09:00', got {text!r}", column=where) from None


def _parse_intervals(value: Any, where: str) -> list[tuple[time, time]]:
    if not isinstance(value, list | tuple):
        raise InputError("expected a list of [start, end] pairs", column=where)
    result = []
    for pair in value:
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise InputError(f"expected a [start, end] pair, got {pair!r}", column=where)
        result.append((_parse_time(pair[0], where), _parse_time(pair[1], where)))
    return result


def _parse_date(text: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {text!r}", column=where) from None


def calendar_to_json(calendar: BusinessCalendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "timezone": calendar.timezone,
        "weekly_hours": {
            str(day): [[_time_text(s, False), _time_text(e, True)] for s, e in hours]
            for day, hours in enumerate(calendar.weekly_hours)
            if hours
        },
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "special_hours": {
            d.isoformat(): [[_time_text(s, False), _time_text(e, True)] for s, e in hours]
            for d, hours in calendar.special_hours
        },
    }


def calendar_from_json(data: Mapping[str, Any]) -> BusinessCalendar:
    """A :class:`BusinessCalendar` from its JSON form; bad input is an :class:`InputError`
    naming the field."""
    weekly_raw = data.get("weekly_hours") or {}
    if not isinstance(weekly_raw, Mapping):
        raise InputError("expected an object keyed by weekday 0..6", column="weekly_hours")
    weekly: dict[int, list[tuple[time, time]]] = {}
    for key, value in weekly_raw.items():
        try:
            day = int(key)
        except ValueError:
            raise InputError(f"weekday {key!r} is not 0..6", column="weekly_hours") from None
        weekly[day] = _parse_intervals(value, f"weekly_hours.{key}")
    zone = str(data.get("timezone") or "")
    if not _known_zone(zone):
        raise InputError(
            "not a known IANA time zone (e.g. Asia/Shanghai)", column="timezone", value=zone
        )
    holidays = [_parse_date(d, "holidays") for d in data.get("holidays") or []]
    special_raw = data.get("special_hours") or {}
    special = {
        _parse_date(d, "special_hours"): _parse_intervals(v, f"special_hours.{d}")
        for d, v in special_raw.items()
    }
    try:
        return BusinessCalendar.from_hours(
            zone,
            weekly,
            holidays=holidays,
            special_hours=special,
            name=str(data.get("name") or ""),
        )
    except CalendarError as exc:
        if exc.column is None:
            raise InputError(exc.reason, column="calendar") from None
        raise


_CALENDAR_FIELDS = ("name", "timezone", "weekly_hours", "holidays", "special_hours")
#: the terms of a policy version the audit log shows
_POLICY_FIELDS = (
    "version",
    "name",
    "first_response_seconds",
    "resolution_seconds",
    "calendar_id",
    "calendar",
    "priorities",
    "kinds",
    "channels",
    "value_tiers",
    "warning_thresholds",
    "order",
)

# -- calendars --------------------------------------------------------------------------------


def promise_zone(
    session: Session, policy_version_id: int | None, *, preferred: str | None = None, default: str
) -> str:
    """The time zone a ticket's promise is told in: ``preferred`` (a customer's own, when it is
    a known zone), else the zone of the policy version's calendar, else ``default`` (the
    business time zone)."""
    for candidate in (preferred, _calendar_zone(session, policy_version_id)):
        if candidate and _known_zone(candidate):
            return candidate
    return default


def _calendar_zone(session: Session, policy_version_id: int | None) -> str | None:
    version = session.get(SlaPolicyVersion, policy_version_id) if policy_version_id else None
    if version is None or not isinstance(version.calendar, dict):
        return None
    return str(version.calendar.get("timezone") or "") or None


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def list_calendars(session: Session) -> list[BusinessCalendarRow]:
    """Every business calendar, by name."""
    return list(session.scalars(select(BusinessCalendarRow).order_by(BusinessCalendarRow.name)))


def get_calendar(session: Session, calendar_id: int) -> BusinessCalendarRow:
    row = session.get(BusinessCalendarRow, calendar_id)
    if row is None:
        raise NotFoundError(f"no calendar with id {calendar_id}")
    return row


def _row_calendar(row: BusinessCalendarRow) -> BusinessCalendar:
    return calendar_from_json(
        {
            "name": row.name,
            "timezone": row.timezone,
            "weekly_hours": row.weekly_hours,
            "holidays": row.holidays,
            "special_hours": row.special_hours,
        }
    )


def create_calendar(
    session: Session, principal: Principal, calendar: BusinessCalendar
) -> BusinessCalendarRow:
    """Store ``calendar`` (its ``name`` must be unique and non-empty)."""
    require(principal, "settings:write")
    if not calendar.name.strip():
        raise InputError("a calendar needs a name", column="name")
    if session.scalar(select(BusinessCalendarRow).where(BusinessCalendarRow.name == calendar.name)):
        raise ConflictError(f"a calendar named {calendar.name!r} exists already")
    data = calendar_to_json(calendar)
    row = BusinessCalendarRow(
        name=calendar.name,
        timezone=calendar.timezone,
        weekly_hours=data["weekly_hours"],
        holidays=data["holidays"],
        special_hours=data["special_hours"],
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        principal,
        "business_calendar.created",
        "business_calendar",
        row.id,
        None,
        snapshot(row),
    )
    return row


def update_calendar(
    session: Session,
    principal: Principal,
    calendar_id: int,
    calendar: BusinessCalendar,
    *,
    expected_version: int | None = None,
) -> BusinessCalendarRow:
    """Replace a calendar's hours, holidays and special days; every active policy using it gets
    a new version with the new snapshot (open tickets keep the promise they were given)."""
    require(principal, "settings:write")
    row = get_calendar(session, calendar_id)
    if expected_version is not None and row.version != expected_version:
        raise ConflictError(
            f"calendar {calendar_id} was changed by someone else (version {row.version}, "
            f"you edited version {expected_version}); reload and try again"
        )
    if calendar.name and calendar.name != row.name:
        taken = select(BusinessCalendarRow.id).where(BusinessCalendarRow.name == calendar.name)
        if session.scalar(taken) is not None:  # a 409 with the reason, not the unique index's 500
            raise ConflictError(f"a calendar named {calendar.name!r} exists already")
    data = calendar_to_json(calendar)
    before = snapshot(row, _CALENDAR_FIELDS)
    row.timezone = calendar.timezone
    row.weekly_hours = data["weekly_hours"]
    row.holidays = data["holidays"]
    row.special_hours = data["special_hours"]
    if calendar.name:
        row.name = calendar.name
    session.flush()
    old, new = changed(before, snapshot(row, _CALENDAR_FIELDS))
    record_audit(
        session, principal, "business_calendar.updated", "business_calendar", row.id, old, new
    )
    for version_row in current_policy_versions(session):
        if version_row.calendar_id == calendar_id:
            revise_policy(session, principal, version_row.policy_id, calendar_id=calendar_id)
    return row


# -- policies ---------------------------------------------------------------------------------


def _codes(values: Iterable[str] | None, allowed: Sequence[str], field: str) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        raise InputError("expected a list of codes", column=field, value=values)
    codes = sorted(set(values))
    bad = [c for c in codes if c not in allowed]
    if bad:
        raise InputError(
            f"unknown codes {bad}; allowed: {', '.join(allowed)}", column=field, value=bad
        )
    return codes


def _seconds(value: timedelta, field: str) -> int:
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise InputError("must be a positive duration", column=field, value=value)
    return int(value.total_seconds())


def pure_policy(row: SlaPolicyVersion) -> SlaPolicy:
    """The pure policy (for :func:`kehu.desk.sla.evaluate`) of a version row."""
    return SlaPolicy(
        id=row.policy_id,
        version=row.version,
        name=row.name,
        first_response_target=timedelta(seconds=row.first_response_seconds),
        resolution_target=timedelta(seconds=row.resolution_seconds),
        calendar=calendar_from_json(row.calendar),
        priorities=frozenset(row.priorities),
        kinds=frozenset(row.kinds),
        channels=frozenset(row.channels),
        value_tiers=frozenset(row.value_tiers),
        warning_thresholds=tuple(row.warning_thresholds),
        order=row.order,
    )


def _check_pure(row: SlaPolicyVersion) -> None:
    pure_policy(row)  # raises SlaError (an InputError) on a bad combination


def _policy_calendar(session: Session, calendar_id: int) -> BusinessCalendarRow:
    """The calendar a policy is given: an unknown id is bad input (422), not a missing page."""
    row = session.get(BusinessCalendarRow, calendar_id)
    if row is None:
        raise InputError("no such calendar", column="calendar_id", value=calendar_id)
    return row


def create_policy(
    session: Session,
    principal: Principal,
    *,
    name: str,
    first_response: timedelta,
    resolution: timedelta,
    calendar_id: int,
    priorities: Iterable[str] | None = None,
    kinds: Iterable[str] | None = None,
    channels: Iterable[str] | None = None,
    value_tiers: Iterable[str] | None = None,
    warning_thresholds: Iterable[float] = (0.75,),
    order: int = 0,
) -> SlaPolicyVersion:
    """A new policy, as its version 1."""
    require(principal, "settings:write")
    if not name.strip():
        raise InputError("a policy needs a name", column="name")
    if session.scalar(select(SlaPolicyRow).where(SlaPolicyRow.name == name)):
        raise ConflictError(f"an SLA policy named {name!r} exists already")
    calendar = _policy_calendar(session, calendar_id)
    policy = SlaPolicyRow(name=name, current_version=1, active=True)
    session.add(policy)
    session.flush()
    version = SlaPolicyVersion(
        policy_id=policy.id,
        version=1,
        name=name,
        first_response_seconds=_seconds(first_response, "first_response"),
        resolution_seconds=_seconds(resolution, "resolution"),
        calendar_id=calendar.id,
        calendar=calendar_to_json(_row_calendar(calendar)),
        priorities=_codes(priorities, PRIORITIES, "priorities"),
        kinds=_codes(kinds, KINDS, "kinds"),
        channels=_codes(channels, CHANNELS, "channels"),
        value_tiers=_codes(value_tiers, VALUE_TIERS, "value_tiers"),
        warning_thresholds=sorted({float(t) for t in warning_thresholds}),
        order=order,
        created_by=principal.user_id,
    )
    _check_pure(version)
    session.add(version)
    session.flush()
    after = snapshot(version, _POLICY_FIELDS)
    record_audit(session, principal, "sla_policy.created", "sla_policy", policy.id, None, after)
    return version


def get_policy(session: Session, policy_id: int) -> SlaPolicyRow:
    """The policy (``NotFoundError`` for an unknown id); its versions: :func:`policy_versions`."""
    policy = session.get(SlaPolicyRow, policy_id)
    if policy is None:
        raise NotFoundError(f"no SLA policy with id {policy_id}")
    return policy


def list_policies(session: Session, *, include_inactive: bool = False) -> list[SlaPolicyRow]:
    """The policies by id (the active ones only unless ``include_inactive``)."""
    statement = select(SlaPolicyRow).order_by(SlaPolicyRow.id)
    if not include_inactive:
        statement = statement.where(SlaPolicyRow.active.is_(True))
    return list(session.scalars(statement))


def _version_row(session: Session, policy_id: int, version: int) -> SlaPolicyVersion:
    row = session.scalar(
        select(SlaPolicyVersion).where(
            SlaPolicyVersion.policy_id == policy_id, SlaPolicyVersion.version == version
        )
    )
    if row is None:  # pragma: no cover - a policy always has its current version
        raise NotFoundError(f"no version {version} of SLA policy {policy_id}")
    return row


def revise_policy(
    session: Session,
    principal: Principal,
    policy_id: int,
    *,
    expected_version: int | None = None,
    **changes: Any,
) -> SlaPolicyVersion:
    """A new version of a policy with ``changes`` (``first_response``, ``resolution``,
    ``calendar_id`` (its current hours are snapshotted again, even when unchanged),
    ``priorities``, ``kinds``, ``channels``, ``value_tiers``, ``warning_thresholds``,
    ``order``). Tickets keep the version they were given."""
    require(principal, "settings:write")
    policy = get_policy(session, policy_id)
    if expected_version is not None and policy.current_version != expected_version:
        raise ConflictError(
            f"SLA policy {policy_id} is at version {policy.current_version}, you edited version "
            f"{expected_version}; reload and try again"
        )
    allowed = {
        "first_response",
        "resolution",
        "calendar_id",
        "priorities",
        "kinds",
        "channels",
        "value_tiers",
        "warning_thresholds",
        "order",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise InputError(f"cannot change {sorted(unknown)}", column=sorted(unknown)[0])
    old = _version_row(session, policy_id, policy.current_version)
    calendar = _policy_calendar(session, changes.get("calendar_id", old.calendar_id))
    new = SlaPolicyVersion(
        policy_id=policy_id,
        version=old.version + 1,
        name=policy.name,
        first_response_seconds=(
            _seconds(changes["first_response"], "first_response")
            if "first_response" in changes
            else old.first_response_seconds
        ),
        resolution_seconds=(
            _seconds(changes["resolution"], "resolution")
            if "resolution" in changes
            else old.resolution_seconds
        ),
        calendar_id=calendar.id,
        calendar=calendar_to_json(_row_calendar(calendar)),
        priorities=_codes(changes.get("priorities", old.priorities), PRIORITIES, "priorities"),
        kinds=_codes(changes.get("kinds", old.kinds), KINDS, "kinds"),
        channels=_codes(changes.get("channels", old.channels), CHANNELS, "channels"),
        value_tiers=_codes(changes.get("value_tiers", old.value_tiers), VALUE_TIERS, "value_tiers"),
        warning_thresholds=sorted(
            {float(t) for t in changes.get("warning_thresholds", old.warning_thresholds)}
        ),
        order=int(changes.get("order", old.order)),
        created_by=principal.user_id,
    )
    _check_pure(new)
    session.add(new)
    policy.current_version = new.version
    session.flush()
    before, after = changed(snapshot(old, _POLICY_FIELDS), snapshot(new, _POLICY_FIELDS))
    record_audit(session, principal, "sla_policy.revised", "sla_policy", policy_id, before, after)
    return new


def deactivate_policy(session: Session, principal: Principal, policy_id: int) -> None:
    """New tickets no longer get this policy; tickets that have it keep it."""
    require(principal, "settings:write")
    policy = get_policy(session, policy_id)
    if not policy.active:
        return
    policy.active = False
    session.flush()
    record_audit(
        session,
        principal,
        "sla_policy.deactivated",
        "sla_policy",
        policy_id,
        {"active": True},
        {"active": False},
    )


def activate_policy(session: Session, principal: Principal, policy_id: int) -> None:
    """New tickets may get this policy again (with its current version)."""
    require(principal, "settings:write")
    policy = get_policy(session, policy_id)
    if policy.active:
        return
    policy.active = True
    session.flush()
    record_audit(
        session,
        principal,
        "sla_policy.activated",
        "sla_policy",
        policy_id,
        {"active": False},
        {"active": True},
    )


def policy_versions(session: Session, policy_id: int) -> list[SlaPolicyVersion]:
    get_policy(session, policy_id)
    return list(
        session.scalars(
            select(SlaPolicyVersion)
            .where(SlaPolicyVersion.policy_id == policy_id)
            .order_by(SlaPolicyVersion.version)
        )
    )


def current_policy_versions(session: Session) -> list[SlaPolicyVersion]:
    """The current version of every active policy."""
    return list(
        session.scalars(
            select(SlaPolicyVersion)
            .join(
                SlaPolicyRow,
                (SlaPolicyRow.id == SlaPolicyVersion.policy_id)
                & (SlaPolicyRow.current_version == SlaPolicyVersion.version),
            )
            .where(SlaPolicyRow.active.is_(True))
            .order_by(SlaPolicyVersion.policy_id)
        )
    )


def select_policy_version(
    session: Session, attributes: TicketAttributes
) -> SlaPolicyVersion | None:
    """The version row of the policy that applies to a ticket with ``attributes`` now."""
    rows = current_policy_versions(session)
    chosen = select_policy([pure_policy(r) for r in rows], attributes)
    if chosen is None:
        return None
    return next(r for r in rows if r.policy_id == chosen.id)

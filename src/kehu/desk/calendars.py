"""Business calendars: when the service desk is open, and business-time arithmetic on it.

A :class:`BusinessCalendar` is a time zone (IANA name), weekly opening hours, holidays and special
days. It answers "is the desk open at this instant?", "when does it next open?", "how much
business time lies between two instants?" and "when will this much business time have passed?"
(:meth:`~BusinessCalendar.add_business_time`, which gives an SLA's due time).

Rules
-----
- **Opening hours are local wall-clock times** in the calendar's time zone: per weekday (Monday
  = 0 ... Sunday = 6) a list of ``(start, end)`` intervals of :class:`datetime.time`, half-open
  ``[start, end)``. A day may have several intervals (a lunch break); overlapping or touching
  intervals are merged. ``end = time(0)`` means midnight at the *end* of the day (24:00), so
  ``(time(0), time(0))`` is the whole day. An interval never crosses midnight: a night shift
  22:00-06:00 is written as 22:00-24:00 on one day and 00:00-06:00 on the next.
- **Holidays** are local dates on which the desk is closed all day.
- **Special days** (``special_hours``) override both the weekly hours and the holidays for one
  local date: an empty tuple closes the day, intervals replace the usual hours (a late opening on
  Christmas Eve, a Saturday opening before a launch).
- **Business time is physical time while open.** Each local interval is turned into a pair of
  UTC instants, and its length is the real time between them. A 09:00-17:00 interval on a
  daylight-saving-change day is therefore still 8 hours (the changes happen at night), whereas
  the 24 hours of a 24x7 calendar's local day are 23 or 25 real hours on the change days.
- **Local times that do not exist or exist twice.** A local time skipped by a spring-forward
  change (02:30 on 2026-03-29 in Europe/Berlin) is resolved to the instant the clocks jump
  (03:00 CEST, 01:00 UTC): an interval that starts in the gap opens when the gap ends, one that
  ends in the gap closes when it ends. A local time that occurs twice (02:30 on 2026-10-25 in
  Berlin) is taken at its *first* occurrence (``fold=0``, summer time). This mapping never runs
  backwards, so the UTC intervals of a calendar never overlap; an interval lying wholly inside
  a gap is empty.
- **Instants.** Every input instant must be timezone-aware (a naive datetime is a
  :class:`CalendarError`, which is a :class:`ValueError`); any zone may be used. Every output
  instant is in UTC.
- **Durations** are :class:`datetime.timedelta` of business time, to the microsecond; the
  arithmetic is exact: ``business_time_between(s, add_business_time(s, d)) == d``.
- **Never open.** A calendar without any opening hours (no weekly hours and no special day with
  hours) is refused when it is built. A calendar with no weekly hours but some special days
  raises :class:`CalendarError` when a computation needs opening time after its last special
  day, instead of searching forever.

Costs: computations walk the calendar day by day (never minute by minute), with each day's UTC
intervals cached on the calendar, so a due time a year of business time ahead costs a few
thousand cheap steps.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kehu.errors import InputError

__all__ = [
    "WEEKDAY_NAMES",
    "BusinessCalendar",
    "CalendarError",
    "DayHours",
    "Interval",
    "ensure_aware",
]

#: A local opening interval ``(start, end)``; ``end == time(0)`` means 24:00.
Interval = tuple[time, time]
#: The opening intervals of one day, sorted and disjoint.
DayHours = tuple[Interval, ...]

WEEKDAY_NAMES: tuple[str, ...] = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)

_DAY = timedelta(days=1)
_ZERO = timedelta(0)
_MIDNIGHT = time(0)
_CACHE_LIMIT = 8192

# A day's opening intervals as offsets from local midnight: ((start, end), ...), end <= 24 h.
_Offsets = tuple[tuple[timedelta, timedelta], ...]
# A day's opening intervals as UTC instants.
_UtcIntervals = tuple[tuple[datetime, datetime], ...]


class CalendarError(InputError, ValueError):
    """A calendar definition or a calendar computation's input is unusable.

    Also a :class:`ValueError`, so plain Python callers can catch it as one.
    """


def ensure_aware(instant: datetime, name: str = "instant") -> datetime:
    """``instant`` converted to UTC; a naive datetime (no time zone) is a :class:`CalendarError`."""
    if not isinstance(instant, datetime):
        raise CalendarError(f"{name} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise CalendarError(
            f"{name} must be timezone-aware, got the naive datetime {instant.isoformat()}; "
            "attach a zone, e.g. datetime(..., tzinfo=ZoneInfo('Europe/Berlin')) or "
            "tzinfo=datetime.UTC"
        )
    return instant.astimezone(UTC)


def _time_offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _offset_time(offset: timedelta) -> time:
    if offset >= _DAY:
        return _MIDNIGHT
    seconds, micro = divmod(offset // timedelta(microseconds=1), 1_000_000)
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60, micro)


def _normalise_day(intervals: Iterable[Interval], where: str) -> DayHours:
    """Validate one day's intervals; sort and merge them."""
    if isinstance(intervals, tuple) and len(intervals) == 2 and isinstance(intervals[0], time):
        raise CalendarError(
            f"{where}: expected a list of (start, end) intervals, got a single interval "
            f"{intervals!r}; wrap it in a list"
        )
    offsets: list[tuple[timedelta, timedelta]] = []
    for interval in intervals:
        try:
            start, end = interval
        except (TypeError, ValueError):
            raise CalendarError(
                f"{where}: an opening interval must be a (start, end) pair, got {interval!r}"
            ) from None
        if not isinstance(start, time) or not isinstance(end, time):
            raise CalendarError(
                f"{where}: interval bounds must be datetime.time values, got {interval!r}"
            )
        if start.tzinfo is not None or end.tzinfo is not None:
            raise CalendarError(
                f"{where}: interval bounds are local wall-clock times and must not carry a "
                f"time zone (the calendar's zone applies), got {interval!r}"
            )
        start_off = _time_offset(start)
        end_off = _DAY if end == _MIDNIGHT else _time_offset(end)
        if end_off <= start_off:
            raise CalendarError(
                f"{where}: opening interval {start.isoformat()}-{end.isoformat()} does not end "
                "after it starts (intervals cannot cross midnight; time(0) as end means 24:00)"
            )
        offsets.append((start_off, end_off))
    offsets.sort()
    merged: list[tuple[timedelta, timedelta]] = []
    for start_off, end_off in offsets:
        if merged and start_off <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end_off))
        else:
            merged.append((start_off, end_off))
    return tuple((_offset_time(s), _offset_time(e)) for s, e in merged)


def _day_offsets(hours: DayHours) -> _Offsets:
    return tuple((_time_offset(s), _DAY if e == _MIDNIGHT else _time_offset(e)) for s, e in hours)


def _check_date(value: object, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise CalendarError(f"{where}: expected a local date (datetime.date), got {value!r}")
    return value


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in one time zone, with holidays and special days (see the module docstring).

    Build one with :meth:`from_hours`, :meth:`office_hours` or :meth:`always_open`; the fields
    below are the normalised form (hashable, comparable).

    Attributes:
        timezone: IANA time zone name, e.g. ``"Europe/Berlin"``, ``"Asia/Shanghai"``.
        weekly_hours: seven tuples of ``(start, end)`` local intervals, Monday first.
        holidays: local dates closed all day.
        special_hours: ``(date, intervals)`` pairs overriding weekly hours and holidays,
            sorted by date; empty intervals close the day.
        name: display name.
    """

    timezone: str
    weekly_hours: tuple[DayHours, ...]
    holidays: frozenset[date] = frozenset()
    special_hours: tuple[tuple[date, DayHours], ...] = ()
    name: str = ""
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _weekly: tuple[_Offsets, ...] = field(init=False, repr=False, compare=False)
    _special: dict[date, _Offsets] = field(init=False, repr=False, compare=False)
    _last_open_date: date | None = field(init=False, repr=False, compare=False)
    _max_closed_run: int = field(init=False, repr=False, compare=False)
    _cache: dict[date, _UtcIntervals] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        label = f"calendar {self.name!r}" if self.name else "calendar"
        if not isinstance(self.timezone, str) or not self.timezone:
            raise CalendarError(f"{label}: timezone must be an IANA name such as 'Europe/Berlin'")
        try:
            tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CalendarError(
                f"{label}: unknown time zone {self.timezone!r}; use an IANA name such as "
                "'Europe/Berlin', 'America/New_York' or 'Asia/Shanghai'"
            ) from None

        weekly_in: Any = self.weekly_hours  # a Mapping is accepted too
        if isinstance(weekly_in, Mapping):
            unknown = [k for k in weekly_in if k not in range(7)]
            if unknown:
                raise CalendarError(
                    f"{label}: weekly hours are keyed by weekday 0 (Monday) to 6 (Sunday), "
                    f"got {unknown!r}"
                )
            days = [weekly_in.get(i, ()) for i in range(7)]
        else:
            days = list(weekly_in)
            if len(days) != 7:
                raise CalendarError(
                    f"{label}: weekly hours need exactly 7 days (Monday first), got {len(days)}"
                )
        weekly = tuple(
            _normalise_day(day, f"{label}, {WEEKDAY_NAMES[i]}") for i, day in enumerate(days)
        )

        holidays = frozenset(_check_date(d, f"{label}, holidays") for d in self.holidays)

        special_in: Any = self.special_hours  # a Mapping is accepted too
        items = list(special_in.items()) if isinstance(special_in, Mapping) else list(special_in)
        special_map: dict[date, DayHours] = {}
        for item in items:
            day, hours = item
            day = _check_date(day, f"{label}, special hours")
            if day in special_map:
                raise CalendarError(f"{label}: special hours for {day} given twice")
            special_map[day] = _normalise_day(hours, f"{label}, special hours on {day}")
        special = tuple(sorted(special_map.items()))

        object.__setattr__(self, "weekly_hours", weekly)
        object.__setattr__(self, "holidays", holidays)
        object.__setattr__(self, "special_hours", special)
        object.__setattr__(self, "_tz", tz)
        object.__setattr__(self, "_weekly", tuple(_day_offsets(h) for h in weekly))
        object.__setattr__(self, "_special", {d: _day_offsets(h) for d, h in special})
        object.__setattr__(self, "_cache", {})

        if any(weekly):
            last_open: date | None = None
        else:
            open_days = [d for d, h in special if h]
            if not open_days:
                raise CalendarError(
                    f"{label} has no opening hours at all (no weekly hours and no special day "
                    "with hours): no due time could ever be reached"
                )
            last_open = max(open_days)
        object.__setattr__(self, "_last_open_date", last_open)
        # Longest possible run of closed days when the weekly hours are not empty: a week has an
        # open weekday unless holidays, special days (or, twice a year, an interval swallowed by
        # a daylight-saving gap) close it. Passing this bound means something is wrong.
        closed_dates = len(holidays) + len(special)
        object.__setattr__(self, "_max_closed_run", 7 * (closed_dates + 4))

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_hours(
        cls,
        timezone: str,
        hours: Mapping[int, Iterable[Interval]],
        *,
        holidays: Iterable[date] = (),
        special_hours: Mapping[date, Iterable[Interval]] | None = None,
        name: str = "",
    ) -> BusinessCalendar:
        """A calendar from weekly hours keyed by weekday (0 = Monday ... 6 = Sunday; a missing
        weekday is closed), e.g. ``{0: [(time(9), time(12)), (time(13), time(18))], ...}``."""
        return cls(
            timezone=timezone,
            weekly_hours=hours,  # type: ignore[arg-type]  # normalised in __post_init__
            holidays=frozenset(holidays),
            special_hours=dict(special_hours or {}),  # type: ignore[arg-type]
            name=name,
        )

    @classmethod
    def office_hours(
        cls,
        timezone: str,
        start: time = time(9),
        end: time = time(17),
        *,
        weekdays: Iterable[int] = (0, 1, 2, 3, 4),
        holidays: Iterable[date] = (),
        special_hours: Mapping[date, Iterable[Interval]] | None = None,
        name: str = "",
    ) -> BusinessCalendar:
        """Open ``start``-``end`` on ``weekdays`` (default Monday to Friday, 09:00-17:00)."""
        return cls.from_hours(
            timezone,
            {day: [(start, end)] for day in weekdays},
            holidays=holidays,
            special_hours=special_hours,
            name=name,
        )

    @classmethod
    def always_open(
        cls,
        timezone: str = "UTC",
        *,
        holidays: Iterable[date] = (),
        name: str = "24x7",
    ) -> BusinessCalendar:
        """Open around the clock, every day (24x7), except on ``holidays`` if any."""
        return cls.from_hours(
            timezone,
            {day: [(_MIDNIGHT, _MIDNIGHT)] for day in range(7)},
            holidays=holidays,
            name=name,
        )

    # -- queries ------------------------------------------------------------------------------

    @property
    def tzinfo(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._tz

    def hours_on(self, day: date) -> DayHours:
        """The local opening intervals on ``day``, after holidays and special days."""
        day = _check_date(day, "hours_on")
        for special_day, hours in self.special_hours:
            if special_day == day:
                return hours
        if day in self.holidays:
            return ()
        return self.weekly_hours[day.weekday()]

    def is_open(self, instant: datetime) -> bool:
        """Whether the desk is open at ``instant`` (intervals are half-open: open at the start,
        closed at the end)."""
        u = ensure_aware(instant, "instant")
        local_day = u.astimezone(self._tz).date()
        for day in (local_day - _DAY, local_day, local_day + _DAY):
            for start, end in self._utc_intervals(day):
                if start <= u < end:
                    return True
        return False

    def next_open(self, instant: datetime) -> datetime:
        """The earliest instant at or after ``instant`` at which the desk is open (``instant``
        itself, in UTC, if it is open then)."""
        u = ensure_aware(instant, "instant")
        for start, _end in self._intervals_from(u):
            return start
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``start`` (UTC).

        This is the earliest instant ``t >= start`` with ``business_time_between(start, t) ==
        duration``. For a positive duration it lies inside an opening interval or exactly at its
        end (a 4-hour target reached at 17:00 closing time is due at 17:00, not at the next
        opening). A zero duration gives ``start`` itself.
        """
        u = ensure_aware(start, "start")
        remaining = _check_duration(duration)
        if remaining == _ZERO:
            return u
        for begin, end in self._intervals_from(u):
            span = end - begin
            if span >= remaining:
                return begin + remaining
            remaining -= span
        raise AssertionError("unreachable: _intervals_from never ends")  # pragma: no cover

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """The business time (time while open) in ``[start, end)``; negative if ``end`` is
        before ``start`` (``between(a, b) == -between(b, a)``)."""
        a = ensure_aware(start, "start")
        b = ensure_aware(end, "end")
        if b < a:
            return -self.business_time_between(b, a)
        total = _ZERO
        if b == a:
            return total
        for begin, stop in self._intervals_from(a, until=b):
            if begin >= b:
                break
            total += min(stop, b) - begin
        return total

    def open_intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The opening intervals within ``[start, end)`` as UTC ``(open, close)`` pairs, clipped
        to the range, in time order (intervals touching at midnight are given separately)."""
        a = ensure_aware(start, "start")
        b = ensure_aware(end, "end")
        if b <= a:
            return
        for begin, stop in self._intervals_from(a, until=b):
            if begin >= b:
                return
            yield begin, min(stop, b)

    # -- internals ----------------------------------------------------------------------------

    def _resolve(self, naive: datetime) -> datetime:
        """A local wall-clock time as a UTC instant (gap: the jump instant; fold: the first)."""
        tz = self._tz
        first = naive.replace(tzinfo=tz).astimezone(UTC)
        if first.astimezone(tz).replace(tzinfo=None) == naive:
            return first  # exists (once, or twice and fold=0 picks the first occurrence)
        # In a gap: fold=0 reads it with the offset before the change, fold=1 with the offset
        # after; the change lies between the two readings. Find it to the second (tzdata
        # transitions are whole seconds).
        second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        low, high = min(first, second), max(first, second)
        after = high.astimezone(tz).utcoffset()
        lo = math.floor(low.timestamp())
        hi = math.ceil(high.timestamp())
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset() == after:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(hi, UTC)

    def _local_offsets(self, day: date) -> _Offsets:
        special = self._special.get(day)
        if special is not None:
            return special
        if day in self.holidays:
            return ()
        return self._weekly[day.weekday()]

    def _utc_intervals(self, day: date) -> _UtcIntervals:
        cached = self._cache.get(day)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, _MIDNIGHT)
        result: list[tuple[datetime, datetime]] = []
        for start_off, end_off in self._local_offsets(day):
            begin = self._resolve(midnight + start_off)
            end = self._resolve(midnight + end_off)
            if end <= begin:
                continue  # wholly inside a daylight-saving gap
            if result and begin <= result[-1][1]:
                result[-1] = (result[-1][0], max(result[-1][1], end))
            else:
                result.append((begin, end))
        intervals = tuple(result)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[day] = intervals
        return intervals

    def _intervals_from(
        self, instant: datetime, until: datetime | None = None
    ) -> Iterator[tuple[datetime, datetime]]:
        """UTC opening intervals ending after ``instant``, the first clipped to start there.

        Endless unless ``until`` is given (then it stops after the day containing ``until``);
        raises :class:`CalendarError` rather than search forever through closed days.
        """
        day = instant.astimezone(self._tz).date() - _DAY
        last_day = None if until is None else until.astimezone(self._tz).date() + _DAY
        closed_run = 0
        while last_day is None or day <= last_day:
            if self._last_open_date is not None and day > self._last_open_date:
                if last_day is not None:
                    return
                raise CalendarError(
                    f"calendar {self.name or self.timezone!r} has no weekly hours and no "
                    f"special opening after {self._last_open_date}: the business time asked "
                    f"for from {instant.isoformat()} is never reached"
                )
            intervals = self._utc_intervals(day)
            opened = False
            for begin, end in intervals:
                if end <= instant:
                    continue
                opened = True
                yield max(begin, instant), end
            if opened:
                closed_run = 0
            else:
                closed_run += 1
                if closed_run > self._max_closed_run and last_day is None:
                    raise CalendarError(
                        f"calendar {self.name or self.timezone!r} stayed closed for "
                        f"{closed_run} days from {instant.isoformat()}; check its hours"
                    )
            day += _DAY


def _check_duration(duration: timedelta) -> timedelta:
    if not isinstance(duration, timedelta):
        raise CalendarError(f"duration must be a timedelta, got {type(duration).__name__}")
    if duration < _ZERO:
        raise CalendarError(f"duration must not be negative, got {duration}")
    return duration

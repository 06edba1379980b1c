"""Business calendars: due times across weekends, holidays, lunch breaks and DST changes.

Dates used (2026): Fri 20 March is an ordinary week; Europe/Berlin springs forward on Sun 29 March
(02:00 CET -> 03:00 CEST) and falls back on Sun 25 October (03:00 CEST -> 02:00 CET);
America/New_York springs forward on Sun 8 March and falls back on Sun 1 November; Asia/Shanghai has
no daylight saving time. Good Friday is 3 April, Easter Monday 6 April.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kehu.desk.calendars import BusinessCalendar, CalendarError, ensure_aware
from kehu.errors import InputError

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
SHANGHAI = ZoneInfo("Asia/Shanghai")
H = timedelta(hours=1)


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone)


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture
def berlin_office() -> BusinessCalendar:
    return BusinessCalendar.office_hours(
        "Europe/Berlin", holidays=[date(2026, 4, 3), date(2026, 4, 6)], name="Berlin office"
    )


# -- weekends and holidays ---------------------------------------------------------------------


def test_friday_afternoon_plus_four_hours_is_monday_noon(berlin_office: BusinessCalendar) -> None:
    due = berlin_office.add_business_time(at(BERLIN, 2026, 3, 20, 16), 4 * H)
    assert due == at(BERLIN, 2026, 3, 23, 12)
    assert due.tzinfo is UTC
    assert due == utc(2026, 3, 23, 11)


def test_a_target_reached_at_closing_time_is_due_at_closing(
    berlin_office: BusinessCalendar,
) -> None:
    monday_nine = at(BERLIN, 2026, 3, 16, 9)
    assert berlin_office.add_business_time(monday_nine, 8 * H) == at(BERLIN, 2026, 3, 16, 17)
    assert berlin_office.add_business_time(monday_nine, 40 * H) == at(BERLIN, 2026, 3, 20, 17)
    assert berlin_office.add_business_time(monday_nine, 41 * H) == at(BERLIN, 2026, 3, 23, 10)


def test_start_outside_hours_counts_from_the_next_opening(berlin_office: BusinessCalendar) -> None:
    saturday = at(BERLIN, 2026, 3, 21, 11)
    assert berlin_office.add_business_time(saturday, 1 * H) == at(BERLIN, 2026, 3, 23, 10)
    early = at(BERLIN, 2026, 3, 23, 6)
    assert berlin_office.add_business_time(early, 30 * timedelta(minutes=1)) == at(
        BERLIN, 2026, 3, 23, 9, 30
    )


def test_easter_holidays_are_skipped(berlin_office: BusinessCalendar) -> None:
    # Thu 2 April 15:00: 2 h on Thursday, Good Friday and Easter Monday closed, 8 h Tuesday,
    # 6 h Wednesday
    thursday = at(BERLIN, 2026, 4, 2, 15)
    assert berlin_office.add_business_time(thursday, 16 * H) == at(BERLIN, 2026, 4, 8, 15)
    assert berlin_office.business_time_between(thursday, at(BERLIN, 2026, 4, 8, 15)) == 16 * H
    assert not berlin_office.is_open(at(BERLIN, 2026, 4, 3, 10))
    assert berlin_office.next_open(at(BERLIN, 2026, 4, 2, 17)) == at(BERLIN, 2026, 4, 7, 9)


def test_business_time_between(berlin_office: BusinessCalendar) -> None:
    friday = at(BERLIN, 2026, 3, 20, 16)
    monday = at(BERLIN, 2026, 3, 23, 12)
    assert berlin_office.business_time_between(friday, monday) == 4 * H
    assert berlin_office.business_time_between(monday, friday) == -4 * H
    assert berlin_office.business_time_between(friday, friday) == timedelta(0)
    saturday, sunday = at(BERLIN, 2026, 3, 21, 10), at(BERLIN, 2026, 3, 22, 18)
    assert berlin_office.business_time_between(saturday, sunday) == timedelta(0)


def test_is_open_and_next_open(berlin_office: BusinessCalendar) -> None:
    assert berlin_office.is_open(at(BERLIN, 2026, 3, 20, 9))  # opening instant is open
    assert not berlin_office.is_open(at(BERLIN, 2026, 3, 20, 17))  # closing instant is closed
    assert not berlin_office.is_open(at(BERLIN, 2026, 3, 20, 8, 59))
    # the same instant given in another zone
    assert berlin_office.is_open(datetime(2026, 3, 20, 4, 30, tzinfo=NEW_YORK))
    inside = at(BERLIN, 2026, 3, 20, 10)
    assert berlin_office.next_open(inside) == inside
    assert berlin_office.next_open(at(BERLIN, 2026, 3, 20, 17)) == at(BERLIN, 2026, 3, 23, 9)
    assert berlin_office.next_open(at(BERLIN, 2026, 3, 20, 17)).tzinfo is UTC


def test_lunch_break_and_several_intervals() -> None:
    hours = [(time(9), time(12)), (time(13), time(18))]
    calendar = BusinessCalendar.from_hours("Europe/Berlin", {d: hours for d in range(5)})
    assert calendar.add_business_time(at(BERLIN, 2026, 3, 16, 11), 2 * H) == at(
        BERLIN, 2026, 3, 16, 14
    )
    assert not calendar.is_open(at(BERLIN, 2026, 3, 16, 12, 30))
    assert calendar.business_time_between(at(BERLIN, 2026, 3, 16), at(BERLIN, 2026, 3, 17)) == 8 * H
    assert list(
        calendar.open_intervals(at(BERLIN, 2026, 3, 16, 10), at(BERLIN, 2026, 3, 16, 15))
    ) == [
        (at(BERLIN, 2026, 3, 16, 10), at(BERLIN, 2026, 3, 16, 12)),
        (at(BERLIN, 2026, 3, 16, 13), at(BERLIN, 2026, 3, 16, 15)),
    ]


def test_intervals_are_sorted_and_merged() -> None:
    calendar = BusinessCalendar.from_hours(
        "UTC", {0: [(time(13), time(18)), (time(9), time(12)), (time(11), time(13))]}
    )
    assert calendar.weekly_hours[0] == ((time(9), time(18)),)
    assert calendar.weekly_hours[1:] == ((),) * 6


def test_special_hours_override_weekly_hours_and_holidays() -> None:
    calendar = BusinessCalendar.office_hours(
        "Europe/Berlin",
        holidays=[date(2026, 12, 24), date(2026, 12, 25)],
        special_hours={
            date(2026, 12, 24): [(time(9), time(12))],  # half day despite the holiday
            date(2026, 12, 19): [(time(10), time(14))],  # a Saturday opening
            date(2026, 12, 31): [],  # closed on a weekday
        },
    )
    assert calendar.hours_on(date(2026, 12, 24)) == ((time(9), time(12)),)
    assert calendar.hours_on(date(2026, 12, 31)) == ()
    assert calendar.hours_on(date(2026, 12, 21)) == ((time(9), time(17)),)
    friday = at(BERLIN, 2026, 12, 18, 16)
    assert calendar.add_business_time(friday, 3 * H) == at(BERLIN, 2026, 12, 19, 12)
    assert calendar.add_business_time(at(BERLIN, 2026, 12, 24, 11), 2 * H) == at(
        BERLIN, 2026, 12, 28, 10
    )
    assert calendar.add_business_time(at(BERLIN, 2026, 12, 30, 16), 2 * H) == at(
        BERLIN, 2027, 1, 1, 10
    )


def test_long_durations_are_fast_and_exact() -> None:
    calendar = BusinessCalendar.office_hours("UTC")
    start = utc(2027, 1, 4, 9)  # a Monday
    year = 52 * 40 * H
    assert calendar.add_business_time(start, year) == utc(2027, 12, 31, 17)
    decade = 520 * 40 * H
    due = calendar.add_business_time(start, decade)
    assert calendar.business_time_between(start, due) == decade


# -- daylight saving time -----------------------------------------------------------------------


def test_berlin_spring_forward_week(berlin_office: BusinessCalendar) -> None:
    friday = at(BERLIN, 2026, 3, 27, 16)  # CET, UTC+1
    due = berlin_office.add_business_time(friday, 4 * H)
    assert due == at(BERLIN, 2026, 3, 30, 12)  # CEST, UTC+2
    assert due == utc(2026, 3, 30, 10)
    week = berlin_office.business_time_between(at(BERLIN, 2026, 3, 23), at(BERLIN, 2026, 4, 2))
    assert week == 8 * 8 * H


def test_berlin_fall_back_week(berlin_office: BusinessCalendar) -> None:
    friday = at(BERLIN, 2026, 10, 23, 16)  # CEST
    due = berlin_office.add_business_time(friday, 4 * H)
    assert due == at(BERLIN, 2026, 10, 26, 12)  # CET
    assert due == utc(2026, 10, 26, 11)
    assert berlin_office.business_time_between(friday, due) == 4 * H


def test_new_york_daylight_saving_weeks() -> None:
    calendar = BusinessCalendar.office_hours("America/New_York")
    spring = calendar.add_business_time(at(NEW_YORK, 2026, 3, 6, 16), 4 * H)
    assert spring == at(NEW_YORK, 2026, 3, 9, 12)  # EDT
    assert spring == utc(2026, 3, 9, 16)
    fall = calendar.add_business_time(at(NEW_YORK, 2026, 10, 30, 16), 4 * H)
    assert fall == at(NEW_YORK, 2026, 11, 2, 12)  # EST
    assert fall == utc(2026, 11, 2, 17)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/Berlin", date(2026, 3, 29)),
        ("Europe/Berlin", date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
    ],
)
def test_nine_to_five_on_a_change_day_is_eight_hours(zone: str, day: date) -> None:
    calendar = BusinessCalendar.office_hours(zone, weekdays=range(7))
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day, time(23, 59), tzinfo=tz)
    assert calendar.business_time_between(start, end) == 8 * H
    assert calendar.add_business_time(start, 8 * H) == datetime.combine(day, time(17), tzinfo=tz)


def test_twenty_four_seven_counts_real_hours_across_changes() -> None:
    calendar = BusinessCalendar.always_open("Europe/Berlin")
    assert calendar.name == "24x7"
    saturday_noon = at(BERLIN, 2026, 3, 28, 12)
    # the local Sunday has 23 hours: 24 real hours later it is 13:00 summer time
    assert calendar.add_business_time(saturday_noon, 24 * H) == at(BERLIN, 2026, 3, 29, 13)
    day = calendar.business_time_between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30))
    assert day == 23 * H
    day = calendar.business_time_between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26))
    assert day == 25 * H
    assert calendar.is_open(at(BERLIN, 2026, 10, 25, 2, 30))
    assert calendar.next_open(utc(2026, 10, 25, 1, 30)) == utc(2026, 10, 25, 1, 30)


def test_utc_twenty_four_seven_is_plain_addition() -> None:
    calendar = BusinessCalendar.always_open()
    start = utc(2026, 2, 27, 22, 15)
    assert calendar.add_business_time(start, 100 * H) == start + 100 * H
    assert calendar.business_time_between(start, start + 1000 * H) == 1000 * H


def test_nonexistent_local_time_opens_when_the_clocks_jump() -> None:
    # 02:30-04:00 on the spring-forward Sunday: 02:30 does not exist; the interval opens at the
    # jump (03:00 CEST = 01:00 UTC) and holds one real hour
    calendar = BusinessCalendar.from_hours("Europe/Berlin", {6: [(time(2, 30), time(4))]})
    sunday = date(2026, 3, 29)
    assert list(calendar.open_intervals(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30))) == [
        (utc(2026, 3, 29, 1), utc(2026, 3, 29, 2))
    ]
    assert calendar.next_open(at(BERLIN, 2026, 3, 29, 1)) == utc(2026, 3, 29, 1)
    assert calendar.hours_on(sunday) == ((time(2, 30), time(4)),)
    # an interval wholly inside the gap is empty that day, and the next Sunday is used instead
    gap_only = BusinessCalendar.from_hours("Europe/Berlin", {6: [(time(2, 15), time(2, 45))]})
    assert gap_only.add_business_time(at(BERLIN, 2026, 3, 28), 30 * timedelta(minutes=1)) == (
        at(BERLIN, 2026, 4, 5, 2, 45)
    )


def test_ambiguous_local_time_is_its_first_occurrence() -> None:
    # 02:30-03:30 on the fall-back Sunday: 02:30 is read in summer time (00:30 UTC), 03:30
    # exists once (02:30 UTC): two real hours
    calendar = BusinessCalendar.from_hours("Europe/Berlin", {6: [(time(2, 30), time(3, 30))]})
    assert list(calendar.open_intervals(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26))) == [
        (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 2, 30))
    ]
    ny = BusinessCalendar.from_hours("America/New_York", {6: [(time(1, 30), time(1, 45))]})
    assert list(ny.open_intervals(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2))) == [
        (utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 5, 45))  # EDT reading
    ]


def test_shanghai_has_no_daylight_saving_and_uses_working_weekends() -> None:
    # illustrative Labour Day closure 1-5 May with a make-up working Saturday 9 May
    calendar = BusinessCalendar.office_hours(
        "Asia/Shanghai",
        start=time(9),
        end=time(18),
        holidays=[date(2026, 5, d) for d in range(1, 6)],
        special_hours={date(2026, 5, 9): [(time(9), time(18))]},
    )
    thursday = at(SHANGHAI, 2026, 4, 30, 16)
    assert calendar.add_business_time(thursday, 4 * H) == at(SHANGHAI, 2026, 5, 6, 11)
    assert calendar.add_business_time(thursday, 4 * H) == utc(2026, 5, 6, 3)
    assert calendar.add_business_time(at(SHANGHAI, 2026, 5, 8, 17), 2 * H) == at(
        SHANGHAI, 2026, 5, 9, 10
    )
    spring = calendar.business_time_between(at(SHANGHAI, 2026, 3, 23), at(SHANGHAI, 2026, 3, 30))
    assert spring == 45 * H


# -- validation ---------------------------------------------------------------------------------


def test_naive_datetimes_are_refused(berlin_office: BusinessCalendar) -> None:
    naive = datetime(2026, 3, 20, 16)
    with pytest.raises(ValueError, match="timezone-aware"):
        berlin_office.add_business_time(naive, H)
    with pytest.raises(ValueError, match="naive"):
        berlin_office.business_time_between(at(BERLIN, 2026, 3, 20), naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        berlin_office.is_open(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        berlin_office.next_open(naive)
    with pytest.raises(CalendarError):
        ensure_aware(naive)


def test_negative_duration_is_refused(berlin_office: BusinessCalendar) -> None:
    with pytest.raises(CalendarError, match="negative"):
        berlin_office.add_business_time(at(BERLIN, 2026, 3, 20), -H)


def test_zero_duration_is_the_start(berlin_office: BusinessCalendar) -> None:
    saturday = at(BERLIN, 2026, 3, 21, 10)
    assert berlin_office.add_business_time(saturday, timedelta(0)) == saturday


def test_calendar_without_opening_hours_is_refused() -> None:
    with pytest.raises(CalendarError, match="no opening hours"):
        BusinessCalendar.from_hours("Europe/Berlin", {})
    with pytest.raises(CalendarError, match="no opening hours"):
        BusinessCalendar.from_hours("UTC", {}, special_hours={date(2026, 1, 1): []})


def test_calendar_with_only_special_days_stops_instead_of_searching_forever() -> None:
    calendar = BusinessCalendar.from_hours(
        "UTC", {}, special_hours={date(2026, 6, 1): [(time(9), time(17))]}
    )
    assert calendar.add_business_time(utc(2026, 5, 1), 8 * H) == utc(2026, 6, 1, 17)
    assert calendar.business_time_between(utc(2026, 1, 1), utc(2027, 1, 1)) == 8 * H
    with pytest.raises(CalendarError, match="never reached"):
        calendar.add_business_time(utc(2026, 5, 1), 9 * H)
    with pytest.raises(CalendarError):
        calendar.next_open(utc(2026, 6, 2))


def test_holidays_cannot_close_a_calendar_forever() -> None:
    holidays = [date(2026, 1, 1) + timedelta(days=i) for i in range(400)]
    calendar = BusinessCalendar.office_hours("UTC", holidays=holidays)
    assert calendar.next_open(utc(2026, 1, 1)) == utc(2027, 2, 5, 9)  # first working day after


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({0: [(time(17), time(9))]}, "does not end after it starts"),
        ({0: [(time(9), time(9))]}, "does not end after it starts"),
        ({7: [(time(9), time(17))]}, "weekday 0"),
        ({0: [(time(9),)]}, "pair"),
        ({0: [("09:00", "17:00")]}, "datetime.time"),
        ({0: (time(9), time(17))}, "single interval"),
        ({0: [(time(9, tzinfo=UTC), time(17))]}, "must not carry a time zone"),
    ],
)
def test_bad_hours_are_refused(hours: Any, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_hours("UTC", hours)


def test_bad_zone_and_dates_are_refused() -> None:
    with pytest.raises(CalendarError, match="unknown time zone"):
        BusinessCalendar.office_hours("Mars/Olympus_Mons")
    with pytest.raises(CalendarError, match="local date"):
        BusinessCalendar.office_hours("UTC", holidays=[datetime(2026, 1, 1, tzinfo=UTC)])
    with pytest.raises(CalendarError, match="exactly 7 days"):
        BusinessCalendar("UTC", weekly_hours=((),) * 5)


def test_calendar_error_is_a_value_error_and_an_input_error() -> None:
    assert issubclass(CalendarError, ValueError)
    assert issubclass(CalendarError, InputError)


def test_calendars_are_values() -> None:
    a = BusinessCalendar.office_hours("Europe/Berlin", holidays=[date(2026, 4, 3)])
    b = BusinessCalendar.from_hours(
        "Europe/Berlin", {d: [(time(9), time(17))] for d in range(5)}, holidays={date(2026, 4, 3)}
    )
    assert a == b
    assert hash(a) == hash(b)
    assert a != BusinessCalendar.office_hours("Europe/Berlin")
    with pytest.raises(AttributeError):
        a.timezone = "UTC"  # type: ignore[misc]
    assert a.tzinfo == BERLIN


def test_night_shift_across_midnight() -> None:
    # 22:00-06:00 every night, written as 22:00-24:00 and 00:00-06:00
    calendar = BusinessCalendar.from_hours(
        "UTC", {d: [(time(0), time(6)), (time(22), time(0))] for d in range(7)}
    )
    assert calendar.add_business_time(utc(2026, 3, 20, 23), 4 * H) == utc(2026, 3, 21, 3)
    assert calendar.is_open(utc(2026, 3, 21, 0))
    assert calendar.business_time_between(utc(2026, 3, 20, 12), utc(2026, 3, 21, 12)) == 8 * H


# -- properties ---------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Shanghai",
    "Asia/Kathmandu",  # UTC+05:45
    "Australia/Lord_Howe",  # 30-minute daylight saving shift
    "America/Santiago",  # changes at midnight
    "America/Havana",  # changes at midnight
]


# Quarter hours of a day (0..96, 96 = 24:00); the second grid avoids boundaries inside the
# hours skipped or repeated by the Berlin and New York changes (01:00-03:00, 02:00 allowed).
QUARTERS = list(range(24 * 4 + 1))
QUARTERS_OUTSIDE_CHANGES = [q for q in QUARTERS if not 4 < q < 12 or q == 8]


@st.composite
def day_hours(draw: st.DrawFn, grid: list[int] = QUARTERS) -> list[tuple[time, time]]:
    minutes = draw(st.lists(st.sampled_from(grid), unique=True, max_size=6).map(sorted))
    if len(minutes) % 2:
        minutes = minutes[:-1]
    out = []
    for start, end in zip(minutes[::2], minutes[1::2], strict=True):
        s = time(start // 4, start % 4 * 15)
        e = time(0) if end == 96 else time(end // 4, end % 4 * 15)
        out.append((s, e))
    return out


@st.composite
def calendars(
    draw: st.DrawFn, zones: list[str] = ZONES, grid: list[int] = QUARTERS
) -> BusinessCalendar:
    zone = draw(st.sampled_from(zones))
    hours = {d: draw(day_hours(grid)) for d in range(7)}
    assume(any(hours.values()))
    holidays = draw(
        st.lists(st.dates(date(2025, 12, 1), date(2027, 3, 1)), max_size=10, unique=True)
    )
    return BusinessCalendar.from_hours(zone, hours, holidays=holidays)


instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
durations = st.integers(min_value=0, max_value=300 * 3600 * 10**6).map(
    lambda us: timedelta(microseconds=us)
)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations)
def test_between_inverts_add(calendar: BusinessCalendar, start: datetime, d: timedelta) -> None:
    due = calendar.add_business_time(start, d)
    assert due >= start
    assert calendar.business_time_between(start, due) == d


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations, durations)
def test_add_is_monotone(
    calendar: BusinessCalendar, start: datetime, d1: timedelta, d2: timedelta
) -> None:
    d1, d2 = min(d1, d2), max(d1, d2)
    assert calendar.add_business_time(start, d1) <= calendar.add_business_time(start, d2)


@settings(max_examples=150, deadline=None)
@given(calendars(), instants, durations)
def test_due_is_inside_or_at_the_end_of_an_opening(
    calendar: BusinessCalendar, start: datetime, d: timedelta
) -> None:
    assume(d > timedelta(0))
    due = calendar.add_business_time(start, d)
    assert calendar.is_open(due) or calendar.is_open(due - timedelta(microseconds=1))
    opened = calendar.next_open(start)
    assert calendar.is_open(opened)
    assert calendar.business_time_between(start, opened) == timedelta(0)
    assert due > opened


@settings(max_examples=100, deadline=None)
@given(calendars(), instants, durations, durations)
def test_between_is_additive(
    calendar: BusinessCalendar, a: datetime, x: timedelta, y: timedelta
) -> None:
    b, c = a + x, a + x + y
    assert calendar.business_time_between(a, b) + calendar.business_time_between(
        b, c
    ) == calendar.business_time_between(a, c)


def _minute_count(calendar: BusinessCalendar, start: datetime, minutes: int) -> int:
    """Minutes in ``[start, start + minutes)`` whose local wall-clock time is within the hours."""
    count = 0
    for i in range(minutes):
        local = (start + timedelta(minutes=i)).astimezone(calendar.tzinfo)
        clock = local.time().replace(tzinfo=None, fold=0)
        for s, e in calendar.hours_on(local.date()):
            if s <= clock and (e == time(0) or clock < e):
                count += 1
                break
    return count


@settings(max_examples=40, deadline=None)
@given(
    calendars(zones=["UTC", "Asia/Shanghai", "Asia/Kathmandu"]),
    instants,
    st.integers(min_value=0, max_value=4 * 24 * 60),
)
def test_between_matches_a_minute_by_minute_count(
    calendar: BusinessCalendar, start: datetime, minutes: int
) -> None:
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=minutes)
    expected = _minute_count(calendar, start, minutes)
    assert calendar.business_time_between(start, end) == timedelta(minutes=expected)


CHANGE_DAYS = [
    datetime(2026, 3, 29, tzinfo=UTC),
    datetime(2026, 10, 25, tzinfo=UTC),
    datetime(2026, 3, 8, tzinfo=UTC),
    datetime(2026, 11, 1, tzinfo=UTC),
]


@settings(max_examples=60, deadline=None)
@given(
    calendars(zones=["Europe/Berlin", "America/New_York"], grid=QUARTERS_OUTSIDE_CHANGES),
    st.sampled_from(CHANGE_DAYS),
    st.integers(min_value=-3 * 24 * 60, max_value=24 * 60),
    st.integers(min_value=0, max_value=4 * 24 * 60),
)
def test_between_matches_wall_clock_count_across_changes(
    calendar: BusinessCalendar, day: datetime, shift: int, minutes: int
) -> None:
    # Where no opening boundary lies inside a skipped or repeated hour, business time is the
    # count of minutes whose local wall-clock time is within the hours (the repeated hour
    # counts twice, the skipped hour not at all).
    start = day + timedelta(minutes=shift)
    end = start + timedelta(minutes=minutes)
    expected = _minute_count(calendar, start, minutes)
    assert calendar.business_time_between(start, end) == timedelta(minutes=expected)

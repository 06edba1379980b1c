"""The job runner (kehu.core.jobs.runner) on its own: registering jobs, scheduling occurrences,
leasing, retries with back-off and the last attempt, periodic occurrences, what a handler is
given, and the worker loop. tests/desk/test_worker.py runs the installed jobs (the SLA check,
the outbox) through it; here every handler is the test's own."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from kehu.core.config import Settings
from kehu.core.jobs import (
    JOB_REGISTRY,
    JobContext,
    JobOutcome,
    JobSpec,
    lease_due_job,
    register_job,
    run_due_jobs,
    run_worker,
    schedule,
    schedule_periodic,
)
from kehu.core.jobs.tables import Job
from kehu.store.db import Database

NOW = datetime(2026, 12, 3, 10, 15, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture(autouse=True)
def job_registry() -> Iterator[None]:
    """The registry as the test found it, afterwards (``register_job`` writes into it)."""
    saved = dict(JOB_REGISTRY)
    yield
    JOB_REGISTRY.clear()
    JOB_REGISTRY.update(saved)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, outbox_dir=tmp_path / "outbox")  # type: ignore[call-arg]


def jobs(database: Database) -> list[Job]:
    with database.session() as session:
        rows = list(session.scalars(select(Job).order_by(Job.id)))
        session.expunge_all()
        return rows


def fails(_context: JobContext) -> None:
    raise RuntimeError("still down")


def succeeds(_context: JobContext) -> None:
    pass


# -- registering ------------------------------------------------------------------------------


def test_register_job_adds_and_replaces_a_handler() -> None:
    register_job("test_tick", succeeds, every=timedelta(minutes=5))
    assert JOB_REGISTRY["test_tick"] == JobSpec("test_tick", succeeds, timedelta(minutes=5))
    register_job("test_tick", fails)  # replaced, and no longer periodic
    assert JOB_REGISTRY["test_tick"] == JobSpec("test_tick", fails, None)


@pytest.mark.parametrize("every", [timedelta(0), timedelta(seconds=-1)])
def test_a_periodic_job_needs_a_positive_period(every: timedelta) -> None:
    with pytest.raises(ValueError, match="positive period"):
        register_job("test_never", succeeds, every=every)
    assert "test_never" not in JOB_REGISTRY


def test_the_installed_domains_jobs_are_registered() -> None:
    import kehu.domains  # noqa: F401

    assert JOB_REGISTRY["sla_check"].every == timedelta(minutes=1)
    assert {"outbox_deliver", "idempotency_purge"} <= JOB_REGISTRY.keys()


def test_run_due_jobs_uses_the_registry_by_default(database: Database, settings: Settings) -> None:
    JOB_REGISTRY.clear()
    ran: list[str] = []
    register_job("test_once", lambda context: ran.append(context.run.key))
    schedule(database, "test_once", "k", NOW)
    outcomes = run_due_jobs(database, NOW, "w", settings=settings)
    assert [(o.run.name, o.ok) for o in outcomes] == [("test_once", True)] and ran == ["k"]


# -- scheduling -------------------------------------------------------------------------------


def test_an_occurrence_is_added_once_and_the_first_one_stands(database: Database) -> None:
    later = NOW + timedelta(hours=1)
    assert schedule(database, "test_mail", "42", NOW, {"to": "a"}, now=NOW - timedelta(hours=1))
    assert not schedule(database, "test_mail", "42", later, {"to": "b"})
    assert schedule(database, "test_mail", "43", later)  # another key: another occurrence
    assert schedule(database, "test_other", "42", later)  # another job: another occurrence
    first, *others = jobs(database)
    assert (first.name, first.key, first.run_at, first.payload) == (
        "test_mail",
        "42",
        NOW,
        {"to": "a"},
    )
    assert (first.attempts, first.failed, first.done_at, first.lease_owner) == (
        0,
        False,
        None,
        None,
    )
    assert first.created_at == NOW - timedelta(hours=1)
    assert [(j.name, j.key, j.payload) for j in others] == [
        ("test_mail", "43", {}),
        ("test_other", "42", {}),
    ]


def test_an_occurrence_is_due_from_its_run_at(database: Database) -> None:
    schedule(database, "test_mail", "k", NOW)
    assert lease_due_job(database, NOW - timedelta(microseconds=1), "w", LEASE) is None
    run = lease_due_job(database, NOW, "w", LEASE)
    assert run is not None and (run.name, run.key, run.now, run.owner) == (
        "test_mail",
        "k",
        NOW,
        "w",
    )


def test_the_earliest_due_occurrence_is_leased_first(database: Database) -> None:
    schedule(database, "test_mail", "late", NOW - timedelta(minutes=1))
    schedule(database, "test_mail", "early", NOW - timedelta(minutes=9))
    schedule(database, "test_mail", "early too", NOW - timedelta(minutes=9))  # same instant: by id
    schedule(database, "test_mail", "future", NOW + timedelta(minutes=1))
    keys = []
    while (run := lease_due_job(database, NOW, "w", LEASE)) is not None:
        keys.append(run.key)
    assert keys == ["early", "early too", "late"]


# -- leasing ----------------------------------------------------------------------------------


def test_a_leased_occurrence_is_not_leased_again_while_the_lease_lives(
    database: Database,
) -> None:
    schedule(database, "test_mail", "a", NOW)
    schedule(database, "test_mail", "b", NOW)
    first = lease_due_job(database, NOW, "w1", LEASE)
    second = lease_due_job(database, NOW, "w2", LEASE)
    assert first is not None and second is not None
    assert {first.key, second.key} == {"a", "b"}  # each worker its own occurrence
    assert lease_due_job(database, NOW + LEASE - timedelta(microseconds=1), "w3", LEASE) is None
    row = next(j for j in jobs(database) if j.key == first.key)
    assert (row.lease_owner, row.leased_until, row.attempts) == ("w1", NOW + LEASE, 1)


def test_an_expired_lease_is_taken_over_from_the_instant_it_ends(database: Database) -> None:
    schedule(database, "test_mail", "k", NOW)
    crashed = lease_due_job(database, NOW, "crashed", LEASE)
    assert crashed is not None and crashed.attempts == 1
    taken = lease_due_job(database, NOW + LEASE, "w2", timedelta(minutes=1))
    assert taken is not None
    assert (taken.id, taken.owner, taken.attempts, taken.now) == (crashed.id, "w2", 2, NOW + LEASE)
    (row,) = jobs(database)
    assert (row.lease_owner, row.leased_until) == ("w2", NOW + LEASE + timedelta(minutes=1))


def test_a_finished_occurrence_is_never_leased_again(
    database: Database, settings: Settings
) -> None:
    registry = {"test_mail": JobSpec("test_mail", succeeds)}
    schedule(database, "test_mail", "k", NOW)
    assert [
        o.ok for o in run_due_jobs(database, NOW, "w", registry=registry, settings=settings)
    ] == [True]
    (row,) = jobs(database)
    assert (row.done_at, row.failed, row.last_error) == (NOW, False, None)
    assert lease_due_job(database, NOW + timedelta(days=1), "w", LEASE) is None


def test_the_lease_is_the_settings_lease_unless_given(
    database: Database, settings: Settings
) -> None:
    leased_until: list[datetime | None] = []

    def look(context: JobContext) -> None:
        with context.database.session() as session:
            leased_until.append(session.get(Job, context.run.id).leased_until)  # type: ignore[union-attr]

    registry = {"test_look": JobSpec("test_look", look)}
    short = settings.model_copy(update={"job_lease_seconds": 120})
    schedule(database, "test_look", "a", NOW)
    run_due_jobs(database, NOW, "w", registry=registry, settings=short)
    schedule(database, "test_look", "b", NOW)
    run_due_jobs(database, NOW, "w", registry=registry, settings=short, lease=timedelta(hours=1))
    assert leased_until == [NOW + timedelta(seconds=120), NOW + timedelta(hours=1)]


# -- retries ----------------------------------------------------------------------------------


def test_each_failure_backs_off_twice_as_long_up_to_an_hour(
    database: Database, settings: Settings
) -> None:
    many = settings.model_copy(update={"job_max_attempts": 9})
    registry = {"test_flaky": JobSpec("test_flaky", fails)}
    schedule(database, "test_flaky", "k", NOW)
    now, waits = NOW, []
    for attempt in range(1, 9):
        (outcome,) = run_due_jobs(database, now, "w", registry=registry, settings=many)
        assert (outcome.run.attempts, outcome.error) == (attempt, "RuntimeError: still down")
        (row,) = jobs(database)
        assert row.done_at is None and not row.failed and row.last_error == outcome.error
        assert row.leased_until is not None
        waits.append(int((row.leased_until - now).total_seconds()))
        # held until the back-off ends, then due again
        early = row.leased_until - timedelta(microseconds=1)
        assert run_due_jobs(database, early, "w", registry=registry, settings=many) == []
        now = row.leased_until
    assert waits == [30, 60, 120, 240, 480, 960, 1920, 3600]


def test_the_last_attempt_gives_the_occurrence_up(database: Database, settings: Settings) -> None:
    once = settings.model_copy(update={"job_max_attempts": 1})
    registry = {"test_flaky": JobSpec("test_flaky", fails)}
    schedule(database, "test_flaky", "k", NOW)
    (outcome,) = run_due_jobs(database, NOW, "w", registry=registry, settings=once)
    assert not outcome.ok
    (row,) = jobs(database)
    assert (row.attempts, row.failed, row.done_at) == (1, True, NOW)
    assert row.last_error == "RuntimeError: still down"
    assert (
        run_due_jobs(database, NOW + timedelta(days=1), "w", registry=registry, settings=once) == []
    )


def test_a_retry_that_succeeds_clears_the_error(database: Database, settings: Settings) -> None:
    calls: list[int] = []

    def second_time_lucky(context: JobContext) -> None:
        calls.append(context.run.attempts)
        if context.run.attempts == 1:
            raise RuntimeError("not yet")

    registry = {"test_flaky": JobSpec("test_flaky", second_time_lucky)}
    schedule(database, "test_flaky", "k", NOW)
    run_due_jobs(database, NOW, "w", registry=registry, settings=settings)
    assert jobs(database)[0].last_error == "RuntimeError: not yet"
    later = NOW + timedelta(seconds=30)
    (outcome,) = run_due_jobs(database, later, "w", registry=registry, settings=settings)
    assert outcome.ok and calls == [1, 2]
    (row,) = jobs(database)
    assert (row.done_at, row.failed, row.last_error, row.attempts) == (later, False, None, 2)


def test_run_due_jobs_runs_at_most_max_jobs(database: Database, settings: Settings) -> None:
    registry = {"test_mail": JobSpec("test_mail", succeeds)}
    for minutes in (3, 2, 1):
        schedule(database, "test_mail", f"{minutes}", NOW - timedelta(minutes=minutes))
    first = run_due_jobs(database, NOW, "w", registry=registry, settings=settings, max_jobs=2)
    assert [o.run.key for o in first] == ["3", "2"]
    rest = run_due_jobs(database, NOW, "w", registry=registry, settings=settings, max_jobs=2)
    assert [o.run.key for o in rest] == ["1"]


# -- periodic jobs ----------------------------------------------------------------------------


def test_periodic_occurrences_are_keyed_by_the_start_of_their_period(database: Database) -> None:
    registry = {
        "test_hourly": JobSpec("test_hourly", succeeds, timedelta(hours=1)),
        "test_daily": JobSpec("test_daily", succeeds, timedelta(days=1)),
        "test_once": JobSpec("test_once", succeeds),  # not periodic: never scheduled here
    }
    assert schedule_periodic(database, NOW, registry) == 2
    assert schedule_periodic(database, NOW + timedelta(minutes=44), registry) == 0  # same periods
    assert [(j.name, j.key, j.run_at) for j in jobs(database)] == [
        ("test_hourly", "2026-12-03T10:00:00+00:00", datetime(2026, 12, 3, 10, tzinfo=UTC)),
        ("test_daily", "2026-12-03T00:00:00+00:00", datetime(2026, 12, 3, tzinfo=UTC)),
    ]
    assert schedule_periodic(database, datetime(2026, 12, 3, 11, tzinfo=UTC), registry) == 1


def test_missed_periods_are_not_made_up(database: Database, settings: Settings) -> None:
    """A worker that was down for hours runs the current period's occurrence once, not one per
    missed period."""
    ran: list[str] = []
    registry = {
        "test_hourly": JobSpec(
            "test_hourly", lambda context: ran.append(context.run.key), timedelta(hours=1)
        )
    }
    run_due_jobs(database, NOW, "w", registry=registry, settings=settings)
    run_due_jobs(database, NOW + timedelta(hours=5), "w", registry=registry, settings=settings)
    assert ran == ["2026-12-03T10:00:00+00:00", "2026-12-03T15:00:00+00:00"]


# -- what a handler is given ------------------------------------------------------------------


def test_a_handler_gets_the_database_the_settings_and_its_occurrence(
    database: Database, settings: Settings
) -> None:
    seen: list[JobContext] = []
    registry = {"test_mail": JobSpec("test_mail", seen.append)}
    schedule(database, "test_mail", "k", NOW - timedelta(hours=1), {"customer_id": 7})
    run_due_jobs(database, NOW, "w9", registry=registry, settings=settings)
    (context,) = seen
    assert context.database is database and context.settings is settings
    assert context.now == NOW == context.run.now  # the worker's instant, not run_at
    assert (context.run.name, context.run.key, context.run.payload) == (
        "test_mail",
        "k",
        {"customer_id": 7},
    )
    assert (context.run.attempts, context.run.owner) == (1, "w9")


# -- the worker loop --------------------------------------------------------------------------


def test_the_worker_runs_once_at_its_clocks_instant(database: Database, settings: Settings) -> None:
    JOB_REGISTRY.clear()
    register_job("test_ok", succeeds)
    register_job("test_flaky", fails)
    schedule(database, "test_ok", "k", NOW)
    schedule(database, "test_flaky", "k", NOW)
    schedule(database, "test_ok", "tomorrow", NOW + timedelta(days=1))
    told: list[JobOutcome] = []
    state = run_worker(
        database, "w", settings=settings, once=True, clock=lambda: NOW, on_outcome=told.append
    )
    assert (state.runs, state.jobs, state.failures) == (1, 2, 1)
    assert [(o.run.name, o.run.now, o.ok) for o in told] == [
        ("test_ok", NOW, True),
        ("test_flaky", NOW, False),
    ]


def test_the_worker_polls_until_it_is_stopped(database: Database, settings: Settings) -> None:
    JOB_REGISTRY.clear()
    stop = threading.Event()
    instants = iter([NOW, NOW + timedelta(minutes=1), NOW + timedelta(minutes=2)])

    def clock() -> datetime:
        now = next(instants)
        if now == NOW + timedelta(minutes=2):
            stop.set()  # the third round is the last
        return now

    register_job("test_minutely", succeeds, every=timedelta(minutes=1))
    state = run_worker(database, "w", settings=settings, poll_seconds=0.01, stop=stop, clock=clock)
    assert (state.runs, state.jobs, state.failures) == (3, 3, 0)
    assert [j.key for j in jobs(database)] == [
        "2026-12-03T10:15:00+00:00",
        "2026-12-03T10:16:00+00:00",
        "2026-12-03T10:17:00+00:00",
    ]

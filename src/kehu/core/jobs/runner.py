"""The one scheduled-job runner behind ``kehu worker`` and ``kehu serve``; every domain registers
its jobs with :func:`register_job` from its ``registrations`` module.

Model
-----
- A **job occurrence** is a row of ``jobs``: ``name`` (the handler), ``key`` (which occurrence;
  ``(name, key)`` is unique, so scheduling the same occurrence twice adds nothing), ``run_at``,
  the lease (``lease_owner``, ``leased_until``), ``attempts``, ``done_at`` and ``last_error``.
- **Periodic jobs** (``register_job(..., every=...)``) get one occurrence per period, keyed by the
  period's start (``2026-03-20T10:05:00+00:00``); :func:`run_due_jobs` adds the current one.
- **Leasing**: a worker takes a due occurrence (``done_at`` empty, ``run_at <= now``, no live
  lease) and leases it for ``lease`` (default ``job_lease_seconds``), all in one short write
  transaction: ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` (a single
  writer) on SQLite. A worker that dies leaves the lease to expire; another worker then retakes
  the occurrence (``attempts`` counts the takes).
- **Finishing**: success sets ``done_at`` (only if the lease is still the worker's own). A failure
  records ``last_error`` and holds the occurrence until ``now + backoff``; after
  ``job_max_attempts`` takes it is given up (``failed``, ``done_at`` set).
- **Handlers must be idempotent**: an occurrence can run twice (lease expired while it ran, crash
  before ``done_at`` was committed).
- A handler is given a :class:`JobContext`: the database, the settings the worker was started
  with (never the environment) and the instant it runs at, so tests freeze time and pass
  settings without touching the environment.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from kehu.core.config import Settings
from kehu.core.jobs.tables import Job
from kehu.store.base import utc_now
from kehu.store.db import Database

__all__ = [
    "JOB_REGISTRY",
    "Handler",
    "JobContext",
    "JobOutcome",
    "JobRun",
    "JobSpec",
    "WorkerLoop",
    "lease_due_job",
    "register_job",
    "run_due_jobs",
    "run_worker",
    "schedule",
    "schedule_periodic",
]

log = logging.getLogger(__name__)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class JobRun:
    """The occurrence being run and the instant the worker runs it at."""

    id: int
    name: str
    key: str
    payload: dict[str, Any]
    attempts: int
    now: datetime
    owner: str


@dataclass(frozen=True)
class JobContext:
    """What a handler is given: where to work, with which settings, when, and which occurrence."""

    database: Database
    settings: Settings
    run: JobRun

    @property
    def now(self) -> datetime:
        return self.run.now


Handler = Callable[[JobContext], None]


@dataclass(frozen=True)
class JobSpec:
    name: str
    handler: Handler
    every: timedelta | None = None


#: Every registered job by name (filled by the domains' ``registrations`` modules).
JOB_REGISTRY: dict[str, JobSpec] = {}


def register_job(name: str, handler: Handler, *, every: timedelta | None = None) -> None:
    """Register (or replace) the handler of job ``name``; ``every`` makes it periodic."""
    if every is not None and every <= timedelta(0):
        raise ValueError("a periodic job needs a positive period")
    JOB_REGISTRY[name] = JobSpec(name, handler, every)


def _insert_ignore(session: Session, database: Database, values: dict[str, Any]) -> bool:
    dialect_insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
    statement = dialect_insert(Job).values(**values).on_conflict_do_nothing().returning(Job.id)
    return session.execute(statement).first() is not None


def schedule(
    database: Database,
    name: str,
    key: str,
    run_at: datetime,
    payload: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """Add the occurrence ``(name, key)`` unless it exists; ``True`` if it was added."""
    with database.session() as session:
        return _insert_ignore(
            session,
            database,
            {
                "name": name,
                "key": key,
                "run_at": run_at,
                "payload": payload or {},
                "attempts": 0,
                "failed": False,
                "created_at": now or utc_now(),
            },
        )


def _period_start(now: datetime, every: timedelta) -> datetime:
    periods = (now - _EPOCH) // every
    return _EPOCH + periods * every


def schedule_periodic(
    database: Database, now: datetime, registry: dict[str, JobSpec] | None = None
) -> int:
    """Add the current occurrence of every periodic job; returns how many were new."""
    added = 0
    for spec in (registry if registry is not None else JOB_REGISTRY).values():
        if spec.every is None:
            continue
        start = _period_start(now, spec.every)
        added += schedule(database, spec.name, start.isoformat(), start, now=now)
    return added


def lease_due_job(database: Database, now: datetime, owner: str, lease: timedelta) -> JobRun | None:
    """Lease the earliest due occurrence to ``owner`` until ``now + lease`` (or ``None``)."""
    with database.session() as session:
        query = (
            select(Job)
            .where(
                Job.done_at.is_(None),
                Job.run_at <= now,
                or_(Job.leased_until.is_(None), Job.leased_until <= now),
            )
            .order_by(Job.run_at, Job.id)
            .limit(1)
        )
        if database.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = session.scalars(query).first()
        if job is None:
            return None
        job.lease_owner = owner
        job.leased_until = now + lease
        job.attempts += 1
        session.flush()
        return JobRun(job.id, job.name, job.key, dict(job.payload), job.attempts, now, owner)


def _finish(
    database: Database, run: JobRun, now: datetime, error: str | None, settings: Settings
) -> None:
    mine = (Job.id == run.id) & (Job.lease_owner == run.owner) & (Job.attempts == run.attempts)
    with database.session() as session:
        if error is None:
            session.execute(update(Job).where(mine).values(done_at=now, last_error=None))
            return
        if run.attempts >= settings.job_max_attempts:
            values: dict[str, Any] = {"done_at": now, "failed": True, "last_error": error}
        else:
            backoff = timedelta(seconds=min(30 * 2 ** (run.attempts - 1), 3600))
            values = {"leased_until": now + backoff, "last_error": error}
        session.execute(update(Job).where(mine).values(**values))


@dataclass(frozen=True)
class JobOutcome:
    run: JobRun
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def run_due_jobs(
    database: Database,
    now: datetime,
    owner: str,
    *,
    settings: Settings,
    lease: timedelta | None = None,
    max_jobs: int = 100,
    registry: dict[str, JobSpec] | None = None,
) -> list[JobOutcome]:
    """Schedule the periodic occurrences due at ``now``, then lease and run due occurrences one
    by one (at most ``max_jobs``); returns what ran."""
    registry = registry if registry is not None else JOB_REGISTRY
    lease = lease or timedelta(seconds=settings.job_lease_seconds)
    schedule_periodic(database, now, registry)
    outcomes: list[JobOutcome] = []
    for _ in range(max_jobs):
        run = lease_due_job(database, now, owner, lease)
        if run is None:
            break
        spec = registry.get(run.name)
        error: str | None = None
        if spec is None:
            error = f"no handler registered for job {run.name!r}"
        else:
            try:
                spec.handler(JobContext(database, settings, run))
            except Exception as exc:
                log.exception("job %s (%s) failed", run.name, run.key)
                error = f"{type(exc).__name__}: {exc}"
        _finish(database, run, now, error, settings)
        outcomes.append(JobOutcome(run, error))
    return outcomes


@dataclass
class WorkerLoop:
    """State of a running worker (for tests and ``kehu demo`` running it in-process)."""

    runs: int = 0
    jobs: int = 0
    failures: int = 0


def run_worker(
    database: Database,
    owner: str,
    *,
    settings: Settings,
    once: bool = False,
    poll_seconds: float = 5.0,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_outcome: Callable[[JobOutcome], None] | None = None,
) -> WorkerLoop:
    """Run due jobs until ``stop`` is set (or once, with ``once``)."""
    stop = stop or threading.Event()
    state = WorkerLoop()
    while True:
        outcomes = run_due_jobs(database, clock(), owner, settings=settings)
        state.runs += 1
        state.jobs += len(outcomes)
        state.failures += sum(not o.ok for o in outcomes)
        if on_outcome is not None:
            for outcome in outcomes:
                on_outcome(outcome)
        if once or stop.wait(poll_seconds):
            return state

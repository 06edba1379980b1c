"""``kehu worker``: leased job occurrences, the SLA check firing warnings, breaches and escalations
exactly once (also with two workers at once), and the command itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from desk import Desk, b, make_settings
from sqlalchemy import func, select

from kehu.auth import SYSTEM
from kehu.cli import main
from kehu.config import get_settings
from kehu.service import jobs, outbox, routing, tickets
from kehu.service.jobs import JobRun, JobSpec, lease_due_job, run_due_jobs, schedule
from kehu.service.settings import get_service_settings
from kehu.service.tables import FiredAlert, Job, OutboxMessage, TicketEvent
from kehu.service.worker import sla_check
from kehu.store.base import Base
from kehu.store.db import Database
from kehu.store.models import import_all_models
from kehu.users import service as users


@pytest.fixture(autouse=True)
def service_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KEHU_OUTBOX_DIR", str(tmp_path / "outbox"))
    get_service_settings.cache_clear()
    yield
    get_service_settings.cache_clear()


def sla_events(desk: Desk, ticket_id: int | None = None) -> list[tuple[int, str, str]]:
    with desk.database.session() as session:
        query = select(TicketEvent).where(TicketEvent.kind.in_(["sla_warning", "sla_breached"]))
        if ticket_id is not None:
            query = query.where(TicketEvent.ticket_id == ticket_id)
        return [
            (e.ticket_id, e.kind, e.after["key"])
            for e in session.scalars(query.order_by(TicketEvent.id))
        ]


# -- the SLA check ----------------------------------------------------------------------------


def test_warnings_and_breaches_fire_once_even_for_tickets_nobody_opened(desk: Desk) -> None:
    t = desk.new_ticket(b(3, 23, 9))  # first response due 13:00, warning at 75% = 12:00
    assert sla_check(desk.database, b(3, 23, 11, 59), settings=desk.settings).alerts == 0
    first = sla_check(desk.database, b(3, 23, 12, 30), settings=desk.settings)
    again = sla_check(desk.database, b(3, 23, 12, 31), settings=desk.settings)
    assert (first.alerts, again.alerts) == (1, 0)
    assert sla_events(desk, t) == [(t, "sla_warning", "first_response:warning:0.75")]
    breach = sla_check(desk.database, b(3, 23, 14), settings=desk.settings)
    assert breach.alerts == 1
    assert sla_check(desk.database, b(3, 23, 15), settings=desk.settings).alerts == 0
    assert [k for _, _, k in sla_events(desk, t)] == [
        "first_response:warning:0.75",
        "first_response:breach:-",
    ]
    with desk.database.session() as session:
        event = session.scalars(select(TicketEvent).where(TicketEvent.kind == "sla_breached")).one()
        fired = session.scalars(select(FiredAlert).order_by(FiredAlert.id)).all()
    assert event.actor_kind == "system" and event.at == b(3, 23, 14)
    assert event.after["alert_at"] == b(3, 23, 13).astimezone(event.at.tzinfo).isoformat()
    assert [f.alert_key for f in fired] == [
        "first_response:warning:0.75",
        "first_response:breach:-",
    ]


def test_paused_and_resolved_tickets_do_not_alert(desk: Desk) -> None:
    waiting = desk.new_ticket(b(3, 23, 9))
    done = desk.new_ticket(b(3, 23, 9))
    with desk.database.session() as session:
        tickets.change_status(
            session, desk.manager, waiting, "waiting_on_customer", now=b(3, 23, 10)
        )
        tickets.resolve(session, desk.manager, done, now=b(3, 23, 10))
    assert sla_check(desk.database, b(3, 23, 16), settings=desk.settings).alerts == 0


def test_two_workers_at_once_fire_each_alert_exactly_once(desk: Desk) -> None:
    ids = [desk.new_ticket(b(3, 23, 9)) for _ in range(6)]
    barrier = threading.Barrier(2)
    reports = {}
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        try:
            barrier.wait()
            reports[owner] = sla_check(
                desk.database, b(3, 23, 14), owner=owner, settings=desk.settings
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(owner,)) for owner in ("w1", "w2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert reports["w1"].alerts + reports["w2"].alerts == 2 * len(ids)  # warning + breach each
    events = sla_events(desk)
    assert len(events) == 2 * len(ids) == len(set(events))
    with desk.database.session() as session:
        assert session.scalar(select(func.count()).select_from(FiredAlert)) == 2 * len(ids)


def test_escalation_rules_act_once_per_ticket_and_threshold(desk: Desk) -> None:
    with desk.database.session() as session:
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="tell the lead",
            action="notify",
            target="first_response",
            alert_kind="warning",
            threshold=0.75,
            notify_email="lead@example.com",
        )
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="make it urgent",
            action="raise_priority",
            target="first_response",
            alert_kind="breach",
            priority="urgent",
        )
        routing.create_escalation_rule(
            session,
            SYSTEM,
            name="to billing",
            action="reassign",
            target="resolution",
            alert_kind="breach",
            team_id=desk.billing,
        )
    t = desk.new_ticket(b(3, 23, 9))
    for now in (b(3, 23, 12, 30), b(3, 23, 12, 45)):
        sla_check(desk.database, now, settings=desk.settings)
    with desk.database.session() as session:
        notes = session.scalars(
            select(OutboxMessage).where(OutboxMessage.purpose == "escalation")
        ).all()
    assert [(n.recipient, n.customer_id) for n in notes] == [("lead@example.com", None)]
    for now in (b(3, 23, 14), b(3, 23, 14, 1)):
        sla_check(desk.database, now, settings=desk.settings)
    ticket = desk.ticket(t)
    assert ticket.priority == "urgent"
    # urgent promises resolution within 4 h: breached at 13:00 already, at the change instant
    assert ticket.team_id == desk.billing
    with desk.database.session() as session:
        kinds = [e.kind for e in tickets.list_events(session, desk.manager, t)]
    assert kinds.count("escalated") == 3  # notify, raise priority, reassign: once each
    assert kinds.count("transferred") == 1
    assert kinds[0] == "created"


def test_an_escalation_passes_over_an_assignee_deactivated_since_the_rule_was_made(
    desk: Desk,
) -> None:
    """Rules are checked when they are made; a user who leaves later is passed over, the
    team still gets the ticket, and the check does not fail."""
    with desk.database.session() as session:
        for name, team, assignee in (("to billing", desk.billing, 20), ("to 21", None, 21)):
            routing.create_escalation_rule(
                session,
                SYSTEM,
                name=name,
                action="reassign",
                target="first_response",
                alert_kind="breach",
                team_id=team,
                assignee_id=assignee,
            )
        for left in (20, 21):
            users.deactivate_user(session, SYSTEM, left)
    t = desk.new_ticket(b(3, 23, 9))

    report = sla_check(desk.database, b(3, 23, 14), settings=desk.settings)

    assert report.errors == 0
    ticket = desk.ticket(t)
    assert (ticket.team_id, ticket.assignee_id) == (desk.billing, None)


# -- the job runner ---------------------------------------------------------------------------


def counting_registry(calls: list[str]) -> dict[str, JobSpec]:
    def handler(_database: Database, run: JobRun) -> None:
        calls.append(f"{run.key}@{run.owner}")

    return {"tick": JobSpec("tick", handler, timedelta(minutes=1))}


def test_periodic_job_runs_once_per_period_whoever_asks(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    calls: list[str] = []
    registry = counting_registry(calls)
    now = b(3, 23, 9, 0, 30)
    run_due_jobs(database, now, "w1", registry=registry, settings=settings)
    run_due_jobs(database, now, "w2", registry=registry, settings=settings)
    run_due_jobs(database, now + timedelta(seconds=20), "w2", registry=registry, settings=settings)
    assert calls == ["2026-03-23T08:00:00+00:00@w1"]
    run_due_jobs(database, now + timedelta(minutes=1), "w2", registry=registry, settings=settings)
    assert calls[-1] == "2026-03-23T08:01:00+00:00@w2" and len(calls) == 2


def test_an_expired_lease_is_retaken(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path)
    calls: list[str] = []
    registry = {"once": JobSpec("once", counting_registry(calls)["tick"].handler)}
    now = b(3, 23, 9)
    assert schedule(database, "once", "k1", now)
    assert not schedule(database, "once", "k1", now)  # the same occurrence is added once
    crashed = lease_due_job(database, now, "crashed-worker", timedelta(minutes=5))
    assert crashed is not None and crashed.attempts == 1
    # the lease is alive: nobody else takes it
    assert (
        run_due_jobs(
            database, now + timedelta(minutes=4), "w2", registry=registry, settings=settings
        )
        == []
    )
    outcomes = run_due_jobs(
        database, now + timedelta(minutes=6), "w2", registry=registry, settings=settings
    )
    assert [(o.run.owner, o.run.attempts, o.ok) for o in outcomes] == [("w2", 2, True)]
    assert calls == ["k1@w2"]
    # the crashed worker coming back cannot mark what it no longer holds
    jobs._finish(database, crashed, now + timedelta(minutes=7), "late", settings)
    with database.session() as session:
        job = session.scalars(select(Job)).one()
    assert (job.lease_owner, job.attempts, job.last_error) == ("w2", 2, None)
    assert job.done_at == now + timedelta(minutes=6)


def test_a_failing_job_backs_off_then_gives_up(database: Database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, job_max_attempts=2)

    def broken(_database: Database, _run: JobRun) -> None:
        raise RuntimeError("mail server down")

    registry = {"broken": JobSpec("broken", broken)}
    now = b(3, 23, 9)
    schedule(database, "broken", "k", now)
    first = run_due_jobs(database, now, "w", registry=registry, settings=settings)
    assert first[0].error == "RuntimeError: mail server down"
    assert (
        run_due_jobs(
            database, now + timedelta(seconds=10), "w", registry=registry, settings=settings
        )
        == []
    )
    second = run_due_jobs(
        database, now + timedelta(seconds=31), "w", registry=registry, settings=settings
    )
    assert second[0].run.attempts == 2
    with database.session() as session:
        job = session.scalars(select(Job)).one()
    assert job.failed and job.done_at is not None and "mail server" in (job.last_error or "")
    schedule(database, "nobody-handles-this", "k", now)
    unknown = run_due_jobs(database, now, "w", registry=registry, settings=settings)
    assert unknown[0].error == "no handler registered for job 'nobody-handles-this'"


def test_the_default_jobs_check_slas_and_deliver_the_outbox(
    desk: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox, "_may_contact", lambda: lambda *_args: True)
    t = desk.new_ticket(b(3, 23, 9))
    outcomes = run_due_jobs(desk.database, b(3, 23, 14), "w1", settings=desk.settings)
    assert sorted(o.run.name for o in outcomes) == ["outbox_deliver", "sla_check"]
    assert all(o.ok for o in outcomes)
    assert len(sla_events(desk, t)) == 2
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1  # the acknowledgement


def test_kehu_worker_run_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'kehu.db'}"
    database = Database(url)
    database.upgrade()
    import_all_models()
    Base.metadata.create_all(database.engine, checkfirst=True)
    database.dispose()
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_info:
            main(["worker", "run", "--once", "--owner", "test-worker"])
    finally:
        get_settings.cache_clear()
    assert exit_info.value.code in (0, None)
    output = capsys.readouterr().out
    assert "ran sla_check" in output and "ran outbox_deliver" in output
    assert "worker test-worker: 2 job(s) run, 0 failed" in output

"""Benchmark the SLA check: one ``sla_check`` on a desk of many open tickets with a few alerts due,
the check that evaluated every open ticket (a source tree of before, e.g. a git worktree of
HEAD) against the one that reads only the tickets whose next alert is due (this tree).

    git worktree add /tmp/wt-e HEAD
    python benchmarks/sla/run.py --before /tmp/wt-e/src                 # 20,000 tickets, 20 due
    python benchmarks/sla/run.py --before /tmp/wt-e/src --tickets 2000  # a quick check
    python benchmarks/sla/run.py --before /tmp/wt-e/src --postgres postgresql://postgres@127.0.0.1:5432/kehu_h2

The desk (Mon-Fri 09:00-17:00 Europe/Berlin, a "standard" promise of a first answer within 4
business hours, warning at 75%) is seeded once through kehu's own use cases into a SQLite file
in ``.data/`` (gitignored): ``--tickets`` open tickets, of which ``--due`` were filed at 09:30 on
Monday 23 March 2026 (their warnings fall due from 12:30) and the rest between 12:00 and 12:55
(warnings from 15:00). Every measurement is a fresh process (``PYTHONPATH`` = the source tree
measured) on a fresh copy of that store (PostgreSQL: a database made from a template), timing
two calls: the check at 13:00 (the due warnings fire) and the check a minute later (nothing
due). Counted per call: the transactions begun as writers (SQLite: ``BEGIN IMMEDIATE``, the
one write lock), the transactions that wrote something, the SQL statements, and the alerts. Both
trees must fire the same alerts. Writes ``results.json`` and the results table into README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DATA = HERE / ".data"
BERLIN = ZoneInfo("Europe/Berlin")
FIRST_CHECK = datetime(2026, 3, 23, 13, 0, tzinfo=BERLIN)
NEXT_CHECK = FIRST_CHECK + timedelta(minutes=1)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the desk ---------------------------------------------------------------------------------


def seed(url: str, tickets: int, due: int) -> None:
    """The desk of the module docstring, through kehu's use cases (this tree's code)."""
    from sqlalchemy import select, text

    import kehu.domains  # noqa: F401  (every domain's tables and registrations)
    from kehu.core.auth import SYSTEM
    from kehu.core.config import Settings
    from kehu.customers.tables import Customer
    from kehu.desk import routing, sla_store
    from kehu.desk.calendars import BusinessCalendar
    from kehu.desk.schemas import TicketCreate
    from kehu.desk.ticket_commands import create_ticket
    from kehu.store.base import Base
    from kehu.store.db import Database

    database = Database(url)
    database.upgrade()
    Base.metadata.create_all(database.engine, checkfirst=True)
    settings = Settings(_env_file=None, outbox_dir=DATA / "outbox")  # type: ignore[call-arg]
    office = BusinessCalendar.office_hours(
        "Europe/Berlin", holidays=[date(2026, 4, 3)], name="Berlin office"
    )
    with database.session() as session:
        # the columns every version of the customers table has (that domain adds more)
        session.execute(
            text(
                "INSERT INTO customers (external_id, name, created_at, updated_at) "
                "VALUES ('C-1', 'Bench Customer', :now, :now)"
            ),
            {"now": datetime(2026, 1, 1)},
        )
        customer = session.scalar(select(Customer.id).where(Customer.external_id == "C-1"))
        calendar = sla_store.create_calendar(session, SYSTEM, office)
        sla_store.create_policy(
            session,
            SYSTEM,
            name="standard",
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=16),
            calendar_id=calendar.id,
            warning_thresholds=(0.75,),
        )
        team = routing.create_team(session, SYSTEM, "Front")
        routing.create_routing_rule(session, SYSTEM, name="all", team_id=team.id)
    data = TicketCreate(customer_id=customer, kind="inquiry", channel="email", subject="Order")
    monday = datetime(2026, 3, 23, tzinfo=BERLIN)
    started = time.perf_counter()
    for start in range(0, tickets, 500):
        with database.session() as session:
            for n in range(start, min(start + 500, tickets)):
                if n < due:  # warnings due from 12:30 on
                    created = monday + timedelta(hours=9, minutes=30 + n % 20, seconds=n // 20)
                else:  # warnings from 15:00 on
                    created = monday + timedelta(hours=12, seconds=(n * 7) % 3300)
                create_ticket(session, SYSTEM, data, now=created, settings=settings)
        log(f"seeded {min(start + 500, tickets):,} tickets ({time.perf_counter() - started:.0f} s)")
    database.dispose()


# -- one measurement (in a process of the tree measured) --------------------------------------


def measure(url: str) -> dict[str, Any]:
    from sqlalchemy import event, select

    import kehu
    from kehu.core.config import Settings
    from kehu.desk.tables import FiredAlert
    from kehu.desk.worker import sla_check
    from kehu.store.db import READ_ONLY_OPTION, Database

    database = Database(url)
    counts = {"writers": 0, "wrote": 0, "statements": 0}
    writing: dict[int, bool] = {}

    @event.listens_for(database.engine, "begin")
    def began(connection: Any) -> None:
        if not connection.get_execution_options().get(READ_ONLY_OPTION):
            counts["writers"] += 1
        writing[id(connection)] = False

    @event.listens_for(database.engine, "before_cursor_execute")
    def executed(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counts["statements"] += 1
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writing[id(connection)] = True

    @event.listens_for(database.engine, "commit")
    def committed(connection: Any) -> None:
        counts["wrote"] += writing.pop(id(connection), False)

    settings = Settings(_env_file=None, outbox_dir=DATA / "outbox")  # type: ignore[call-arg]
    calls = []
    for now in (FIRST_CHECK, NEXT_CHECK):
        for key in counts:
            counts[key] = 0
        started = time.perf_counter()
        report = sla_check(database, now, settings=settings)
        seconds = time.perf_counter() - started
        calls.append(
            {
                "now": now.isoformat(),
                "seconds": round(seconds, 4),
                "tickets_checked": report.tickets,
                "alerts": report.alerts,
                "errors": report.errors,
                **counts,
            }
        )
    with database.session(read_only=True) as session:
        fired = sorted(
            f"{ticket}:{key}"
            for ticket, key in session.execute(select(FiredAlert.ticket_id, FiredAlert.alert_key))
        )
    database.dispose()
    return {"kehu": str(Path(kehu.__file__).parent), "calls": calls, "fired": fired}


# -- the run ----------------------------------------------------------------------------------


def run_measurement(source: Path, url: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, __file__, "--measure", url],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"measurement with {source} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    if not Path(result["kehu"]).resolve().is_relative_to(source.resolve()):
        raise SystemExit(f"measured {result['kehu']}, not the tree at {source}")
    return result


class SqliteStores:
    def __init__(self, tickets: int, due: int) -> None:
        self.template = DATA / f"desk-{tickets}-{due}.db"
        self.run_file = DATA / "run.db"
        if not self.template.exists():
            DATA.mkdir(exist_ok=True)
            partial = self.template.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            seed(f"sqlite:///{partial}", tickets, due)
            partial.rename(self.template)

    def fresh(self) -> str:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.run_file}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.template, self.run_file)
        return f"sqlite:///{self.run_file}"

    def describe(self) -> str:
        import sqlite3

        return f"SQLite {sqlite3.sqlite_version}"


class PostgresStores:
    """A template database seeded once, copied (CREATE DATABASE ... TEMPLATE) per run."""

    def __init__(self, url: str, tickets: int, due: int) -> None:
        from sqlalchemy import make_url

        self.base = make_url(url)
        self.template = f"{self.base.database}_sla_bench_{tickets}_{due}"
        self.run_name = f"{self.base.database}_sla_bench_run"
        if not self._exists(self.template):
            self._admin(f'CREATE DATABASE "{self.template}"')
            try:
                seed(self._url(self.template), tickets, due)
            except BaseException:
                self._admin(f'DROP DATABASE "{self.template}"')
                raise

    def _url(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _admin(self, statement: str) -> Any:
        from sqlalchemy import create_engine, text

        engine = create_engine(
            self._url(self.base.database or "postgres"), isolation_level="AUTOCOMMIT"
        )
        try:
            with engine.connect() as connection:
                result = connection.execute(text(statement))
                return result.all() if result.returns_rows else None
        finally:
            engine.dispose()

    def _exists(self, name: str) -> bool:
        return bool(self._admin(f"SELECT 1 FROM pg_database WHERE datname = '{name}'"))

    def fresh(self) -> str:
        self._admin(f'DROP DATABASE IF EXISTS "{self.run_name}"')
        self._admin(f'CREATE DATABASE "{self.run_name}" TEMPLATE "{self.template}"')
        return self._url(self.run_name)

    def describe(self) -> str:
        version = self._admin("SELECT version()")[0][0]
        return " ".join(version.split()[:2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="source tree of before (its src/)")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="source tree of after")
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--due", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each tree")
    parser.add_argument("--postgres", help="a PostgreSQL URL: measure there instead of SQLite")
    parser.add_argument("--label", default="after")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.before is None:
        parser.error("--before is required (e.g. a git worktree of HEAD: /tmp/wt-e/src)")
    stores: SqliteStores | PostgresStores = (
        PostgresStores(args.postgres, args.tickets, args.due)
        if args.postgres
        else SqliteStores(args.tickets, args.due)
    )
    runs: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
    for i in range(args.repeat):
        for side in ("before", "after") if i % 2 == 0 else ("after", "before"):
            source = args.before if side == "before" else args.after
            load = os.getloadavg()[0]
            result = run_measurement(source, stores.fresh())
            result["load_before"] = round(load, 2)
            runs[side].append(result)
            first, second = result["calls"]
            log(
                f"{side}: {first['seconds']:.3f} s ({first['tickets_checked']} checked, "
                f"{first['alerts']} alerts, {first['writers']} writer transactions), then "
                f"{second['seconds']:.3f} s ({second['writers']} writer transactions)"
            )
    fired = {side: {tuple(r["fired"]) for r in results} for side, results in runs.items()}
    if len(fired["before"] | fired["after"]) != 1:
        raise SystemExit("the two trees fired different alerts")
    summary = summarise(runs, args, stores.describe())
    if not args.no_save:
        save(summary)
    print(json.dumps(summary["calls"], indent=2))


def describe_tree(source: Path) -> str:
    """``source`` and the commit it is checked out at (a worktree of HEAD, say)."""
    done = subprocess.run(
        ["git", "-C", str(source), "log", "-1", "--format=%h %cs"],
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip()
    return f"{source} at commit {commit}" if done.returncode == 0 and commit else str(source)


def summarise(
    runs: dict[str, list[dict[str, Any]]], args: argparse.Namespace, store: str
) -> dict[str, Any]:
    calls = {}
    for index, name in enumerate(("first check (alerts due)", "next minute (none due)")):
        row: dict[str, Any] = {}
        for side, results in runs.items():
            measured = [r["calls"][index] for r in results]
            row[side] = {
                "median_seconds": round(statistics.median(m["seconds"] for m in measured), 4),
                "seconds": [m["seconds"] for m in measured],
                **{
                    key: measured[0][key]
                    for key in ("tickets_checked", "alerts", "writers", "wrote", "statements")
                },
            }
        row["ratio"] = round(row["before"]["median_seconds"] / row["after"]["median_seconds"], 1)
        calls[name] = row
    return {
        "label": args.label,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "store": store,
        "tickets": args.tickets,
        "due": args.due,
        "repeat": args.repeat,
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}",
        "before": describe_tree(args.before),
        "load_before": {
            side: [r["load_before"] for r in results] for side, results in runs.items()
        },
        "calls": calls,
    }


def save(summary: dict[str, Any]) -> None:
    path = HERE / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[f"{summary['label']} ({summary['store'].split()[0]})"] = summary
    path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    readme = HERE / "README.md"
    text = readme.read_text()
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    head, _, rest = text.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(f"{head}{start}\n{render(results)}{end}{tail}")


def render(results: dict[str, Any]) -> str:
    lines = []
    for name, summary in results.items():
        loads = [x for values in summary["load_before"].values() for x in values]
        lines += [
            f"### {name}: {summary['date']}",
            "",
            f"{summary['machine']}, {summary['store']}. {summary['tickets']:,} open tickets, "
            f"{summary['due']} with a warning due; {summary['repeat']} fresh processes per tree "
            f"(median); 1-minute load average before the runs {min(loads)} to {max(loads)}. "
            f"Before: {summary['before']}.",
            "",
            "| call | tree | seconds (median) | tickets checked | alerts | writer transactions "
            "| transactions that wrote | SQL statements | before / after |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for call, row in summary["calls"].items():
            for side in ("before", "after"):
                m = row[side]
                ratio = f"**{row['ratio']}x**" if side == "after" else ""
                lines.append(
                    f"| {call} | {side} | {m['median_seconds']:.3f} | {m['tickets_checked']:,} "
                    f"| {m['alerts']} | {m['writers']:,} | {m['wrote']:,} | {m['statements']:,} "
                    f"| {ratio} |"
                )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

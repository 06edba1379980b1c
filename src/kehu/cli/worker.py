"""``kehu worker``: the one scheduled-job runner (SLA checks, outbox delivery, later more)."""

from __future__ import annotations

import os
import signal
import socket
import threading
from typing import Annotated

import typer
from rich.console import Console

import kehu.domains  # noqa: F401  (every domain registers its jobs)
from kehu.cli.store import open_store
from kehu.core.config import get_settings
from kehu.core.jobs import JobOutcome, run_worker

app = typer.Typer(help="Run scheduled jobs: SLA checks and escalations, outbox delivery.")
console = Console()


def _print(outcome: JobOutcome) -> None:
    run = outcome.run
    if outcome.ok:
        console.print(f"ran [bold]{run.name}[/] {run.key} (attempt {run.attempts})")
    else:
        console.print(f"[red]failed[/] [bold]{run.name}[/] {run.key}: {outcome.error}")


@app.command("run")
def run(
    once: Annotated[bool, typer.Option("--once", help="run the due jobs once and exit")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls")] = 5.0,
    owner: Annotated[str | None, typer.Option(help="lease owner name (default: host:pid)")] = None,
) -> None:
    """Lease and run due jobs until interrupted (or once, with --once)."""

    settings = get_settings()
    database = open_store(settings, migrate=False)
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
    name = owner or f"{socket.gethostname()}:{os.getpid()}"
    state = run_worker(
        database,
        name,
        settings=settings,
        once=once,
        poll_seconds=poll,
        stop=stop,
        on_outcome=_print,
    )
    console.print(f"worker {name}: {state.jobs} job(s) run, {state.failures} failed")
    database.dispose()

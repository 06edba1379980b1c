"""``kehu demo``: the main job on the CDNOW data shipped with kehu, on the embedded default."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kehu.cli.render import RichProgress
from kehu.cli.serve import HostOption, PortOption, serve_app
from kehu.cli.store import open_store
from kehu.cli.value import run as run_value
from kehu.core.config import get_settings
from kehu.demo import (
    CDNOW_SOURCE,
    DEMO_PASSWORD,
    build_demo_desk,
    demo_now,
    demo_today,
    shifted_to_end_on,
)
from kehu.store.urls import masked_url
from kehu.value import pipeline, service
from kehu.value.schemas import ModelChoice, ValueOptions
from kehu.warehouse import read_cdnow

console = Console()

#: CDNOW's amounts are US dollars (2 decimals), whatever KEHU_CURRENCY says.
CDNOW_CURRENCY = "USD"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    output_dir: Annotated[Path, typer.Option(help="where scores and the report go")] = Path(
        "kehu-output"
    ),
    model: Annotated[
        ModelChoice,
        typer.Option(
            help="transaction model: auto (chosen by BIC among BG/NBD, MBG/NBD and Pareto/NBD), "
            "mbgnbd, pnbd or bgnbd (BG/NBD holds every one-time buyer alive, however long ago "
            "they bought)"
        ),
    ] = "auto",
    serve: Annotated[bool, typer.Option(help="serve the app after building the demo")] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Build a demo store and serve it: the 23,570 CDNOW customers and their 78 weeks of
    purchases (shipped with kehu), moved to end today, with a value run observing up to today
    (the purchase model chosen by BIC, and Gamma-Gamma; scores and an HTML report in
    ``output_dir``), plus teams, service promises, users for every role and the last six weeks
    of tickets. ``--no-serve`` builds, prints the summary and exits."""
    settings = get_settings()
    database = open_store(settings, migrate=True)
    now = datetime.now(UTC)
    today = demo_today(database, settings, now)
    path = resources.files("kehu") / "data" / CDNOW_SOURCE
    with resources.as_file(path) as master:
        transactions, days = shifted_to_end_on(
            read_cdnow(master, timezone=settings.timezone), today
        )
        fingerprint = hashlib.sha256(
            f"{service.file_fingerprint(master)} +{days} days".encode()
        ).hexdigest()
        source = pipeline.Source(transactions, CDNOW_SOURCE, fingerprint, master, CDNOW_CURRENCY)
        options = ValueOptions(
            observation_end=today,
            unit="week",
            horizon=52,
            discount_rate=0.10,
            model=model,
            currency=CDNOW_CURRENCY,
            timezone=settings.timezone,
        )
        console.print(
            f"kehu demo: CDNOW transactions, moved {days:,} days to end on {today}, into the "
            f"store at {masked_url(settings.database_url)}"
        )
        run_value(
            source,
            options,
            settings=settings,
            database=database,
            cost_to_serve_file=None,
            output=output_dir / "cdnow-scores.parquet",
            report=output_dir / "value-report.html",
            console=console,
        )
    with RichProgress(console).step("Demo service desk: users, teams, promises, tickets"):
        desk = build_demo_desk(database, settings, now=demo_now(today, now, settings))
    if desk.built:
        # The desk routes by the value tiers, so it is built after the first run; its agents'
        # work recorded service costs (cost to serve) after that run, which therefore showed
        # "costs not recorded". Run again, without importing again, so that profit subtracts
        # them (a later build finds the costs in the store for its first run).
        console.print("value run again, with the desk's service costs (cost to serve)")
        run_value(
            replace(source, path=None),
            options,
            settings=settings,
            database=database,
            cost_to_serve_file=None,
            output=output_dir / "cdnow-scores.parquet",
            report=output_dir / "value-report.html",
            console=console,
        )
    console.print(
        f"demo desk: {desk.tickets} tickets; sign in with one of these users, password "
        f"[bold]{DEMO_PASSWORD}[/]:"
    )
    for email, role in desk.users:
        console.print(f"  {email:<22} {role}")
    if serve:
        serve_app(database, settings, host=host, port=port)
    database.dispose()

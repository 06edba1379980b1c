"""``kehu demo``: the main job on the CDNOW data shipped with kehu, on the embedded default."""

from __future__ import annotations

from datetime import date
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
from kehu.demo import DEMO_PASSWORD, build_demo_desk
from kehu.store.urls import masked_url
from kehu.value import pipeline, service
from kehu.value.schemas import ValueOptions
from kehu.warehouse import read_cdnow

console = Console()

#: Fader & Hardie's CDNOW cohort: calibration Jan-Sep 1997 (39 weeks), holdout to end of June 1998.
CDNOW_CALIBRATION_END = date(1997, 9, 30)
CDNOW_HOLDOUT_END = date(1998, 6, 30)
#: CDNOW's amounts are US dollars (2 decimals), whatever KEHU_CURRENCY says.
CDNOW_CURRENCY = "USD"


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    output_dir: Annotated[Path, typer.Option(help="where scores and the report go")] = Path(
        "kehu-output"
    ),
    model: Annotated[str, typer.Option(help="transaction model: bgnbd, mbgnbd or pnbd")] = "bgnbd",
    serve: Annotated[bool, typer.Option(help="serve the app after building the demo")] = True,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
) -> None:
    """Build a demo store and serve it: the 23,570 CDNOW customers and their purchases (shipped
    with kehu) with a value run (BG/NBD and Gamma-Gamma on 1997-01..09, checked on the holdout
    to 1998-06; scores and an HTML report in ``output_dir``), plus teams, service promises,
    users for every role and tickets with realistic histories. ``--no-serve`` builds, prints
    the summary and exits."""
    settings = get_settings()
    database = open_store(settings, migrate=True)
    path = resources.files("kehu") / "data" / "CDNOW_master.txt"
    with resources.as_file(path) as master:
        transactions = read_cdnow(master, timezone=settings.timezone)
        source = pipeline.Source(
            transactions,
            "CDNOW_master.txt",
            service.file_fingerprint(master),
            master,
            CDNOW_CURRENCY,
        )
        options = ValueOptions(
            observation_end=CDNOW_CALIBRATION_END,
            holdout_end=CDNOW_HOLDOUT_END,
            unit="week",
            horizon=52,
            discount_rate=0.10,
            model=model,  # type: ignore[arg-type]
            currency=CDNOW_CURRENCY,
            timezone=settings.timezone,
        )
        console.print(
            f"kehu demo: CDNOW transactions into the store at {masked_url(settings.database_url)}"
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
        desk = build_demo_desk(database, settings)
    console.print(
        f"demo desk: {desk.tickets} tickets; sign in with one of these users, password "
        f"[bold]{DEMO_PASSWORD}[/]:"
    )
    for email, role in desk.users:
        console.print(f"  {email:<22} {role}")
    if serve:
        serve_app(database, settings, host=host, port=port)
    database.dispose()

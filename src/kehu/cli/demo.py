"""``kehu demo``: the main job on the CDNOW data shipped with kehu, on the embedded default."""

from __future__ import annotations

from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kehu.config import get_settings
from kehu.value import pipeline
from kehu.value.schemas import ValueOptions
from kehu.warehouse import read_cdnow

console = Console()

#: Fader & Hardie's CDNOW cohort: calibration Jan-Sep 1997 (39 weeks), holdout to end of June 1998.
CDNOW_CALIBRATION_END = date(1997, 9, 30)
CDNOW_HOLDOUT_END = date(1998, 6, 30)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    output_dir: Annotated[Path, typer.Option(help="where scores and the report go")] = Path(
        "kehu-output"
    ),
    model: Annotated[str, typer.Option(help="transaction model: bgnbd, mbgnbd or pnbd")] = "bgnbd",
) -> None:
    """Compute customer value for the 23,570 CDNOW customers (shipped with kehu): import them
    into the store, fit BG/NBD and Gamma-Gamma on 1997-01..09, check the fit on the holdout to
    1998-06, print the summary, and write scores and an HTML report to ``output_dir``."""
    settings = get_settings()
    path = resources.files("kehu") / "data" / "CDNOW_master.txt"
    with resources.as_file(path) as master:
        transactions = read_cdnow(master, timezone=settings.timezone)
        source = pipeline.Source(
            transactions, "CDNOW_master.txt", pipeline.service.file_fingerprint(master), master
        )
        options = ValueOptions(
            observation_end=CDNOW_CALIBRATION_END,
            holdout_end=CDNOW_HOLDOUT_END,
            unit="week",
            horizon=52,
            discount_rate=0.10,
            model=model,  # type: ignore[arg-type]
            currency="USD",
            minor_units=2,
            timezone=settings.timezone,
        )
        console.print(f"kehu demo: CDNOW transactions into the store at {settings.database_url}")
        pipeline.run(
            source,
            options,
            settings=settings,
            store=True,
            cost_to_serve_file=None,
            output=output_dir / "cdnow-scores.parquet",
            report=output_dir / "value-report.html",
            console=console,
        )

"""Terminal rendering of value runs (Rich tables and progress bars)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from kehu.progress import Advance

if TYPE_CHECKING:  # an annotation only: printing the options' errors needs no pandas
    import pandas as pd


class RichProgress:
    """Progress bars on the terminal: a bar when the total is known, a spinner otherwise."""

    def __init__(self, console: Console) -> None:
        self.console = console

    @contextmanager
    def step(self, description: str, total: int | None = None) -> Iterator[Advance]:
        columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
        if total is not None:
            columns += [BarColumn(), MofNCompleteColumn()]
        columns.append(TimeElapsedColumn())
        with Progress(*columns, console=self.console, transient=False) as progress:
            task = progress.add_task(description, total=total)

            def advance(n: int) -> None:
                progress.advance(task, n)

            yield advance
            if total is None:
                progress.update(task, total=1, completed=1)


def _number(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, float):
        return (
            f"{value:.{digits}g}"
            if abs(value) < 1e-3 or abs(value) >= 1e6
            else f"{value:.{digits}f}"
        )
    return str(value)


def models_table(models: list[dict[str, Any]]) -> Table:
    table = Table(title="Fitted models", title_justify="left")
    for column in ("model", "parameter", "estimate", "std. error"):
        table.add_column(
            column, justify="right" if column in ("estimate", "std. error") else "left"
        )
    for model in models:
        first = True
        for name, estimate in model["params"].items():
            table.add_row(
                model["model"] if first else "",
                name,
                _number(estimate),
                _number(model["standard_errors"].get(name)),
            )
            first = False
        table.add_row(
            "",
            "log-likelihood / BIC",
            _number(model["log_likelihood"], 2),
            _number(model["bic"], 2),
            end_section=False,
        )
        table.add_row(
            "",
            "converged / customers",
            "yes" if model["converged"] else "NO",
            f"{model['n_observations']:,.0f} ({model['n_distinct_rows']:,} distinct rows)",
            end_section=True,
        )
    return table


def candidates_table(choice: dict[str, Any]) -> Table:
    """The purchase models a run compared (``diagnostics["model_choice"]``): fit figures and
    holdout figures; the chosen one marked, a failed one marked so (why, in full, is in
    :func:`candidate_failures`, printed under the table: a reason of several sentences in a
    table cell was cut to a few words at 80 columns)."""
    table = Table(title="Purchase models compared", title_justify="left")
    for column in ("model", "log-likelihood", "BIC", "holdout MAE", "tracking error", "status"):
        table.add_column(column, justify="left" if column in ("model", "status") else "right")
    for candidate in choice.get("candidates", []):
        tracking = candidate.get("tracking_error")
        if not candidate["fitted"]:
            status = "failed"
        else:
            status = "chosen" if candidate["chosen"] else "fitted"
        table.add_row(
            candidate["label"],
            _number(candidate.get("log_likelihood"), 2),
            _number(candidate.get("bic"), 2),
            _number(candidate.get("holdout_mae"), 4),
            "–" if tracking is None else f"{tracking:+.1%}",
            status,
        )
    return table


def candidate_failures(choice: dict[str, Any]) -> list[str]:
    """For each candidate of :func:`candidates_table` that could not be fitted, the lines to
    print under the table: why it failed (the error's kind and reason, in full) and what to try.
    Plain text, to be printed without markup (a reason may contain brackets), wrapped by the
    console at the terminal's width."""
    lines = []
    for candidate in choice.get("candidates", []):
        if candidate["fitted"]:
            continue
        kind = candidate.get("failure_type")
        lines.append(
            f"{candidate['label']} failed{f' ({kind})' if kind else ''}: {candidate['failure']}"
        )
        if candidate.get("advice"):
            lines.append(f"{candidate['label']}: what to try: {candidate['advice']}")
    return lines


def frame_table(
    frame: pd.DataFrame, title: str, money_columns: tuple[str, ...] = (), money_digits: int = 2
) -> Table:
    """``frame`` as a table; ``money_columns`` (model estimates in major units) shown with
    ``money_digits`` decimals, the currency's."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        table.add_column(str(column), justify="left" if frame[column].dtype == object else "right")
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            if column in money_columns and isinstance(value, (int, float)):
                cells.append(f"{value:,.{money_digits}f}")
            elif isinstance(value, float):
                cells.append(_number(value, 3))
            else:
                cells.append(str(value))
        table.add_row(*cells)
    return table

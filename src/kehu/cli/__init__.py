"""The ``kehu`` command (Typer): one module per domain, errors turned into exit codes here."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from kehu.errors import KehuError
from kehu.store.urls import mask_passwords

app = typer.Typer(
    name="kehu",
    help="kehu (客户): customer value and customer experience management.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
error_console = Console(stderr=True)


def _register() -> None:
    # The command modules load the app, the domains and the value stack (pandas, Ibis): seconds.
    # They are imported when a command runs, not when ``kehu.cli`` is imported (entry-point
    # discovery, ``from kehu.cli import main``). This hides no cycle: the acyclic_siblings
    # contract in pyproject.toml counts function-level imports too.
    from kehu.cli import db, demo, serve, users, value, worker

    app.add_typer(db.app, name="db")
    value.register(app)
    demo.register(app)
    serve.register(app)
    app.add_typer(users.app, name="user")
    app.add_typer(worker.app, name="worker")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a KehuError prints its message and exits with its code."""
    if not app.registered_commands:
        _register()
    try:
        app(args=argv)
    except KehuError as exc:
        # One line however narrow the terminal, and never a database password (messages built
        # deeper down may name the store's URL as configured).
        error_console.print(
            f"[bold red]error[/]: {type(exc).__name__}: {escape(mask_passwords(str(exc)))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(exc.exit_code)

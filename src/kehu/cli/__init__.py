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


@app.callback()
def _kehu() -> None:
    """kehu (客户): customer value and customer experience management."""
    # a callback keeps ``kehu`` a group of commands when only the one that runs is registered
    # (Typer runs a lone command as the app itself, taking its name for an extra argument)


def _register_db() -> None:
    from kehu.cli import db

    app.add_typer(db.app, name="db")


def _register_value() -> None:
    from kehu.cli import value

    value.register(app)


def _register_demo() -> None:
    from kehu.cli import demo

    demo.register(app)


def _register_serve() -> None:
    from kehu.cli import serve

    serve.register(app)


def _register_users() -> None:
    from kehu.cli import users

    app.add_typer(users.app, name="user")


def _register_worker() -> None:
    from kehu.cli import worker

    app.add_typer(worker.app, name="worker")


# The command modules load the app, the domains and the value stack (pandas, Ibis): seconds.
# They are imported when a command runs, not when ``kehu.cli`` is imported (entry-point
# discovery, ``from kehu.cli import main``), and only the module of the command that runs:
# ``kehu value bad.csv`` must not wait for the web app and every domain to load before it says
# what is wrong with the file. This hides no cycle: the acyclic_siblings contract in
# pyproject.toml counts function-level imports too.
#: command -> what registers it, in the order ``kehu --help`` lists them
REGISTRARS = {
    "db": _register_db,
    "value": _register_value,
    "import": _register_value,
    "report": _register_value,
    "demo": _register_demo,
    "serve": _register_serve,
    "user": _register_users,
    "worker": _register_worker,
}
_registered: set[object] = set()


def _register(argv: list[str]) -> None:
    """Register the command ``argv`` names, or every command (``kehu --help``, a typo)."""
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    wanted = [REGISTRARS[command]] if command in REGISTRARS else list(REGISTRARS.values())
    for registrar in wanted:
        if registrar not in _registered:
            registrar()
            _registered.add(registrar)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a KehuError prints its message and exits with its code."""
    args = sys.argv[1:] if argv is None else list(argv)
    _register(args)
    try:
        app(args=args)
    except KehuError as exc:
        # One line however narrow the terminal, and never a database password (messages built
        # deeper down may name the store's URL as configured).
        error_console.print(
            f"[bold red]error[/]: {type(exc).__name__}: {escape(mask_passwords(str(exc)))}",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(exc.exit_code)

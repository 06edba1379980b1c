"""``kehu user``: create the first administrator and manage users from the terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from kehu.cli.store import open_store
from kehu.core.auth import SYSTEM
from kehu.core.config import get_settings
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.errors import InputError, NotFoundError
from kehu.store.db import Database

app = typer.Typer(help="Users of kehu: create (the first administrator too), list, deactivate.")
console = Console()


def _database() -> Database:
    return open_store(get_settings(), migrate=False)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise InputError("no password on standard input", column="password")
        return password
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return str(password)


@app.command("create")
def create(
    email: Annotated[str, typer.Option(help="the user's email address (their login)")],
    name: Annotated[str, typer.Option(help="display name")],
    admin: Annotated[bool, typer.Option("--admin", help="make the user an administrator")] = False,
    role: Annotated[
        str, typer.Option(help="admin, manager, agent or read_only (--admin sets admin)")
    ] = "agent",
    locale: Annotated[str, typer.Option(help="en or zh-Hans")] = "en",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a user (``--admin`` for the first administrator); asks for the password."""
    settings = get_settings()
    database = _database()
    password = _read_password(password_stdin)
    with database.session() as session:
        user = users.create_user(
            session,
            SYSTEM,
            email=email,
            display_name=name,
            role="admin" if admin else role,
            password=password,
            locale=locale,
            settings=settings,
        )
        console.print(f"created {user.role} [bold]{user.email}[/] (id {user.id})", highlight=False)
    database.dispose()


@app.command("list")
def list_users() -> None:
    """List every user."""
    database = _database()
    table = Table("id", "email", "name", "role", "locale", "active")
    with database.session() as session:
        for user in session.execute(select(User).order_by(User.id)).scalars():
            table.add_row(
                str(user.id),
                user.email,
                user.display_name,
                user.role,
                user.locale,
                "yes" if user.is_active else "no",
            )
    console.print(table)
    database.dispose()


@app.command("deactivate")
def deactivate(email: Annotated[str, typer.Argument(help="the user's email")]) -> None:
    """Deactivate a user: their sessions end and their API tokens are revoked."""
    database = _database()
    with database.session() as session:
        user = users.get_user_by_email(session, email)
        if user is None:
            raise NotFoundError(f"no user with the email {email}")
        users.deactivate_user(session, SYSTEM, user.id)
        console.print(f"deactivated [bold]{user.email}[/]", highlight=False)
    database.dispose()


@app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="the user's email")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Set a user's password (their sessions end and their API tokens are revoked)."""
    settings = get_settings()
    database = _database()
    password = _read_password(password_stdin)
    with database.session() as session:
        user = users.get_user_by_email(session, email)
        if user is None:
            raise NotFoundError(f"no user with the email {email}")
        users.reset_password(session, SYSTEM, user.id, password, settings)
        console.print(f"password of [bold]{user.email}[/] set", highlight=False)
    database.dispose()

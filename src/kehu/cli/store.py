"""Opening the store from a command: connect once before doing anything else, so that a store
that cannot be opened (PostgreSQL unreachable, an SQLite path that cannot be created) is one
line naming it, password masked, and exit status 2 (``ConfigurationError``), rather than a
traceback from the first query deep inside a migration or inside uvicorn."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from kehu.core.config import Settings
from kehu.errors import ConfigurationError, StoreError
from kehu.store.db import Database
from kehu.store.urls import MASK, masked_url


def _reason(error: BaseException, url: str) -> str:
    """The first line of what the driver said (the rest is hints and links), password masked."""
    cause = error.orig if isinstance(error, DBAPIError) else (error.__cause__ or error)
    lines = str(cause).strip().splitlines()
    reason = lines[0] if lines else type(cause).__name__
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
        password = None
    return reason.replace(password, MASK) if password else reason


def open_store(settings: Settings, *, migrate: bool) -> Database:
    """The store at ``settings.database_url``, connected to once. ``migrate`` brings its schema
    up to date (creating it on an empty database); otherwise it must have one already.

    ``ConfigurationError`` when the store cannot be opened, ``StoreError`` when the database
    refuses the schema work; both name the URL with its password masked.
    """
    url = settings.database_url
    shown = masked_url(url)
    try:
        database = Database(url)
    except ConfigurationError as error:
        raise ConfigurationError(
            f"cannot use the database URL {shown}: {_reason(error, url)}"
        ) from None
    try:
        with database.engine.connect():
            pass
    except SQLAlchemyError as error:
        database.dispose()
        raise ConfigurationError(
            f"cannot open the store at {shown}: {_reason(error, url)}"
        ) from None
    try:
        if migrate:
            database.upgrade(backfill_currency=settings.currency)
        else:
            database.check_schema()
    except DBAPIError as error:
        database.dispose()
        raise StoreError(
            f"the store at {shown} refused the schema work: {_reason(error, url)}"
        ) from None
    except StoreError:
        database.dispose()
        raise
    return database

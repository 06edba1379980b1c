"""What every page gets from the request: who acts, a store session, the language, settings.

The principal and the CSRF token come from the API's server-side sessions and tokens
(:mod:`kehu.api.deps`); the store and settings from ``app.state``. Tests override these functions
(``app.dependency_overrides``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from kehu.api import deps as api_deps
from kehu.auth.principal import Principal
from kehu.config import Settings
from kehu.config import get_settings as load_settings
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME, negotiate_locale


def get_settings(request: Request) -> Settings:
    """The app's settings (``app.state.settings``), else the environment's."""
    settings = getattr(request.app.state, "settings", None)
    return settings if isinstance(settings, Settings) else load_settings()


def get_database(request: Request) -> Database:
    """The store the app serves (``app.state.database``)."""
    database = getattr(request.app.state, "database", None)
    if not isinstance(database, Database):
        raise RuntimeError("the web pages need app.state.database (a kehu.store.db.Database)")
    return database


def get_session(database: Annotated[Database, Depends(get_database)]) -> Iterator[Session]:
    """One store session per request, in one transaction (committed when the page is done)."""
    with database.session() as session:
        yield session


def get_optional_principal(
    principal: Annotated[Principal | None, Depends(api_deps.optional_principal)],
) -> Principal | None:
    """Who is logged in (the API's server-side session or token), or ``None``."""
    return principal


def login_url(request: Request) -> str:
    """The login page, returning to the current page afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"{request.url_for('web_login').path}?next={quote(target, safe='/')}"


def get_principal(
    request: Request,
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> Principal:
    """Who is acting; a visitor who is not logged in is sent to the login page (303)."""
    if principal is None:
        raise HTTPException(
            status_code=status.HTTP_303_SEE_OTHER,
            detail="login required",
            headers={"Location": login_url(request)},
        )
    return principal


def get_locale(request: Request) -> str:
    """The page language: the language switch's cookie, else the browser's Accept-Language."""
    return negotiate_locale(
        request.cookies.get(COOKIE_NAME), request.headers.get("accept-language")
    )


def get_csrf_token(
    request: Request,
    _principal: Annotated[Principal | None, Depends(get_optional_principal)],
) -> str:
    """The session's CSRF token for forms (``csrf_token``) and htmx requests
    (``X-CSRF-Token``); depends on the principal so that the session was looked up first."""
    return api_deps.csrf_token(request)

"""What every page gets from the request: who acts, a store session, the language, settings.

The principal and the CSRF token come from the API's server-side sessions and tokens
(:mod:`kehu.http.deps`); the store and settings from ``app.state``. Tests override these functions
(``app.dependency_overrides``).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request, status

from kehu.core.auth.principal import Principal
from kehu.http import deps as api_deps
from kehu.web.i18n import COOKIE_NAME, negotiate_locale

#: The app's settings and store (``app.state``): the same dependencies as the API's, so that a
#: page and the API routes it calls share one settings object and one store.
get_settings = api_deps.get_settings
get_database = api_deps.get_database
#: The request's one store session, in one transaction, shared with authentication (a second
#: session in the same request would wait on SQLite for the first one's write lock).
get_session = api_deps.open_request_session
SessionDep = api_deps.DbSession


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

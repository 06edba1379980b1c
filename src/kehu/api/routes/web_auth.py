"""Login and logout for HTML forms (the web pages post here): the same sessions as the JSON
API, answered with redirects instead of JSON.

``POST /auth/login`` (form fields ``username`` = email, ``password``, ``next``) and
``POST /auth/logout`` (``csrf_token``). A login form posted from another site is refused by its
``Origin`` header (login CSRF); logout needs the session's CSRF token like every cookie write.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from kehu.api.routes.auth import set_session_cookie
from kehu.core.users import service as users
from kehu.errors import AuthenticationError, PermissionDeniedError, RateLimitedError
from kehu.http.client_address import client_address
from kehu.http.deps import AppSettings, Authentication, DbSession, get_database

router = APIRouter(prefix="/auth", include_in_schema=False)

LOGIN_PAGE = "/login"


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(character) < 32 for character in target):
        return default
    return target


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is None:
        return
    if urlsplit(origin).netloc != request.headers.get("host", request.url.netloc):
        raise PermissionDeniedError("the login form was posted from another site")


def _back_to_login(notice: str, target: str) -> RedirectResponse:
    return RedirectResponse(
        f"{LOGIN_PAGE}?notice={notice}&next={quote(target, safe='/')}", status_code=303
    )


@router.post("/login")
def form_login(
    request: Request,
    settings: AppSettings,
    username: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> RedirectResponse:
    _same_origin(request)
    target = local_path(next)
    try:
        new = users.login(
            get_database(request),
            username,
            password,
            client_address(request, settings),
            settings,
            user_agent=request.headers.get("user-agent"),
        )
    except RateLimitedError:
        return _back_to_login("rate_limited", target)
    except AuthenticationError:
        return _back_to_login("invalid", target)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, settings, new)
    return response


@router.post("/logout")
def form_logout(
    session: DbSession, authenticated: Authentication, settings: AppSettings
) -> RedirectResponse:
    users.log_out(session, authenticated.web_session)
    response = RedirectResponse(f"{LOGIN_PAGE}?notice=logged_out", status_code=303)
    response.delete_cookie(settings.session_cookie_name, path="/", httponly=True, samesite="lax")
    return response

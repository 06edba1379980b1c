"""Pages and routes every area shares: home, login, the language switch, static files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

from kehu.core.i18n import LOCALES
from kehu.web.i18n import COOKIE_NAME
from kehu.web.rendering import LOGIN_ACTION, STATIC_DIR, PublicPage, StaffPage

router = APIRouter()

LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600

_LOGIN_NOTICES = {"invalid", "rate_limited", "logged_out", "expired"}


def safe_next(target: str | None, default: str) -> str:
    """A local path to return to; anything else (another host, a scheme) gives ``default``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    if any(ord(c) < 32 for c in target):
        return default
    return target


@router.get("/", name="web_home")
def home(page: StaffPage) -> RedirectResponse:
    """The first area the principal may open (the value page for managers)."""
    preferred = next((item for item in page.nav() if item.key == "value"), None)
    first = preferred or (page.nav()[0] if page.nav() else None)
    target = (
        page.request.url_for(first.route).path if first else page.request.url_for("web_login").path
    )
    return RedirectResponse(target, status_code=303)


@router.get("/login", name="web_login")
def login(
    page: PublicPage,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    notice: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    home_path = page.request.url_for("web_home").path
    return page.render(
        "login.html",
        {
            "login_action": LOGIN_ACTION,
            "next": safe_next(next, home_path),
            "notice": notice if notice in _LOGIN_NOTICES else None,
        },
    )


@router.get("/lang/{code}", name="web_set_locale")
def set_locale(
    request: Request,
    code: str,
    next: Annotated[str | None, Query(max_length=2000)] = None,
) -> RedirectResponse:
    """The language switch: remember the language in a cookie and show the same page again."""
    if code not in LOCALES:
        raise HTTPException(status_code=404, detail="unknown language")
    response = RedirectResponse(safe_next(next, request.url_for("web_home").path), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        code,
        max_age=LOCALE_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


_STATIC_ROOT = STATIC_DIR.resolve()


@router.get("/static/{path:path}", name="web_static")
def static(path: str) -> FileResponse:
    """kehu's own CSS, scripts and images (nothing is loaded from elsewhere)."""
    candidate = (_STATIC_ROOT / path).resolve()
    if not candidate.is_relative_to(_STATIC_ROOT) or not candidate.is_file():
        raise HTTPException(status_code=404, detail="not found")
    return FileResponse(
        Path(candidate),
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/favicon.ico", name="web_favicon", include_in_schema=False)
def favicon(request: Request) -> RedirectResponse:
    """Browsers and feed readers ask for ``/favicon.ico`` whatever the page's ``<link rel=icon>``
    says; send them to the one icon kehu has instead of a 404 in every access log."""
    target = request.url_for("web_static", path="img/favicon.svg").path
    return RedirectResponse(
        target, status_code=301, headers={"Cache-Control": "public, max-age=86400"}
    )

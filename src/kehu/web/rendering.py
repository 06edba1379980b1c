"""The Jinja environment of the pages and :class:`Page`, what a view renders with.

Autoescaping is always on: every ``{{ value }}`` is HTML-escaped, so script typed into any field is
shown as text. Only markup kehu builds itself (the inline SVG charts of ``kehu.report.svg``, which
escape their own text) is passed through ``Markup``.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from starlette.datastructures import URLPath

from kehu.core.auth.principal import Principal
from kehu.core.config import Settings
from kehu.core.i18n import LOCALES, N_, Translator
from kehu.core.money import Money
from kehu.web.deps import (
    get_csrf_token,
    get_locale,
    get_optional_principal,
    get_principal,
    get_settings,
)

PACKAGE_DIR = Path(__file__).parent
TEMPLATE_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
#: Where the login and logout forms post to (the API's session endpoints).
LOGIN_ACTION = "/auth/login"
LOGOUT_ACTION = "/auth/logout"
#: The product's name, shown as is in every language.
BRAND = "kehu"

#: Sent with every page: scripts and styles only from kehu itself, no inline script.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def page_headers(locale_code: str) -> dict[str, str]:
    """The headers of every page: its language, the CSP, and no caching (pages show who is
    logged in and what they may see)."""
    return {
        "Content-Language": locale_code,
        "Vary": "Cookie, Accept-Language",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }


@dataclass(frozen=True)
class NavItem:
    """One entry of the header's navigation."""

    key: str
    label: str  # a message id (N_ marked), translated when shown
    route: str  # route name
    permission: str | None = None  # shown only to principals holding it


NAV_ITEMS: tuple[NavItem, ...] = (
    NavItem("customers", N_("Customers"), "web_customers", "customers:read"),
    NavItem("tickets", N_("Tickets"), "web_tickets", "tickets:read"),
    NavItem("value", N_("Value"), "web_value", "value:read"),
    NavItem("service", N_("Service figures"), "web_service_figures", "tickets:read"),
    NavItem("dashboard", N_("Dashboard"), "web_desk_dashboard", "tickets:read"),
    NavItem("surveys", N_("Surveys"), "web_surveys", "feedback:read"),
    NavItem("results", N_("Survey results"), "web_feedback_results", "feedback:read"),
    NavItem("themes", N_("Complaint themes"), "web_feedback_themes", "feedback:read"),
    NavItem("follow_up", N_("Follow-up"), "web_follow_up", "feedback:read"),
    NavItem("settings", N_("Settings"), "web_settings", "settings:write"),
)

ROLE_LABELS: dict[str, str] = {
    "admin": N_("Administrator"),
    "manager": N_("Manager"),
    "agent": N_("Service agent"),
    "read_only": N_("Read-only"),
}


# -- the environment ---------------------------------------------------------------------------


def _translator(context: Context) -> Translator:
    translator = context.get("translator")
    if not isinstance(translator, Translator):
        raise RuntimeError("templates are rendered through kehu.web.rendering.Page.render")
    return translator


# Jinja's newstyle wrappers escape the result and %-format it with the variables afterwards.
@pass_context
def _gettext(context: Context, message: str) -> str:
    return _translator(context).lookup(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return _translator(context).lookup_plural(singular, plural, n)


#: Where a router keeps the paths already built for it: ``(name, params) -> URLPath``. Finding
#: a route by name walks every route of every included router (raising ``NoMatchFound`` along
#: the way); a page builds dozens of links, so that walk was a fifth of the ticket page's time.
#: Routes do not change once the app serves; the cache is emptied when it grows past its bound.
_ROUTE_PATHS = "_kehu_route_paths"
_ROUTE_PATHS_MAX = 10_000


def route_path(request: Request, name: str, /, **path_params: Any) -> str:
    """``request.url_for(name, **path_params).path``, with the route lookup cached."""
    router = request.scope.get("router") or request.scope["app"]
    paths: dict[tuple[Any, ...], URLPath] | None = getattr(router, _ROUTE_PATHS, None)
    if paths is None:
        paths = {}
        setattr(router, _ROUTE_PATHS, paths)
    key = (name, *sorted(path_params.items()))
    found = paths.get(key)
    if found is None:
        if len(paths) >= _ROUTE_PATHS_MAX:
            paths.clear()
        found = paths[key] = router.url_path_for(name, **path_params)
    return str(found.make_absolute_url(base_url=request.base_url).path)


@pass_context
def _url_for(context: Context, name: str, /, **path_params: Any) -> str:
    """Path of the route ``name`` (relative to the host, so it works behind a proxy)."""
    request: Request = context["request"]
    return route_path(request, name, **path_params)


@pass_context
def _static_url(context: Context, path: str) -> str:
    return str(_url_for(context, "web_static", path=path))


def _with_query(url: str, **params: Any) -> str:
    """``url`` with the query parameters that are not ``None``."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{url}?{query}" if query else url


@pass_context
def _date(context: Context, value: Any, format: str = "medium") -> str:
    return _translator(context).format_date(value, format)


@pass_context
def _datetime(context: Context, value: Any, format: str = "medium") -> str:
    return _translator(context).format_datetime(value, format)


@pass_context
def _money(context: Context, money: Money | None, whole: bool = False) -> str:
    """``{{ amount|money }}``: a :class:`~kehu.core.money.Money` in the page's locale; its
    currency is the one stored with it, never a setting."""
    return _translator(context).format_money(money, whole=whole)


@pass_context
def _number(context: Context, value: Any, decimals: int = 0) -> str:
    return _translator(context).format_number(value, decimals)


@pass_context
def _percent(context: Context, value: Any, decimals: int = 1) -> str:
    return _translator(context).format_percent(value, decimals)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The pages' Jinja environment (one per process; per-request state lives in the context)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        # the templates ship with the package: no stat() of each template file on every render
        # (that was a sixth of the 360 page's time); restart the server after editing one
        auto_reload=False,
    )
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(url_for=_url_for, static_url=_static_url, with_query=_with_query)
    env.filters.update(
        date=_date, datetime=_datetime, money=_money, number=_number, percent=_percent
    )
    return env


# -- pages -------------------------------------------------------------------------------------


@dataclass
class Page:
    """Everything a view needs to render: the request, who is acting, the language, settings."""

    request: Request
    principal: Principal | None
    translator: Translator
    settings: Settings
    csrf_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def locale(self) -> str:
        return self.translator.code

    def _(self, message: str, **variables: Any) -> str:
        """Translate in Python code (``_ = page._`` then ``_("...")`` is what extraction finds)."""
        return self.translator.gettext(message, **variables)

    def nav(self) -> list[NavItem]:
        if self.principal is None:
            return []
        return [
            item
            for item in NAV_ITEMS
            if item.permission is None or self.principal.can(item.permission)
        ]

    def context(self, values: Mapping[str, Any] | None = None, active: str | None = None) -> dict:
        request = self.request
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        principal = self.principal
        return {
            "request": request,
            "page": self,
            "translator": self.translator,
            "locale": self.translator.info,
            "locales": list(LOCALES.values()),
            "principal": principal,
            "role_labels": [
                ROLE_LABELS.get(role, role) for role in sorted(principal.roles if principal else ())
            ],
            "nav": self.nav(),
            "active": active,
            "csrf_token": self.csrf_token,
            "brand": BRAND,
            "logout_action": LOGOUT_ACTION,
            "here": here,
            **self.extra,
            **(values or {}),
        }

    def render_string(
        self, template: str, values: Mapping[str, Any] | None = None, active: str | None = None
    ) -> str:
        return environment().get_template(template).render(self.context(values, active))

    def render(
        self,
        template: str,
        values: Mapping[str, Any] | None = None,
        *,
        active: str | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        return HTMLResponse(
            self.render_string(template, values, active),
            status_code=status_code,
            headers=page_headers(self.translator.code),
        )

    def csrf_ok(self, sent: str | None) -> bool:
        """The form's token (or htmx's ``X-CSRF-Token`` header) matches the session's."""
        expected = self.csrf_token
        if not expected:  # an API token, not a browser session: nothing a browser could forge
            return True
        token = sent or self.request.headers.get("x-csrf-token") or ""
        return hmac.compare_digest(token.encode(), expected.encode())

    def expired_form(self) -> HTMLResponse:
        """403: the form's CSRF token is missing or not the session's."""
        _ = self._
        return self.render(
            "error.html",
            {
                "title": _("Not allowed"),
                "message": _("The form has expired. Open the page again and repeat your change."),
            },
            status_code=403,
        )


def _make_page(
    request: Request,
    principal: Principal | None,
    locale: str,
    settings: Settings,
    csrf_token: str,
) -> Page:
    return Page(request, principal, Translator(locale, settings.zone), settings, csrf_token)


def staff_page(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    locale: Annotated[str, Depends(get_locale)],
    settings: Annotated[Settings, Depends(get_settings)],
    csrf_token: Annotated[str, Depends(get_csrf_token)],
) -> Page:
    """A page for logged-in users (others are sent to the login page)."""
    return _make_page(request, principal, locale, settings, csrf_token)


def public_page(
    request: Request,
    principal: Annotated[Principal | None, Depends(get_optional_principal)],
    locale: Annotated[str, Depends(get_locale)],
    settings: Annotated[Settings, Depends(get_settings)],
    csrf_token: Annotated[str, Depends(get_csrf_token)],
) -> Page:
    """A page anyone may open (login, the public complaint form)."""
    return _make_page(request, principal, locale, settings, csrf_token)


StaffPage = Annotated[Page, Depends(staff_page)]
PublicPage = Annotated[Page, Depends(public_page)]

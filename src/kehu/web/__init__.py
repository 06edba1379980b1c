"""The web pages: server-rendered Jinja2 with htmx, in English and Simplified Chinese.

``install(app)`` adds every page to a FastAPI app; ``router()`` gives the pages alone. The pages
take who is acting, the store session, the language and the CSRF token from the dependencies in
:mod:`kehu.web.deps` (point those at the API's sessions), and render through
:class:`kehu.web.rendering.Page`. Layout::

    deps.py        get_principal, get_optional_principal, get_session, get_locale, csrf
    rendering.py   the Jinja environment (autoescape on), Page, the navigation
    error_pages.py the API's error map answered as pages (error.html, the visitor's language)
    i18n/          Translator, locale formatting, the gettext catalogs (en, zh_Hans), catalogs.py
    views/         one module per area, each with a ``router``
    templates/     base.html (layout), login.html, error.html, <area>/...
    static/        css/, vendor/htmx.min.js (served by kehu, no CDN)

Adding a page: write a view in ``views/<area>.py`` (a module-level ``router``, listed in
:data:`AREAS`) taking ``page: StaffPage`` (logged-in) or ``PublicPage`` and, for the store,
``session: SessionDep`` (from :mod:`kehu.web.deps`); query through
``kehu.core.auth.scoping.scoped``;
return ``page.render("<area>/<name>.html", {...}, active="<nav key>")``. Route names start with
``web_`` (the API shares the name space); templates extend ``base.html``. Add the route to
``PAGES`` in ``tests/web/test_web_i18n.py``, which renders it in every language.

Adding a string: ``{{ _('Text') }}`` in a template (``%%`` for a percent sign, ``%(name)s`` for a
value), ``_ = page._`` then ``_("Text")`` in a view, ``N_("Text")`` for a constant translated
where shown; run ``python -m kehu.web.i18n.catalogs`` and fill its ``msgstr`` in
``i18n/zh_Hans/LC_MESSAGES/messages.po``. Tests fail until every message is translated.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from kehu.http.errors import answer_pages_with
from kehu.web.error_pages import render_error_page
from kehu.web.views import (
    calibration,
    common,
    customers,
    dashboard,
    duplicate_flags,
    follow_up,
    notifications,
    public,
    service,
    settings,
    settings_calendars,
    settings_macros,
    settings_people,
    settings_promises,
    settings_rules,
    survey_response,
    survey_results,
    surveys,
    themes,
    ticket_assignment,
    ticket_macros,
    ticket_queue,
    ticket_themes,
    tickets,
    value,
)

__all__ = ["AREAS", "install", "router"]

#: The view modules; each has a ``router`` (add a new area here).
AREAS = (
    common,
    customers,
    ticket_queue,
    tickets,
    ticket_assignment,
    ticket_themes,
    ticket_macros,
    settings_macros,
    settings_people,
    duplicate_flags,
    value,
    service,
    dashboard,
    calibration,
    notifications,
    settings,
    settings_calendars,
    settings_promises,
    settings_rules,
    themes,
    survey_results,
    public,
    surveys,
    survey_response,
    follow_up,
)


def router() -> APIRouter:
    """Every page, as one router (HTML responses, left out of the OpenAPI schema)."""
    pages = APIRouter(default_response_class=HTMLResponse, include_in_schema=False)
    for area in AREAS:
        pages.include_router(area.router)
    return pages


def install(app: FastAPI, *, prefix: str = "") -> None:
    """Add the pages (and their static files) to ``app``, under ``prefix``, and have the API's
    error map answer page requests with HTML error pages (API paths keep the JSON body)."""
    app.include_router(router(), prefix=prefix)
    answer_pages_with(app, render_error_page)

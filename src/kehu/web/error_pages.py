"""The error map of :mod:`kehu.http.errors`, answered as a page for browsers.

The status, the headers (``Retry-After``, ``WWW-Authenticate``, ``Allow``) and which error gets
which status are the map's; this module only chooses the words, in the visitor's language, and
draws them with ``error.html`` and the site's own CSS.

The page needs nothing from the store, because a 503 means the store is down: the language is
the one every page uses (the language switch's cookie, else ``Accept-Language``), and who is
logged in is shown only when authentication already ran in this request (its result is kept on
``request.state``); otherwise the visitor is treated as unknown. Nothing internal reaches the
page: a 500 or 503 says what to do, not what failed. Where the map's message names what to
correct (a field, the reason a value was refused) it is shown as text; autoescaping keeps a
value typed into a field from becoming markup.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from kehu.core.auth.principal import Principal
from kehu.core.config import Settings
from kehu.core.i18n import N_, Translator
from kehu.http.errors import ErrorReply
from kehu.http.middleware import SecurityHeadersMiddleware
from kehu.web.deps import get_locale, login_url
from kehu.web.rendering import Page, route_path
from kehu.web.views.common import safe_next

#: Title and explanation per status; a status not listed takes that of its class (4xx, 5xx).
WORDS: dict[int, tuple[str, str]] = {
    400: (
        N_("The request was not understood"),
        N_("Something in the request is malformed. Open the page again and retry."),
    ),
    401: (N_("Please log in"), N_("Log in to continue.")),
    403: (N_("Not allowed"), N_("You are not allowed to do this.")),
    404: (N_("Not found"), N_("There is no such page, or you may not see it.")),
    405: (
        N_("Not possible here"),
        N_("This address does not accept this kind of request."),
    ),
    409: (
        N_("Changed in the meantime"),
        N_(
            "This clashes with the record as it is now; someone may have changed it at the "
            "same moment. Open the page again and retry."
        ),
    ),
    413: (
        N_("Too large"),
        N_("What you sent is larger than kehu accepts. Send a smaller file or a shorter text."),
    ),
    415: (N_("Not supported"), N_("This kind of content is not accepted here.")),
    422: (
        N_("Please check your input"),
        N_("Something you sent was not accepted. Check it and try again."),
    ),
    429: (N_("Too many requests"), N_("Please wait a moment and try again.")),
    500: (
        N_("Something went wrong"),
        N_("kehu could not complete this request. The problem has been logged; try again later."),
    ),
    503: (
        N_("Not available just now"),
        N_("kehu cannot reach its data store at the moment. Please try again in a minute."),
    ),
}
#: A 404 of the domain's: the id is unknown or outside the visitor's scope (no hint which).
RECORD_NOT_FOUND = N_("There is no such record, or you may not see it.")
#: A 403 on reading a page (a refused change keeps the general words).
PAGE_FORBIDDEN = N_("Your role does not allow you to see this page.")
#: A 422 that names the field at fault.
FIELD_MESSAGE = N_("The value of “%(field)s” was not accepted. Check it and try again.")
#: Statuses whose own message (from the domain or the validation) tells what to correct.
SHOWS_REASON = frozenset({400, 409, 413, 415, 422})
#: Statuses where sending the same request again later may well succeed.
RETRYABLE = frozenset({429, 500, 503})


def render_error_page(request: Request, reply: ErrorReply) -> Response:
    """``reply`` as an HTML page (registered with the map by :func:`kehu.web.install`)."""
    if reply.status < 400:
        # A redirect raised as an HTTPException (a page sending a visitor to log in): it stays a
        # redirect, as the pages have always answered it.
        return Response(status_code=reply.status, headers=reply.headers)
    page = _page(request)
    response = page.render("error.html", _values(page, reply), status_code=reply.status)
    response.headers.update(reply.headers or {})
    # the same address answers JSON to a client that prefers it (kehu.http.error_format)
    response.headers["Vary"] = "Cookie, Accept-Language, Accept"
    # The 500 handler runs outside the middleware that adds these to every other response.
    for name, value in SecurityHeadersMiddleware.HEADERS:
        response.headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
    return response


def _page(request: Request) -> Page:
    """A page for the visitor as far as the request already knows them; reads no store."""
    principal = getattr(request.state, "principal", None)
    settings = getattr(request.app.state, "settings", None)
    if not isinstance(settings, Settings):  # an app assembled without create_app (tests)
        settings = Settings()
    return Page(
        request,
        principal if isinstance(principal, Principal) else None,
        Translator(get_locale(request), settings.zone),
        settings,
        str(getattr(request.state, "csrf_token", "") or ""),
    )


def _values(page: Page, reply: ErrorReply) -> dict[str, object]:
    _ = page._
    request, status = page.request, reply.status
    title, message = WORDS.get(status) or WORDS[500 if status >= 500 else 400]
    if reply.type == "NotFoundError":
        # a record the domain did not find, or found outside the visitor's scope (same words)
        message = RECORD_NOT_FOUND
    elif status == 403 and request.method in ("GET", "HEAD"):
        message = PAGE_FORBIDDEN
    values: dict[str, object] = {"status": status, "title": _(title), "message": _(message)}
    if status == 422 and reply.field:
        values["message"] = _(FIELD_MESSAGE, field=reply.field)
    if status in SHOWS_REASON:
        values["detail"] = reply.message
    retry_after = (reply.headers or {}).get("Retry-After", "")
    if status == 429 and retry_after.isdigit():
        values["message"] = page.translator.ngettext(
            "Please wait %(num)d second and try again.",
            "Please wait %(num)d seconds and try again.",
            int(retry_after),
        )
    home = route_path(request, "web_home")
    here = _here(request)
    if here is None:
        values["here"] = home  # where the language switch returns to
    if status == 401:
        values["action"] = {"href": _login_href(request, here), "label": _("Log in")}
    elif status in RETRYABLE and here is not None:
        values["action"] = {"href": safe_next(here, home), "label": _("Try again")}
    return values


def _here(request: Request) -> str | None:
    """The address to open again (for "try again", the login and the language switch), or
    ``None`` for a form's: opening that again asks with another method and gets a 405."""
    if request.method not in ("GET", "HEAD"):
        return None
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _login_href(request: Request, here: str | None) -> str:
    """The login page, coming back here afterwards when here can be opened again."""
    return login_url(request) if here is not None else route_path(request, "web_login")

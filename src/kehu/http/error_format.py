"""Which form an error answer takes: the API's JSON body, or an HTML page for a browser.

The rule, applied by every handler of the error map (:mod:`kehu.http.errors`):

- a path under ``/api/`` is always answered with the JSON body, whatever ``Accept`` says, so
  that API clients, scripts and the API tests keep getting exactly the body they parse;
- any other path (the pages, the login and logout forms, ``/docs``, an unknown address) is
  answered with a page, unless the request's ``Accept`` prefers ``application/json`` to
  ``text/html`` (a monitor asking ``/healthz`` for JSON gets JSON). A browser's navigation
  (``text/html,...,*/*;q=0.8``) and ``*/*`` (curl, ``fetch``, htmx, test clients) get the page.

Deciding by the path first, not by ``Accept`` alone, is what keeps the API's answers unchanged:
most API clients send ``*/*`` or nothing, which would otherwise tie.
"""

from __future__ import annotations

from starlette.requests import Request

API_PREFIX = "/api"
HTML = "text/html"
JSON = "application/json"


def is_api_path(request: Request) -> bool:
    """The request is for the API (``/api`` and below, behind any ``root_path``)."""
    path: str = request.scope.get("path", "")
    root: str = request.scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :]
    return path == API_PREFIX or path.startswith(f"{API_PREFIX}/")


def wants_page(request: Request) -> bool:
    """Answer this request's error with an HTML page (see the module's rule)."""
    if is_api_path(request):
        return False
    accept = request.headers.get("accept")
    if not accept:
        return True
    return quality(accept, HTML) >= quality(accept, JSON)


def quality(accept: str, media_type: str) -> float:
    """The weight ``accept`` gives ``media_type``: that of the most specific range that
    matches it (``text/html`` over ``text/*`` over ``*/*``), 0 when none does."""
    kind = media_type.split("/", 1)[0]
    ranks = {media_type: 2, f"{kind}/*": 1, "*/*": 0}
    best_rank, best_q = -1, 0.0
    for part in accept.split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        rank = ranks.get(media_range.lower())
        if rank is None or rank <= best_rank:
            continue
        best_rank, best_q = rank, _weight(params)
    return best_q


def _weight(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value)
            except ValueError:
                return 1.0  # a malformed weight is ignored, as if none were sent
            return q if 0.0 <= q <= 1.0 else 1.0  # also NaN and out-of-range weights
    return 1.0

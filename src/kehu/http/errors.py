"""The one map from errors to HTTP responses, and the one error body.

Every error the API returns has the body ``{"error": {"type", "message", "field"?, "row"?}}``:
``type`` is the name of the :mod:`kehu.errors` class (or of the HTTP condition), ``field`` names
the request field at fault (body, query, path or header) when there is one. An input error in a
text file names its ``line`` (the header is line 1) instead of a ``row``; bad rows of a file
(:class:`~kehu.errors.InvalidRowsError`) come with ``problems``: each column, reason, the first
rows as ``[number, value]`` and how many rows have it in all.

    NotFoundError 404 · ConflictError 409 · InputError 422 · AuthenticationError 401 ·
    PermissionDeniedError 403 · RateLimitedError 429 (Retry-After) · StoreError 503 ·
    ModelError 422 · ConfigurationError 500 · request validation 422 · oversized body 413 ·
    a stale write the domain did not expect (StaleDataError) 409 · the store unreachable
    (OperationalError) 503 · anything else 500

The same map answers the pages. Each handler turns its error into one :class:`ErrorReply`
(status, type, message, field, headers); the reply is written as the JSON body, or, for a page
request (:func:`kehu.http.error_format.wants_page`) when the pages are installed, as the HTML page
they registered with :func:`answer_pages_with` -- same status, same headers, words in the
visitor's language. The API knows nothing of templates; the pages know nothing of statuses.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from kehu.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InputError,
    InvalidRowsError,
    KehuError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StoreError,
)
from kehu.http.error_format import wants_page

logger = logging.getLogger("kehu.api")

STATUS_BY_ERROR: dict[type[KehuError], int] = {
    NotFoundError: 404,
    ConflictError: 409,
    InputError: 422,
    AuthenticationError: 401,
    PermissionDeniedError: 403,
    RateLimitedError: 429,
    StoreError: 503,
    ModelError: 422,
    ConfigurationError: 500,
}

_HTTP_TYPES = {
    400: "BadRequest",
    404: "NotFoundError",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


def status_for(error: KehuError | type[KehuError]) -> int:
    """The status of ``error`` (an instance or a class): its nearest class in the map."""
    cls = error if isinstance(error, type) else type(error)
    for base in cls.__mro__:
        if base in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[base]
    return 500


def error_body(
    type_: str, message: str, *, field: str | None = None, row: int | None = None, **extra: Any
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if field is not None:
        error["field"] = field
    if row is not None:
        error["row"] = row
    error.update(extra)
    return {"error": error}


@dataclasses.dataclass(frozen=True)
class ErrorReply:
    """One error as the map answers it, before it is written as JSON or as a page."""

    status: int
    type: str
    message: str  # for API clients; a page shows it only where it names what to correct
    field: str | None = None
    row: int | None = None
    headers: dict[str, str] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return error_body(self.type, self.message, field=self.field, row=self.row, **self.extra)

    def json_response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, headers=self.headers)


#: Renders a reply as a page: ``(request, reply) -> response`` (see :func:`answer_pages_with`).
ErrorPage = Callable[[Request, ErrorReply], Response]
_ERROR_PAGE = "error_page"  # where on app.state the pages' renderer is kept


def answer_pages_with(app: FastAPI, render: ErrorPage) -> None:
    """Answer the errors of page requests on ``app`` with ``render``; the pages register theirs
    when they are installed (``kehu.web.install``), so this module imports nothing of them."""
    setattr(app.state, _ERROR_PAGE, render)


def answer_error(request: Request, reply: ErrorReply) -> Response:
    """``reply`` as the JSON body, or as a page for a page request when pages are installed."""
    render: ErrorPage | None = getattr(request.app.state, _ERROR_PAGE, None)
    if render is None or not wants_page(request):
        return reply.json_response()
    try:
        return render(request, reply)
    except Exception:
        # The error must still reach the browser: a page that cannot be drawn (a broken
        # template, a missing translation) falls back to the body every client can read.
        logger.exception("the %s error page could not be rendered", reply.status)
        return reply.json_response()


def error_response(
    status: int,
    type_: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    reply = ErrorReply(status, type_, message, field=field, headers=headers, extra=extra)
    return reply.json_response()


def kehu_error_reply(error: KehuError) -> ErrorReply:
    status = status_for(error)
    headers: dict[str, str] = {}
    field: str | None = None
    row: int | None = None
    message = str(error)
    extra: dict[str, Any] = {}
    if isinstance(error, InputError):
        field, row = error.column, error.row
        if error.line is not None:
            extra["line"] = error.line
        if isinstance(error, InvalidRowsError):
            extra["problems"] = [
                {
                    "field": problem.column,
                    "reason": problem.reason,
                    problem.unit + "s": [
                        [number, None if value is None else str(value)]
                        for number, value in problem.places
                    ],
                    "n_rows": problem.n_rows,
                }
                for problem in error.problems
            ]
        if error.file is None:
            # API input: the field is reported on its own, the message is the reason.
            message = error.reason
            if error.value is not None:
                message = f"{message} (got {error.value!r})"
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="kehu"'
    if status >= 500 and not isinstance(error, StoreError):
        logger.error("server error: %s", error, exc_info=error)
        message = "internal error"
    return ErrorReply(status, type(error).__name__, message, field, row, headers or None, extra)


def kehu_error_response(error: KehuError) -> JSONResponse:
    return kehu_error_reply(error).json_response()


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or None


async def _on_kehu_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, KehuError)
    return answer_error(request, kehu_error_reply(error))


async def _on_validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": _field_of(item.get("loc", ())), "message": str(item.get("msg", "invalid"))}
        for item in error.errors()
    ]
    first = problems[0] if problems else {"field": None, "message": "invalid request"}
    field = first["field"]
    message = f"{field}: {first['message']}" if field else str(first["message"])
    reply = ErrorReply(
        status_for(InputError), "InputError", message, field, extra={"details": problems}
    )
    return answer_error(request, reply)


async def _on_http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    type_ = _HTTP_TYPES.get(error.status_code, "HTTPError")
    message = "not found" if error.status_code == 404 else str(error.detail)
    headers = getattr(error, "headers", None)
    return answer_error(request, ErrorReply(error.status_code, type_, message, headers=headers))


async def _on_store_unreachable(request: Request, error: Exception) -> Response:
    logger.error("store error: %s", error)
    unreachable = StoreError("the store cannot be reached now; try again later")
    return answer_error(request, kehu_error_reply(unreachable))


async def _on_stale_write(request: Request, error: Exception) -> Response:
    # A row changed (or went) between this request reading it and writing it: a write that
    # raced another one. The domain turns the races it expects into ConflictError with its own
    # reason; this is the net under the rest, so that a lost race is never a 500.
    logger.info("stale write: %s", error)
    stale = ConflictError(
        "someone else changed this record at the same moment; load it again and retry"
    )
    return answer_error(request, kehu_error_reply(stale))


async def _on_unexpected(request: Request, error: Exception) -> Response:
    logger.error("unexpected error", exc_info=error)
    return answer_error(request, ErrorReply(500, "InternalError", "internal error"))


def install_error_handlers(app: FastAPI) -> None:
    """Register the map on ``app`` (``create_app`` does it)."""
    app.add_exception_handler(KehuError, _on_kehu_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(OperationalError, _on_store_unreachable)
    app.add_exception_handler(StaleDataError, _on_stale_write)
    app.add_exception_handler(Exception, _on_unexpected)

"""The one map from errors to HTTP responses, and the one error body.

Every error the API returns has the body ``{"error": {"type", "message", "field"?, "row"?}}``:
``type`` is the name of the :mod:`kehu.errors` class (or of the HTTP condition), ``field`` names
the request field at fault (body, query, path or header) when there is one.

    NotFoundError 404 · ConflictError 409 · InputError 422 · AuthenticationError 401 ·
    PermissionDeniedError 403 · RateLimitedError 429 (Retry-After) · StoreError 503 ·
    ModelError 422 · ConfigurationError 500 · request validation 422 · oversized body 413
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kehu.errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InputError,
    KehuError,
    ModelError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    StoreError,
)

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


def status_for(error: KehuError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
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


def error_response(
    status: int,
    type_: str,
    message: str,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        error_body(type_, message, field=field, **extra), status_code=status, headers=headers
    )


def kehu_error_response(error: KehuError) -> JSONResponse:
    status = status_for(error)
    headers: dict[str, str] = {}
    field: str | None = None
    row: int | None = None
    message = str(error)
    if isinstance(error, InputError):
        field, row = error.column, error.row
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
    body = error_body(type(error).__name__, message, field=field, row=row)
    return JSONResponse(body, status_code=status, headers=headers or None)


def _field_of(location: tuple[Any, ...] | list[Any]) -> str | None:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:]
    return ".".join(parts) or None


async def _on_kehu_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, KehuError)
    return kehu_error_response(error)


async def _on_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": _field_of(item.get("loc", ())), "message": str(item.get("msg", "invalid"))}
        for item in error.errors()
    ]
    first = problems[0] if problems else {"field": None, "message": "invalid request"}
    field = first["field"]
    message = f"{field}: {first['message']}" if field else str(first["message"])
    return error_response(422, "InputError", message, field=field, details=problems)


async def _on_http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    type_ = _HTTP_TYPES.get(error.status_code, "HTTPError")
    message = "not found" if error.status_code == 404 else str(error.detail)
    return error_response(
        error.status_code, type_, message, headers=getattr(error, "headers", None)
    )


async def _on_store_unreachable(_request: Request, error: Exception) -> JSONResponse:
    logger.error("store error: %s", error)
    return error_response(503, "StoreError", "the store cannot be reached now; try again later")


async def _on_unexpected(_request: Request, error: Exception) -> JSONResponse:
    logger.error("unexpected error", exc_info=error)
    return error_response(500, "InternalError", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    """Register the map on ``app`` (``create_app`` does it)."""
    app.add_exception_handler(KehuError, _on_kehu_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(OperationalError, _on_store_unreachable)
    app.add_exception_handler(Exception, _on_unexpected)

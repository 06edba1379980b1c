"""Dependencies for every router: the store session, the acting principal, pagination, sorting.

A router module uses them like this::

    from fastapi import APIRouter
    from kehu.http.deps import CurrentPrincipal, DbSession, PageParams, Pagination, page_of, sort_by

    router = APIRouter(prefix="/api/things", tags=["things"])

    @router.get("")
    def list_things(session: DbSession, principal: CurrentPrincipal, paging: Pagination,
                    sort: str = "-created_at") -> Page[ThingOut]:
        statement = scoped(select(Thing), principal, Thing)
        order = sort_by(sort, {"created_at": Thing.created_at}, default="-created_at",
                        tiebreak=Thing.id)
        return page_of(session, statement, paging, order, ThingOut.model_validate)

and is listed once in :data:`kehu.api.routers.ROUTERS`. ``sort_by`` is the platform's
(:func:`kehu.core.sorting.sort_by`, which the domains' list queries use too): an unknown sort key
is an ``InputError`` naming ``sort``, which the error map answers with 422.

``DbSession`` is one transaction per request, committed when the endpoint returns (before the
response is sent, so a failed commit is an error response, never a lost write), rolled back on any
error. ``CurrentPrincipal`` authenticates the request (bearer API token, or session cookie plus a
CSRF token on unsafe methods) and is the principal to hand to ``scoped()`` and ``require()``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import BackgroundTasks, Depends, Query, Request, params
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from kehu.core.auth import Principal, require
from kehu.core.auth.scoping import AnySelect
from kehu.core.config import Settings
from kehu.core.sorting import sort_by as sort_by
from kehu.core.users import service as users
from kehu.core.users.tables import ApiToken, User, WebSession
from kehu.errors import AuthenticationError, InputError, PermissionDeniedError
from kehu.store.bounds import MAX_PAGE
from kehu.store.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_HEADER = "X-CSRF-Token"

T = TypeVar("T")


def get_database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def open_request_session(
    request: Request, database: Annotated[Database, Depends(get_database)]
) -> Iterator[Session]:
    """The request's one store session (web pages and API routes share it); read-only for safe
    methods, so that reading pages never waits for a writer."""
    with database.session(read_only=request.method in SAFE_METHODS) as session:
        yield session


DbSession = Annotated[Session, Depends(open_request_session, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


@dataclass(frozen=True)
class Authenticated:
    """Who made the request and how."""

    principal: Principal
    user: User
    method: Literal["token", "session"]
    web_session: WebSession | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthenticationError("use 'Authorization: Bearer <API token>'")
    return credentials.strip()


def _route_takes_a_form(request: Request) -> bool:
    route = request.scope.get("route")
    body = route.body_field if isinstance(route, APIRoute) else None
    return body is not None and isinstance(body.field_info, params.Form)


async def _sent_csrf_token(request: Request) -> str:
    """The CSRF token a request carries: the ``X-CSRF-Token`` header, or an HTML form's
    ``csrf_token`` field (``application/x-www-form-urlencoded``, which every page form is).
    A multipart body is read only when the route takes a form itself (the ticket page's reply
    with a file): FastAPI parsed that form before the dependencies and closes its files after
    the response, so reading it here opens nothing more. Sent to any other route it is not read
    (nothing would close a form only a dependency parsed); send the header with it."""
    sent = request.headers.get(CSRF_HEADER)
    if sent is not None:
        return sent
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded") or (
        content_type.startswith("multipart/form-data") and _route_takes_a_form(request)
    ):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else ""
    return ""


def _authenticate(
    request: Request, database: Database, settings: Settings, sent_csrf: str
) -> tuple[Authenticated, users.LastSeen | None]:
    """Who is asking, and the last-use time to record afterwards. Authentication only reads, in
    a read-only transaction of its own that ends before the endpoint's unit of work begins (on
    SQLite a write request's transaction holds the one write lock from its start; a use case
    that commits on its own, such as a public form counting refused attempts, must not wait
    behind it)."""
    with database.session(read_only=True) as session:
        return _identify(request, session, settings, sent_csrf)


def _identify(
    request: Request, session: Session, settings: Settings, sent_csrf: str
) -> tuple[Authenticated, users.LastSeen | None]:
    secret = _bearer(request)
    if secret is not None:
        principal = users.resolve_api_token(session, secret)
        user = session.get(User, principal.user_id)
        assert user is not None and principal.token_id is not None
        token = session.get(ApiToken, principal.token_id)
        assert token is not None
        seen = users.last_seen_due("api_token", token.id, token.last_used_at, settings)
        return Authenticated(principal, user, "token"), seen
    cookie = request.cookies.get(settings.session_cookie_name)
    if not cookie:
        raise AuthenticationError("log in, or send an API token")
    user, web_session = users.resolve_web_session(session, cookie, settings)
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
        sent_csrf.encode(), web_session.csrf_token.encode()
    ):
        raise PermissionDeniedError(
            f"missing or wrong CSRF token: send the session's token in {CSRF_HEADER} "
            "(or a form's csrf_token field)"
        )
    seen = users.last_seen_due("web_session", web_session.id, web_session.last_seen_at, settings)
    authenticated = Authenticated(users.principal_for(session, user), user, "session", web_session)
    return authenticated, seen


def identify_caller(
    request: Request, database: Database, settings: Settings, sent_csrf: str
) -> Authenticated | None:
    """Who is asking, by the same checks as :func:`authenticate` (a revoked or expired token, an
    ended session or a wrong CSRF token identify nobody), or ``None``; nothing is recorded. The
    idempotency middleware keys remembered responses by it, so that only the caller the first
    request was answered for gets the answer again."""
    try:
        authenticated, _seen = _authenticate(request, database, settings, sent_csrf)
    except (AuthenticationError, PermissionDeniedError):
        return None
    return authenticated


async def authenticate(
    request: Request,
    settings: AppSettings,
    database: Annotated[Database, Depends(get_database)],
    after_response: BackgroundTasks,
) -> Authenticated:
    """Authenticate the request: an API token (``Authorization: Bearer``) or a session cookie.
    Cookie-authenticated unsafe requests must carry the session's CSRF token (header
    ``X-CSRF-Token`` or form field ``csrf_token``); token-authenticated ones need none (no
    browser sends a bearer token by itself).

    Authentication only reads: the session's or token's last-use time, when it is due, is
    recorded after the response is sent, in a transaction of its own (see
    :class:`kehu.core.users.service.LastSeen`)."""
    cached = getattr(request.state, "authenticated", None)
    if isinstance(cached, Authenticated):
        return cached
    # A bearer token needs no CSRF token (no browser sends one by itself).
    needs_csrf = request.method not in SAFE_METHODS and "authorization" not in request.headers
    sent = await _sent_csrf_token(request) if needs_csrf else ""
    result, seen = await run_in_threadpool(_authenticate, request, database, settings, sent)
    if seen is not None:
        after_response.add_task(users.record_last_seen, database, seen)
    request.state.authenticated = result
    request.state.principal = result.principal
    request.state.csrf_token = result.web_session.csrf_token if result.web_session else ""
    return result


async def optional_principal(
    request: Request,
    settings: AppSettings,
    database: Annotated[Database, Depends(get_database)],
    after_response: BackgroundTasks,
) -> Principal | None:
    """The principal, or ``None`` when the request carries no valid credentials (for pages
    that show a login link instead of failing). A wrong CSRF token is still refused (403)."""
    try:
        return (await authenticate(request, settings, database, after_response)).principal
    except AuthenticationError:
        return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, for forms (after ``authenticate``/``optional_principal``
    ran in the same request; empty otherwise)."""
    token = getattr(request.state, "csrf_token", "")
    return token if isinstance(token, str) else ""


Authentication = Annotated[Authenticated, Depends(authenticate)]


def current_principal(authenticated: Authentication) -> Principal:
    return authenticated.principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_permission(permission: str) -> Callable[[Principal], Principal]:
    """A dependency that authenticates and requires ``permission``:
    ``principal: Principal = Depends(require_permission("users:admin"))``."""

    def dependency(principal: CurrentPrincipal) -> Principal:
        require(principal, permission)
        return principal

    return dependency


# --- pagination and sorting --------------------------------------------------------------------


@dataclass(frozen=True)
class PageParams:
    page: int
    page_size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


def page_params(
    settings: AppSettings,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="1-based page number")] = 1,
    page_size: Annotated[
        int, Query(ge=1, description="rows per page (the maximum is a setting)")
    ] = 50,
) -> PageParams:
    if page_size > settings.api_max_page_size:
        raise InputError(
            f"at most {settings.api_max_page_size} rows per page",
            column="page_size",
            value=page_size,
        )
    return PageParams(page, page_size)


Pagination = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list: ``total`` counts every row that matches the filters."""

    items: list[T]
    total: int
    page: int
    page_size: int


def page_of(
    session: Session,
    statement: AnySelect,
    paging: PageParams,
    order_by: Sequence[Any],
    convert: Callable[[Any], T],
    *,
    scalars: bool = True,
) -> Page[T]:
    """Run ``statement`` for one page (and count all its rows); ``convert`` turns each row (or
    scalar, by default) into the output model."""
    total = session.execute(
        select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    paged = statement.order_by(*order_by).limit(paging.page_size).offset(paging.offset)
    result = session.execute(paged)
    rows = result.scalars().all() if scalars else result.all()
    return Page(
        items=[convert(row) for row in rows],
        total=int(total),
        page=paging.page,
        page_size=paging.page_size,
    )

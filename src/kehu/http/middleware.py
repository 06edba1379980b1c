"""ASGI middleware of the API: request body limit, idempotent writes, security headers.

Order (outermost first): security headers -> body limit -> complete multipart bodies ->
idempotency -> the routes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, State
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kehu.core.config import Settings
from kehu.core.idempotency import IdempotencyRecord
from kehu.http.client_address import client_address
from kehu.http.deps import CSRF_HEADER, identify_caller
from kehu.http.errors import ErrorReply, answer_error, error_body
from kehu.store.base import utc_now
from kehu.store.db import Database

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Response headers kept with a remembered response (Set-Cookie never is).
_KEPT_HEADERS = frozenset({"content-type", "location", "etag", "content-language"})
#: Responses that are not remembered: the same request may well succeed when sent again.
_NOT_KEPT_STATUSES = frozenset({401, 403, 429})


async def _send_error(scope: Scope, receive: Receive, send: Send, reply: ErrorReply) -> None:
    """Answer with ``reply`` as the error map writes it: the JSON body for the API, the error
    page in the visitor's language for a page (these middlewares run outside the app's
    exception handlers, so they answer through the same function the handlers use)."""
    response = answer_error(Request(scope, receive), reply)
    await response(scope, receive, send)


def _receiving_first(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body`` (already read whole) first, then whatever
    ``receive`` brings (a disconnect)."""
    delivered = False

    async def receive_body_first() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return receive_body_first


class BodyTooLarge(HTTPException):
    """Raised while reading a body past the limit; an ``HTTPException`` so that FastAPI's body
    reading passes it on to the error map (413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """Refuse request bodies larger than ``max_bytes`` with 413 (by Content-Length up front,
    and by counting while the body streams in). File uploads (paths matching
    ``upload_paths``) may be as large as ``upload_max_bytes``; the route then checks the file
    against its own limit and names the field."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        upload_max_bytes: int | None = None,
        upload_paths: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = max(upload_max_bytes or max_bytes, max_bytes)
        self.upload_paths = upload_paths

    def _limit(self, path: str) -> int:
        if self.upload_paths is not None and self.upload_paths.fullmatch(path):
            return self.upload_max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope.get("path", ""))
        too_large = BodyTooLarge(limit)
        length = Headers(scope=scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            await _send_error(
                scope, receive, send, ErrorReply(413, "PayloadTooLarge", str(too_large.detail))
            )
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _send_error(
                scope, receive, send, ErrorReply(413, "PayloadTooLarge", str(too_large.detail))
            )


class CompleteMultipartMiddleware:
    """Refuse a ``multipart/form-data`` body that does not end its last part (no closing
    ``--boundary--``) with 400, before the form parser sees it. Starlette's parser takes such a
    body as a form without its unfinished part (answering "field required") and leaves that
    part's temporary file open. The body is read whole first; the body limit in front bounds it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        boundary = self._boundary(scope) if scope["type"] == "http" else None
        if boundary is None:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: let the app see what it sent
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        closing = b"--" + boundary + b"--"
        if not (body.startswith(closing) or b"\r\n" + closing in body):
            await _send_error(
                scope,
                receive,
                send,
                ErrorReply(
                    400,
                    "BadRequest",
                    "the multipart body is incomplete: its closing boundary is missing",
                ),
            )
            return
        await self.app(scope, _receiving_first(body, receive), send)

    @staticmethod
    def _boundary(scope: Scope) -> bytes | None:
        content_type = Headers(scope=scope).get("content-type", "")
        kind, _, parameters = content_type.partition(";")
        if kind.strip().lower() != "multipart/form-data":
            return None
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.lower() == "boundary" and value.strip('"'):
                return value.strip('"').encode("latin-1", "replace")
        return None  # no boundary: the parser refuses it itself


class SecurityHeadersMiddleware:
    """Conservative headers on every response (pages may loosen the CSP for themselves)."""

    HEADERS = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in self.HEADERS if name not in names]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass(frozen=True)
class _Caller:
    """Whom a keyed write is remembered for: ``key`` keeps each user's (or each anonymous
    address's) keys apart; ``authority`` digests what the caller may do (roles, teams, the
    token's scopes) when the request is made."""

    key: str
    authority: str


@dataclass(frozen=True)
class _Claim:
    kind: str  # "new", "replay", "mismatch", "in_progress", "other_authority"
    record_id: int | None = None
    status: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


class IdempotencyMiddleware:
    """Every write (POST/PUT/PATCH/DELETE) may carry ``Idempotency-Key``.

    The first request with a key (per user) is handled and its response -- status, body and the
    headers that matter -- is remembered with a digest of the request (method, path, query,
    body, user) before it is sent, so that a retry sent as soon as the answer arrived finds it.
    Sending the same key again returns that response (with ``Idempotent-Replayed: true``)
    without running the write again; the same key with a different request is refused with 422;
    a key whose first request is still running gets 409.

    A replay authenticates like any request: the caller is identified by the same checks as the
    routes (a revoked or expired token, an ended session or a wrong CSRF token identify nobody,
    and so never find a user's remembered answers), and a caller whose rights changed since the
    first request (role, teams, token scopes) gets 409 instead of the answer. An answer that
    holds a secret shown once (``Cache-Control: no-store``: a new API token, a status link) is
    not kept: its replay says the request was handled and the secret is not shown again.
    Responses to 401/403/429, server errors and responses that set cookies are not remembered
    (the key is released). Keys are forgotten after ``settings.idempotency_key_hours``.
    """

    def __init__(self, app: ASGIApp, state: State) -> None:
        self.app = app
        self.state = state

    # the store and settings of the app served (``app.state``), the same ones its routes read
    @property
    def database(self) -> Database:
        database: Database = self.state.database
        return database

    @property
    def settings(self) -> Settings:
        settings: Settings = self.state.settings
        return settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            await self.app(scope, receive, send)
            return
        if not 0 < len(key) <= 255 or not key.isascii() or not key.isprintable():
            await _send_error(
                scope,
                receive,
                send,
                ErrorReply(
                    422,
                    "InputError",
                    "an Idempotency-Key is 1 to 255 printable ASCII characters",
                    field=IDEMPOTENCY_HEADER,
                ),
            )
            return

        body = await self._read_body(receive)
        caller = await run_in_threadpool(self._caller, scope, body)
        request_digest = self._digest(scope, caller.key, body)
        claim = await run_in_threadpool(
            self._claim, caller, key, request_digest, scope["method"], scope["path"]
        )
        if claim.kind == "mismatch":
            await _send_error(
                scope,
                receive,
                send,
                ErrorReply(
                    422,
                    "InputError",
                    "Idempotency-Key reused with a different request",
                    field=IDEMPOTENCY_HEADER,
                ),
            )
            return
        if claim.kind == "other_authority":
            await _send_error(
                scope,
                receive,
                send,
                ErrorReply(
                    409,
                    "ConflictError",
                    "the first request with this Idempotency-Key was made with other rights "
                    "(your role, teams or token scopes have changed since); its answer is not "
                    "given again: send the request with a new key",
                    field=IDEMPOTENCY_HEADER,
                ),
            )
            return
        if claim.kind == "in_progress":
            await _send_error(
                scope,
                receive,
                send,
                ErrorReply(
                    409,
                    "ConflictError",
                    "a request with this Idempotency-Key is still being handled; retry later",
                    headers={"Retry-After": "1"},
                ),
            )
            return
        if claim.kind == "replay":
            await self._replay(send, claim)
            return
        assert claim.record_id is not None
        await self._handle_first(scope, receive, send, body, claim.record_id)

    @staticmethod
    async def _read_body(receive: Receive) -> bytes:
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    return b"".join(chunks)
            elif message["type"] == "http.disconnect":
                return b"".join(chunks)

    def _caller(self, scope: Scope, body: bytes) -> _Caller:
        request = Request(scope)
        authenticated = identify_caller(
            request, self.database, self.settings, self._sent_csrf(request, body)
        )
        if authenticated is None:
            # Nobody (public forms), or credentials the route will refuse: keyed by address, so
            # such a request never meets a user's remembered answers.
            address = client_address(request, self.settings)
            return _Caller(f"anonymous:{address}"[:100], _digest_of("anonymous"))
        principal = authenticated.principal
        authority = _digest_of(
            ",".join(sorted(principal.roles)),
            ",".join(str(team) for team in sorted(principal.team_ids)),
            ",".join(sorted(principal.permissions)),
        )
        return _Caller(f"user:{principal.user_id}", authority)

    @staticmethod
    def _sent_csrf(request: Request, body: bytes) -> str:
        """The CSRF token the request carries: the header, or an urlencoded form's field."""
        sent = request.headers.get(CSRF_HEADER)
        if sent is not None:
            return sent
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            try:
                fields = parse_qs(body.decode("latin-1"), max_num_fields=1000)
            except ValueError:  # more fields than any form of ours: no token found here
                return ""
            return (fields.get("csrf_token") or [""])[0]
        return ""

    @staticmethod
    def _digest(scope: Scope, principal_key: str, body: bytes) -> str:
        return _digest_of(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            principal_key,
            body,
        )

    def _claim(
        self, caller: _Caller, key: str, request_digest: str, method: str, path: str
    ) -> _Claim:
        now = utc_now()
        for _attempt in range(3):
            with self.database.session() as session:
                record = session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.principal_key == caller.key,
                        IdempotencyRecord.key == key,
                    )
                ).scalar_one_or_none()
                if record is not None and record.expires_at <= now:
                    session.delete(record)
                    session.flush()
                    record = None
                if record is not None:
                    if record.request_digest != request_digest:
                        return _Claim("mismatch")
                    if record.authority_digest != caller.authority:
                        return _Claim("other_authority")
                    if record.status_code is None:
                        return _Claim("in_progress")
                    return _Claim(
                        "replay",
                        status=record.status_code,
                        headers=record.response_headers,
                        body=record.response_body,
                    )
                try:
                    with session.begin_nested():
                        record = IdempotencyRecord(
                            principal_key=caller.key,
                            key=key,
                            request_digest=request_digest,
                            authority_digest=caller.authority,
                            method=method,
                            path=path[:2000],
                            created_at=now,
                            expires_at=now + timedelta(hours=self.settings.idempotency_key_hours),
                        )
                        session.add(record)
                except IntegrityError:
                    continue  # someone else claimed it just now: look again
                return _Claim("new", record_id=record.id)
        return _Claim("in_progress")

    @staticmethod
    async def _replay(send: Send, claim: _Claim) -> None:
        body = claim.body or b""
        headers = [
            (name.encode("latin-1"), value.encode("latin-1")) for name, value in claim.headers or []
        ]
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"idempotent-replayed", b"true"))
        assert claim.status is not None
        await send({"type": "http.response.start", "status": claim.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle_first(
        self, scope: Scope, receive: Receive, send: Send, body: bytes, record_id: int
    ) -> None:
        # The answer is held back until it is complete and remembered (or the key released):
        # sent first, a retry made the moment it arrived could find the key still in progress.
        start: Message | None = None
        chunks: list[bytes] = []
        finished = False

        async def holding_send(message: Message) -> None:
            nonlocal start, finished
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or finished:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            finished = True
            assert start is not None
            await run_in_threadpool(self._settle, record_id, start, b"".join(chunks))
            await send(start)
            await send({"type": "http.response.body", "body": b"".join(chunks)})

        try:
            await self.app(scope, _receiving_first(body, receive), holding_send)
        except BaseException:
            if not finished:
                await run_in_threadpool(self._release, record_id)
            raise
        if not finished:  # the app ended without a complete answer
            await run_in_threadpool(self._release, record_id)

    def _settle(self, record_id: int, start: Message, body: bytes) -> None:
        """Remember the complete answer ``start`` + ``body``, or release the key."""
        status = int(start["status"])
        kept_headers: list[list[str]] = []
        sets_cookie = holds_secret = False
        for raw_name, raw_value in start.get("headers", []):
            name = raw_name.decode("latin-1").lower()
            value = raw_value.decode("latin-1")
            if name == "set-cookie":
                sets_cookie = True
            elif name == "cache-control" and "no-store" in value.lower():
                holds_secret = True
            if name in _KEPT_HEADERS:
                kept_headers.append([name, value])
        if status >= 500 or status in _NOT_KEPT_STATUSES or sets_cookie:
            self._release(record_id)
        elif holds_secret:
            self._remember(record_id, *_secret_withheld(status, kept_headers))
        else:
            self._remember(record_id, status, kept_headers, body)

    def _remember(self, record_id: int, status: int, headers: list[list[str]], body: bytes) -> None:
        with self.database.session() as session:
            record = session.get(IdempotencyRecord, record_id)
            if record is not None:
                record.status_code = status
                record.response_headers = headers
                record.response_body = body

    def _release(self, record_id: int) -> None:
        with self.database.session() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def _digest_of(*parts: str | bytes) -> str:
    """A digest of ``parts`` that keeps them apart (each is hashed on its own first)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part.encode() if isinstance(part, str) else part).digest())
    return digest.hexdigest()


def _secret_withheld(status: int, headers: list[list[str]]) -> tuple[int, list[list[str]], bytes]:
    """What is kept of an answer holding a secret shown once: that the request was handled
    (its status, and where the new resource is), never the secret. Replayed as 409."""
    location = next((value for name, value in headers if name == "location"), None)
    message = (
        f"this request was already handled (answered {status} {HTTPStatus(status).phrase}); "
        "its answer held a secret that is shown only once and was not kept"
    )
    extra: dict[str, Any] = {"first_status": status}
    if location is not None:
        extra["location"] = location
    payload = json.dumps(
        error_body("ConflictError", message, field=IDEMPOTENCY_HEADER, **extra),
        ensure_ascii=False,
    ).encode("utf-8")
    kept = [["content-type", "application/json"]]
    if location is not None:
        kept.append(["location", location])
    return 409, kept, payload

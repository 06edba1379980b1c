"""ASGI middleware of the API: request body limit, idempotent writes, security headers.

Order (outermost first): security headers -> body limit -> idempotency -> the routes.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kehu.api.errors import error_body
from kehu.api.tables import IdempotencyRecord
from kehu.config import Settings
from kehu.store.base import utc_now
from kehu.store.db import Database

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Response headers kept with a remembered response (Set-Cookie never is).
_KEPT_HEADERS = frozenset({"content-type", "location", "etag", "content-language"})
#: Responses that are not remembered: the same request may well succeed when sent again.
_NOT_KEPT_STATUSES = frozenset({401, 403, 429})


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


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
            await _send_json(send, 413, error_body("PayloadTooLarge", str(too_large.detail)))
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
            await _send_json(send, 413, error_body("PayloadTooLarge", str(too_large.detail)))


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
class _Claim:
    kind: str  # "new", "replay", "mismatch", "in_progress"
    record_id: int | None = None
    status: int | None = None
    headers: list[list[str]] | None = None
    body: bytes | None = None


class IdempotencyMiddleware:
    """Every write (POST/PUT/PATCH/DELETE) may carry ``Idempotency-Key``.

    The first request with a key (per user) is handled and its response -- status, body and the
    headers that matter -- is remembered with a digest of the request (method, path, query,
    body, user). Sending the same key again returns that response (with
    ``Idempotent-Replayed: true``) without running the write again; the same key with a
    different request is refused with 422; a key whose first request is still running gets 409.
    Responses to 401/403/429, server errors and responses that set cookies are not remembered
    (the key is released). Keys are forgotten after ``settings.idempotency_key_hours``.
    """

    def __init__(self, app: ASGIApp, database: Database, settings: Settings) -> None:
        self.app = app
        self.database = database
        self.settings = settings

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
            await _send_json(
                send,
                422,
                error_body(
                    "InputError",
                    "an Idempotency-Key is 1 to 255 printable ASCII characters",
                    field=IDEMPOTENCY_HEADER,
                ),
            )
            return

        body = await self._read_body(receive)
        principal_key = await run_in_threadpool(self._principal_key, scope, headers)
        request_digest = self._digest(scope, principal_key, body)
        claim = await run_in_threadpool(
            self._claim, principal_key, key, request_digest, scope["method"], scope["path"]
        )
        if claim.kind == "mismatch":
            await _send_json(
                send,
                422,
                error_body(
                    "InputError",
                    "Idempotency-Key reused with a different request",
                    field=IDEMPOTENCY_HEADER,
                ),
            )
            return
        if claim.kind == "in_progress":
            await _send_json(
                send,
                409,
                error_body(
                    "ConflictError",
                    "a request with this Idempotency-Key is still being handled; retry later",
                ),
                [(b"retry-after", b"1")],
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

    def _principal_key(self, scope: Scope, headers: Headers) -> str:
        from kehu.api.deps import identify_user

        cookies: dict[str, str] = {}
        if "cookie" in headers:
            parsed: SimpleCookie = SimpleCookie()
            try:
                parsed.load(headers["cookie"])
            except Exception:  # a malformed cookie header identifies nobody
                parsed = SimpleCookie()
            cookies = {name: morsel.value for name, morsel in parsed.items()}
        with self.database.session(read_only=True) as session:
            user_id = identify_user(session, headers, cookies, self.settings.session_cookie_name)
        if user_id is not None:
            return f"user:{user_id}"
        client = scope.get("client")
        return f"anonymous:{client[0] if client else 'unknown'}"[:100]

    @staticmethod
    def _digest(scope: Scope, principal_key: str, body: bytes) -> str:
        digest = hashlib.sha256()
        for part in (
            scope["method"].encode(),
            scope["path"].encode(),
            scope.get("query_string", b""),
            principal_key.encode(),
        ):
            digest.update(hashlib.sha256(part).digest())
        digest.update(hashlib.sha256(body).digest())
        return digest.hexdigest()

    def _claim(
        self, principal_key: str, key: str, request_digest: str, method: str, path: str
    ) -> _Claim:
        now = utc_now()
        for _attempt in range(3):
            with self.database.session() as session:
                record = session.execute(
                    select(IdempotencyRecord).where(
                        IdempotencyRecord.principal_key == principal_key,
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
                            principal_key=principal_key,
                            key=key,
                            request_digest=request_digest,
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
        delivered = False

        async def replay_receive() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status: int | None = None
        kept_headers: list[list[str]] = []
        sets_cookie = False
        chunks: list[bytes] = []

        async def capturing_send(message: Message) -> None:
            nonlocal status, sets_cookie
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for raw_name, raw_value in message.get("headers", []):
                    name = raw_name.decode("latin-1").lower()
                    if name == "set-cookie":
                        sets_cookie = True
                    elif name in _KEPT_HEADERS:
                        kept_headers.append([name, raw_value.decode("latin-1")])
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_receive, capturing_send)
        except BaseException:
            await run_in_threadpool(self._release, record_id)
            raise
        keep = (
            status is not None
            and status < 500
            and status not in _NOT_KEPT_STATUSES
            and not sets_cookie
        )
        if keep:
            await run_in_threadpool(
                self._remember, record_id, status, kept_headers, b"".join(chunks)
            )
        else:
            await run_in_threadpool(self._release, record_id)

    def _remember(
        self, record_id: int, status: int | None, headers: list[list[str]], body: bytes
    ) -> None:
        with self.database.session() as session:
            record = session.get(IdempotencyRecord, record_id)
            if record is not None:
                record.status_code = status
                record.response_headers = headers
                record.response_body = body

    def _release(self, record_id: int) -> None:
        with self.database.session() as session:
            session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))


def purge_expired_idempotency_keys(database: Database) -> int:
    """Delete forgotten keys (for ``kehu worker``'s housekeeping)."""
    with database.session() as session:
        result = session.execute(
            delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= utc_now())
        )
        return int(getattr(result, "rowcount", 0) or 0)

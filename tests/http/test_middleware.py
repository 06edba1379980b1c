"""The shared middlewares (kehu.http.middleware) on a small FastAPI app of the test's own, in
kehu's order: security headers -> body limit -> complete multipart bodies -> the routes (the
idempotency middleware answers on the store: tests/api/test_idempotency.py, and its one test
without an app below). tests/api/test_errors.py and test_multipart_bodies.py check the same
middlewares as kehu's app wires them."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI, Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.datastructures import State
from starlette.types import Message, Receive, Scope, Send

from kehu.core.config import Settings
from kehu.core.idempotency import IdempotencyRecord
from kehu.http.errors import install_error_handlers
from kehu.http.middleware import (
    BodyLimitMiddleware,
    CompleteMultipartMiddleware,
    IdempotencyMiddleware,
    SecurityHeadersMiddleware,
)
from kehu.store.db import Database

LIMIT = 100
UPLOAD_LIMIT = 1_000
UPLOADS = re.compile(r"/api/files/\d+")
TOO_LARGE = {"type": "PayloadTooLarge", "message": f"the request body is larger than {LIMIT} bytes"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


def small_app(received: list[bytes], *, upload_max_bytes: int | None = UPLOAD_LIMIT) -> FastAPI:
    """An app whose routes record the bodies they read, behind kehu's middlewares."""
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/api/echo")
    async def echo(request: Request) -> dict[str, int]:
        body = await request.body()
        received.append(body)
        return {"length": len(body)}

    @app.post("/api/files/{number}")
    async def upload(number: int, request: Request) -> dict[str, int]:
        body = await request.body()
        received.append(body)
        return {"length": len(body)}

    @app.post("/api/form")
    async def form(request: Request) -> dict[str, str]:
        fields = await request.form()
        received.append(b"form")
        return {name: str(value) for name, value in fields.items()}

    @app.get("/api/framed")
    def framed() -> Response:
        return Response("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    @app.get("/api/plain")
    def plain() -> dict[str, bool]:
        return {"ok": True}

    app.add_middleware(CompleteMultipartMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=LIMIT,
        upload_max_bytes=upload_max_bytes,
        upload_paths=UPLOADS,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app


@pytest.fixture
def received() -> list[bytes]:
    return []


@pytest.fixture
def client(received: list[bytes]) -> Iterator[TestClient]:
    with TestClient(small_app(received)) as client:
        yield client


def chunks(size: int, count: int) -> Iterator[bytes]:
    """A body sent without Content-Length."""
    for _ in range(count):
        yield b"x" * size


# -- the body limit ---------------------------------------------------------------------------


def test_a_body_up_to_the_limit_reaches_the_route(
    client: TestClient, received: list[bytes]
) -> None:
    response = client.post("/api/echo", content=b"x" * LIMIT)
    assert response.status_code == 200 and response.json() == {"length": LIMIT}
    assert received == [b"x" * LIMIT]


def test_a_content_length_over_the_limit_is_413_before_the_route(
    client: TestClient, received: list[bytes]
) -> None:
    response = client.post("/api/echo", content=b"x" * (LIMIT + 1))
    assert response.status_code == 413
    assert response.json() == {"error": TOO_LARGE}
    assert received == []


def test_a_streamed_body_is_counted_as_it_arrives(
    client: TestClient, received: list[bytes]
) -> None:
    over = client.post("/api/echo", content=chunks(30, 4))  # 120 bytes, no Content-Length
    assert over.status_code == 413 and over.json() == {"error": TOO_LARGE}
    under = client.post("/api/echo", content=chunks(25, 4))  # 100 bytes
    assert under.status_code == 200 and under.json() == {"length": 100}
    assert received == [b"x" * 100]


def test_a_streamed_body_is_refused_also_when_the_app_reads_it_raw() -> None:
    """An app outside FastAPI's body reading: the middleware itself answers 413."""
    read: list[int] = []

    async def raw(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            read.append(len(message.get("body", b"")))
            if not message.get("more_body", False):
                break
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = FastAPI()
    app.mount("/", BodyLimitMiddleware(raw, max_bytes=LIMIT))
    with TestClient(app) as client:
        response = client.post("/anything", content=chunks(60, 3))
    assert response.status_code == 413 and response.json() == {"error": TOO_LARGE}
    assert sum(read) <= LIMIT  # the chunk past the limit never reached the app


def test_an_upload_path_may_carry_the_upload_limit(
    client: TestClient, received: list[bytes]
) -> None:
    upload = client.post("/api/files/7", content=b"x" * UPLOAD_LIMIT)
    assert upload.status_code == 200 and upload.json() == {"length": UPLOAD_LIMIT}
    streamed = client.post("/api/files/7", content=chunks(100, 10))
    assert streamed.status_code == 200
    too_large = client.post("/api/files/7", content=b"x" * (UPLOAD_LIMIT + 1))
    assert too_large.status_code == 413
    assert too_large.json()["error"]["message"] == (
        f"the request body is larger than {UPLOAD_LIMIT} bytes"
    )
    assert len(received) == 2


@pytest.mark.parametrize(
    "path", ["/api/echo", "/api/files/x", "/api/files/7/more", "/x/api/files/7"]
)
def test_only_a_path_matching_the_whole_pattern_is_an_upload(client: TestClient, path: str) -> None:
    response = client.post(path, content=b"x" * (LIMIT + 1))
    assert response.status_code == 413 and response.json() == {"error": TOO_LARGE}


def test_the_upload_limit_is_never_below_the_body_limit(received: list[bytes]) -> None:
    with TestClient(small_app(received, upload_max_bytes=10)) as client:
        assert client.post("/api/files/7", content=b"x" * LIMIT).status_code == 200
        assert client.post("/api/files/7", content=b"x" * (LIMIT + 1)).status_code == 413
    with TestClient(small_app(received, upload_max_bytes=None)) as client:
        assert client.post("/api/files/7", content=b"x" * (LIMIT + 1)).status_code == 413


# -- security headers -------------------------------------------------------------------------


def test_every_response_gets_the_security_headers(client: TestClient) -> None:
    answers = [
        client.get("/api/plain"),
        client.get("/api/nothing-here"),  # 404 of the router
        client.post("/api/echo", content=b"x" * (LIMIT + 1)),  # 413 of the body limit
        client.post("/api/form", content=b"--b\r\n", headers={"content-type": MULTIPART}),
    ]
    assert [a.status_code for a in answers] == [200, 404, 413, 400]
    for answer in answers:
        assert {name: answer.headers.get(name) for name in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_header_the_route_set_itself_is_kept_and_not_doubled(client: TestClient) -> None:
    response = client.get("/api/framed")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


# -- complete multipart bodies ----------------------------------------------------------------

MULTIPART = "multipart/form-data; boundary=b"
FIELD = b'--b\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello'


@pytest.mark.parametrize(
    "body",
    [FIELD, FIELD + b"\r\n--b\r\n", FIELD + b"\r\n--b-", b"--b-", b""],
    ids=["in the data", "after a delimiter", "half a closing", "half a lone closing", "empty"],
)
def test_a_multipart_body_without_its_closing_boundary_is_400(
    client: TestClient, received: list[bytes], body: bytes
) -> None:
    response = client.post("/api/form", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "type": "BadRequest",
            "message": "the multipart body is incomplete: its closing boundary is missing",
        }
    }
    assert received == []


def test_a_complete_multipart_body_reaches_the_route_whole(
    client: TestClient, received: list[bytes]
) -> None:
    body = FIELD + b"\r\n--b--\r\n"
    response = client.post("/api/form", content=body, headers={"content-type": MULTIPART})
    assert response.status_code == 200 and response.json() == {"note": "hello"}
    # streamed in pieces: read whole by the middleware, handed on as one
    pieces = iter([body[:7], body[7:20], body[20:]])
    streamed = client.post("/api/form", content=pieces, headers={"content-type": MULTIPART})
    assert streamed.status_code == 200 and streamed.json() == {"note": "hello"}
    lone = client.post("/api/form", content=b"--b--\r\n", headers={"content-type": MULTIPART})
    assert lone.status_code == 200 and lone.json() == {}
    assert received == [b"form"] * 3


@pytest.mark.parametrize(
    "content_type",
    ['multipart/form-data; boundary="b"', "Multipart/Form-Data; charset=utf-8; BOUNDARY=b"],
    ids=["quoted", "spelled otherwise"],
)
def test_the_boundary_is_read_as_the_header_writes_it(
    client: TestClient, content_type: str
) -> None:
    headers = {"content-type": content_type}
    assert client.post("/api/form", content=FIELD, headers=headers).status_code == 400
    complete = client.post("/api/form", content=FIELD + b"\r\n--b--", headers=headers)
    assert complete.status_code == 200 and complete.json() == {"note": "hello"}


@pytest.mark.parametrize(
    "content_type", ["application/json", "multipart/form-data", "multipart/mixed; boundary=b"]
)
def test_other_bodies_pass_untouched(
    client: TestClient, received: list[bytes], content_type: str
) -> None:
    """Not multipart/form-data, or no boundary to look for (the form parser refuses that
    itself): the body reaches the route as it was sent."""
    response = client.post("/api/echo", content=FIELD, headers={"content-type": content_type})
    assert response.status_code == 200 and received == [FIELD]


# -- idempotency without an app ---------------------------------------------------------------


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(_env_file=None, database_url=database.url)  # type: ignore[call-arg]


def test_the_answer_is_remembered_before_its_first_byte_is_sent(
    database: Database, settings: Settings
) -> None:
    """A retry sent the moment the first answer arrives must find it remembered, not "still
    being handled" (seen 1 in 30 on SQLite, 4 in 30 on PostgreSQL when the answer was sent
    first and remembered after)."""

    async def created(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send(
            {
                "type": "http.response.start",
                "status": 201,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b'{"id": 1}'})

    middleware = IdempotencyMiddleware(created, State({"database": database, "settings": settings}))
    seen_at_start: list[int | None] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            with database.session() as session:
                seen_at_start.extend(session.execute(select(IdempotencyRecord.status_code)))

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/public/complaints",
        "raw_path": b"/api/public/complaints",
        "query_string": b"",
        "headers": [(b"idempotency-key", b"early-retry"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "scheme": "http",
        "root_path": "",
        "http_version": "1.1",
    }
    asyncio.run(middleware(scope, receive, send))
    assert [row[0] for row in seen_at_start] == [201]

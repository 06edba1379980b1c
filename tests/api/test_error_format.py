"""Which form an error answer takes (kehu.http.error_format), and that the API's stays JSON.

One map (``kehu.http.errors``) answers the API and the pages; for ``/api/...`` it answers with the
same JSON body as ever, whatever the client's ``Accept`` (the pages' side is tested in
``tests/web/test_error_pages.py``).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from kehu.errors import ConflictError, InputError, KehuError, StoreError
from kehu.http.error_format import quality, wants_page
from kehu.http.errors import STATUS_BY_ERROR, status_for

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


def _request(path: str, accept: str | None = None, root_path: str = "") -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request(
        {"type": "http", "method": "GET", "path": path, "root_path": root_path, "headers": headers}
    )


@pytest.mark.parametrize(
    ("path", "accept", "page"),
    [
        ("/login", BROWSER, True),
        ("/login", None, True),
        ("/login", "*/*", True),  # curl, fetch, htmx, test clients
        ("/customers/3", "text/*", True),
        ("/no-such-page", "application/json", False),
        ("/healthz", "application/json, text/html;q=0.5", False),
        ("/healthz", "text/html, application/json", True),
        ("/api/customers", BROWSER, False),  # the API answers JSON whatever is asked
        ("/api/customers", "text/html", False),
        ("/api", "text/html", False),
        ("/apiary", BROWSER, True),  # not the API
    ],
)
def test_which_requests_get_a_page(path: str, accept: str | None, page: bool) -> None:
    assert wants_page(_request(path, accept)) is page


def test_the_api_prefix_is_found_behind_a_root_path() -> None:
    assert wants_page(_request("/kehu/api/customers", BROWSER, root_path="/kehu")) is False
    assert wants_page(_request("/kehu/login", BROWSER, root_path="/kehu")) is True


@pytest.mark.parametrize(
    ("accept", "media_type", "expected"),
    [
        (BROWSER, "text/html", 1.0),
        (BROWSER, "application/json", 0.8),
        ("text/*;q=0.4, */*;q=0.1", "text/html", 0.4),  # the most specific range decides
        ("text/html;q=0, */*", "text/html", 0.0),
        ("image/png", "text/html", 0.0),
        ("TEXT/HTML; Q=0.7", "text/html", 0.7),
        ("text/html;q=nonsense", "text/html", 1.0),  # a malformed weight is ignored
        ("text/html;q=nan", "text/html", 1.0),
        ("text/html;q=7", "text/html", 1.0),
        ("", "text/html", 0.0),
    ],
)
def test_accept_weights(accept: str, media_type: str, expected: float) -> None:
    assert quality(accept, media_type) == expected


def test_the_map_gives_each_error_its_status_once() -> None:
    class LateArrival(ConflictError):
        pass

    assert status_for(LateArrival("x")) == STATUS_BY_ERROR[ConflictError] == 409
    assert status_for(InputError) == 422
    assert status_for(StoreError("down")) == 503
    assert status_for(KehuError("unmapped")) == 500


@pytest.mark.parametrize("accept", [None, BROWSER, "text/html"])
def test_api_errors_keep_their_json_body_whatever_accept_says(
    admin_client: TestClient, client_factory: Callable[[], TestClient], accept: str | None
) -> None:
    headers = {"Accept-Language": "zh-CN"} | ({} if accept is None else {"Accept": accept})
    missing = admin_client.get("/api/nothing-here", headers=headers)
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/json")
    assert missing.json() == {"error": {"type": "NotFoundError", "message": "not found"}}
    invalid = admin_client.post(
        "/api/users", json={"email": "a@example.com", "role": "boss"}, headers=headers
    )
    assert (invalid.status_code, invalid.headers["content-type"]) == (422, "application/json")
    error = invalid.json()["error"]
    assert error["type"] == "InputError" and error["details"]
    assert error["message"] == f"{error['field']}: {error['details'][0]['message']}"
    wrong_method = admin_client.delete("/api/auth/me", headers=headers)
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["type"] == "MethodNotAllowed"
    anonymous = client_factory().get("/api/auth/me", headers=headers)
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["type"] == "AuthenticationError"
    assert anonymous.headers["www-authenticate"] == 'Bearer realm="kehu"'

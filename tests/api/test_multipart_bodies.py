"""A multipart body cut off before its closing boundary is a 400 that says so. Starlette's form
parser took it as a form without the unfinished part ("file: Field required") and left that
part's temporary file open (a ResourceWarning, so a failure under ``-W error``; found by the long
form of tests/api/test_schemathesis.py)."""

from __future__ import annotations

import gc

import pytest
from office import Office

HEADERS = {"content-type": "multipart/form-data; boundary=b"}
PART = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'


@pytest.mark.parametrize(
    "body",
    [PART + b"external_id,kind", PART + b"external_id,kind\r\n--b\r\n", PART],
    ids=["in the data", "after a delimiter", "after the headers"],
)
def test_a_cut_off_multipart_body_is_400_and_leaves_no_file_open(
    office: Office, body: bytes
) -> None:
    client = office.token_client("admin", ["customers:write"])
    response = client.post("/api/customers/import", content=body, headers=HEADERS)
    gc.collect()  # an unclosed temporary file warns here (an error in this suite)
    assert response.status_code == 400, response.text
    assert "closing boundary" in response.json()["error"]["message"]


def test_a_complete_multipart_body_reaches_the_route(office: Office) -> None:
    client = office.token_client("admin", ["customers:write"])
    body = PART + b"external_id,kind,name\r\nc-1,person,Ada\r\n--b--\r\n"
    response = client.post("/api/customers/import", content=body, headers=HEADERS)
    assert response.status_code == 200, response.text
    epilogue = PART + b"external_id,kind,name\r\nc-2,person,Bo\r\n--b--\r\nan epilogue"
    response = client.post("/api/customers/import", content=epilogue, headers=HEADERS)
    assert response.status_code == 200, response.text


def test_a_multipart_body_sent_to_a_json_route_leaves_no_file_open(office: Office) -> None:
    """Authentication looked for a form's CSRF field in it, parsed the upload, and nothing
    closed the file (the route takes JSON, so FastAPI never owned the form)."""
    body = PART + b"external_id,kind\r\n--b--\r\n"
    for client in (office.token_client("admin", ["customers:write"]), office.client("admin")):
        response = client.patch(f"/api/customers/{office.customer}", content=body, headers=HEADERS)
        gc.collect()
        assert response.status_code == 422, response.text


def test_a_page_form_with_a_file_carries_its_csrf_token_in_the_form(office: Office) -> None:
    """The ticket page's reply form sends a file (multipart) and, without JavaScript, its CSRF
    token only as a form field: read there, since the route takes that form itself."""
    ticket = office.ticket()
    client = office.client("manager")
    token = client.headers.pop("X-CSRF-Token")
    try:
        data = {"expected_version": str(ticket["version"]), "body": "see the file"}
        files = {"attachment": ("a.txt", b"hello", "text/plain")}
        path = f"/tickets/{ticket['id']}/reply"
        wrong = client.post(path, data={**data, "csrf_token": "x" * 20}, files=files)
        assert wrong.status_code == 403
        sent = client.post(
            path, data={**data, "csrf_token": token}, files=files, follow_redirects=False
        )
        gc.collect()
        assert sent.status_code == 303, sent.text
        listed = client.get(f"/api/tickets/{ticket['id']}/attachments").json()
        assert [a["filename"] for a in listed] == ["a.txt"]
        assert listed[0]["message_id"] is not None
    finally:
        client.headers["X-CSRF-Token"] = token

"""Tickets over the API: filing, the queue, lists, the SLA detail, every action, optimistic
locking, illegal transitions, attachments, similar tickets and idempotent creation."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import unquote

from office import Office
from sqlalchemy import func, select

from kehu.core.outbox import OutboxMessage
from kehu.desk.tables import Ticket, TicketEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _detail(office: Office, ticket_id: int, who: str = "manager") -> dict:
    response = office.client(who).get(f"/api/tickets/{ticket_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_filing_routes_the_ticket_and_states_the_promise(office: Office) -> None:
    ticket = office.ticket(category_id=office.refund, priority="high")
    assert ticket["team_id"] == office.team_b  # Refund is under Billing
    assert ticket["status"] == "new" and ticket["status_category"] == "open"
    assert ticket["category_path"] == "Billing > Refund"
    sla = ticket["sla"]
    assert sla["policy_name"] == "standard" and sla["policy_version"] == 1
    assert sla["first_response"]["state"] == "running"
    assert sla["first_response"]["goal_seconds"] == 4 * 3600
    assert 0 < sla["first_response"]["remaining_seconds"] <= 4 * 3600
    assert sla["resolution"]["goal_seconds"] == 16 * 3600
    assert ticket["first_response_due_at"] is not None
    fetched = office.client("manager").get(f"/api/tickets/{ticket['id']}")
    assert fetched.headers["etag"] == f'"{ticket["version"]}"'
    with office.database.session() as session:
        acknowledgements = session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.regarding_type == "ticket",
                OutboxMessage.regarding_id == ticket["id"],
            )
        )
    assert acknowledgements == 1


def test_bad_ticket_bodies_name_the_field(office: Office) -> None:
    client = office.client("manager")
    base = {"customer_id": office.customer, "kind": "complaint", "channel": "email"}
    missing = client.post("/api/tickets", json=base)
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "subject"
    wrong_kind = client.post("/api/tickets", json={**base, "subject": "x", "kind": "rant"})
    assert wrong_kind.status_code == 422
    assert wrong_kind.json()["error"]["field"] == "kind"
    no_customer = client.post("/api/tickets", json={**base, "subject": "x", "customer_id": 999})
    assert no_customer.status_code == 422
    assert no_customer.json()["error"]["field"] == "customer_id"
    huge = client.post("/api/tickets", json={**base, "subject": "x", "description": "d" * 20_000})
    assert huge.status_code == 413
    assert huge.json()["error"]["type"] == "PayloadTooLarge"
    bad_json = client.post(
        "/api/tickets", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert bad_json.status_code == 422


def test_a_replayed_create_files_one_ticket(office: Office) -> None:
    client = office.client("manager")
    body = {
        "customer_id": office.customer,
        "kind": "inquiry",
        "channel": "phone",
        "subject": "Where is my order?",
    }
    headers = {"Idempotency-Key": "ticket-create-1"}
    first = client.post("/api/tickets", json=body, headers=headers)
    replay = client.post("/api/tickets", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    with office.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    different = client.post("/api/tickets", json={**body, "subject": "Other"}, headers=headers)
    assert different.status_code == 422


def test_queue_is_sorted_by_the_promise_due_time(office: Office) -> None:
    client = office.client("manager")
    low = office.ticket(subject="later")
    urgent = office.ticket(subject="sooner")
    # Replying stops the first-response target: the ticket's next due time is the resolution.
    client.post(f"/api/tickets/{low['id']}/reply", json={"body": "On it"})
    done = office.ticket(subject="done")
    client.post(f"/api/tickets/{done['id']}/resolve", json={})
    queue = client.get("/api/tickets/queue").json()
    ids = [t["id"] for t in queue["items"]]
    assert ids == [urgent["id"], low["id"]]
    assert queue["total"] == 2
    dues = [t["sla_due_at"] for t in queue["items"]]
    assert dues == sorted(dues)
    mine = client.get("/api/tickets/queue", params={"assignee": "me"}).json()
    assert mine["total"] == 0


def test_list_filters_and_sorting(office: Office) -> None:
    client = office.client("manager")
    a = office.ticket(subject="Refund please", category_id=office.refund, priority="urgent")
    b = office.ticket(subject="Broken lid", kind="inquiry", priority="low")
    c = office.ticket(subject="Thanks", kind="praise", customer_id=office.other_customer)
    client.post(f"/api/tickets/{c['id']}/resolve", json={})

    def ids(**params: object) -> list[int]:
        response = client.get("/api/tickets", params=params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids() == [c["id"], b["id"], a["id"]]  # newest first
    assert ids(sort="id") == [a["id"], b["id"], c["id"]]
    assert ids(sort="-priority") == [a["id"], c["id"], b["id"]]
    assert ids(status="resolved") == [c["id"]]
    assert ids(status_category="open") == [b["id"], a["id"]]
    assert ids(team=office.team_b) == [a["id"]]
    assert ids(customer=office.other_customer) == [c["id"]]
    assert ids(kind="inquiry,praise", sort="id") == [b["id"], c["id"]]
    assert ids(category=office.refund) == [a["id"]]
    assert ids(priority="urgent") == [a["id"]]
    assert ids(q="refund") == [a["id"]]
    assert ids(q="100%") == []
    bad = client.get("/api/tickets", params={"sort": "colour"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sort"
    bad = client.get("/api/tickets", params={"status": "lost"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    paged = client.get("/api/tickets", params={"page_size": 2, "page": 2, "sort": "id"}).json()
    assert [t["id"] for t in paged["items"]] == [c["id"]] and paged["total"] == 3


def test_the_full_life_of_a_ticket(office: Office) -> None:
    client = office.client("manager")
    agent = office.users["agent_a"].id
    ticket = office.ticket()
    tid = ticket["id"]
    step = client.post(f"/api/tickets/{tid}/assign", json={"assignee_id": agent})
    assert step.status_code == 200 and step.json()["assignee_id"] == agent
    step = client.post(
        f"/api/tickets/{tid}/reply",
        json={
            "body": "Could you send a photo?",
            "wait_for_customer": True,
            "handling_seconds": 120,
        },
    )
    assert step.status_code == 200
    waiting = step.json()
    assert waiting["status"] == "waiting_on_customer"
    assert waiting["sla"]["paused"] is True
    assert waiting["first_responded_at"] is not None
    step = client.post(f"/api/tickets/{tid}/customer-reply", json={"body": "Photo sent by post"})
    assert step.json()["status"] == "in_progress"
    note = client.post(f"/api/tickets/{tid}/notes", json={"body": "<script>alert(1)</script>"})
    assert note.status_code == 201 and note.json()["internal"] is True
    assert note.json()["body"] == "<script>alert(1)</script>"  # stored as text, JSON-escaped
    step = client.post(f"/api/tickets/{tid}/status", json={"status": "waiting_on_customer"})
    assert step.json()["sla"]["paused"] is True
    step = client.post(f"/api/tickets/{tid}/status", json={"status": "in_progress"})
    assert step.json()["sla"]["paused"] is False
    step = client.post(f"/api/tickets/{tid}/priority", json={"priority": "urgent"})
    assert step.json()["priority"] == "urgent"
    step = client.post(f"/api/tickets/{tid}/transfer", json={"team_id": office.team_b})
    assert step.json()["team_id"] == office.team_b and step.json()["assignee_id"] is None
    step = client.patch(f"/api/tickets/{tid}", json={"subject": "Broken parcel, photo sent"})
    assert step.json()["subject"] == "Broken parcel, photo sent"
    step = client.post(f"/api/tickets/{tid}/resolve", json={"resolution": "Refunded"})
    assert step.json()["status"] == "resolved" and step.json()["sla"]["kept"] is True
    step = client.post(f"/api/tickets/{tid}/reopen")
    assert step.status_code == 200 and step.json()["status"] == "in_progress"
    step = client.post(f"/api/tickets/{tid}/close")
    assert step.json()["status"] == "closed"

    events = client.get(f"/api/tickets/{tid}/events").json()
    kinds = [e["kind"] for e in events]
    for kind in (
        "created",
        "assigned",
        "replied",
        "paused",
        "customer_replied",
        "resumed",
        "note_added",
        "priority_changed",
        "transferred",
        "updated",
        "resolved",
        "reopened",
        "closed",
    ):
        assert kind in kinds, kind
    assert sum(e["handling_seconds"] for e in events) == 120
    messages = client.get(f"/api/tickets/{tid}/messages").json()
    assert [m["kind"] for m in messages] == ["reply", "customer", "note"]
    public = client.get(f"/api/tickets/{tid}/messages", params={"include_internal": False})
    assert [m["kind"] for m in public.json()] == ["reply", "customer"]
    effort = client.get(f"/api/tickets/{tid}/effort").json()
    assert effort["transfers"] == 1 and effort["reopenings"] == 1


def test_illegal_transitions_are_409_with_the_reason(office: Office) -> None:
    client = office.client("manager")
    tid = office.ticket()["id"]
    reopen = client.post(f"/api/tickets/{tid}/reopen")
    assert reopen.status_code == 409
    assert "only a resolved ticket can be reopened" in reopen.json()["error"]["message"]
    client.post(f"/api/tickets/{tid}/close")
    again = client.post(f"/api/tickets/{tid}/status", json={"status": "in_progress"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["type"] == "ConflictError"
    assert "closed -> in_progress" in error["message"] and "closed ticket" in error["message"]
    reply = client.post(f"/api/tickets/{tid}/reply", json={"body": "hello"})
    assert reply.status_code == 409 and "closed" in reply.json()["error"]["message"]
    unknown = client.post(f"/api/tickets/{tid}/status", json={"status": "lost"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "status"


def test_stale_actions_are_409_by_body_or_if_match(office: Office) -> None:
    client = office.client("manager")
    ticket = office.ticket()
    tid, version = ticket["id"], ticket["version"]
    ok = client.post(f"/api/tickets/{tid}/reply", json={"body": "Hi", "expected_version": version})
    assert ok.status_code == 200
    new_version = ok.json()["version"]
    assert new_version > version and ok.headers["etag"] == f'"{new_version}"'
    stale = client.post(f"/api/tickets/{tid}/reply", json={"body": "Hi", "expected_version": 1})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]["message"]
    by_header = client.post(
        f"/api/tickets/{tid}/priority", json={"priority": "high"}, headers={"If-Match": '"1"'}
    )
    assert by_header.status_code == 409
    current = client.get(f"/api/tickets/{tid}").headers["etag"]
    fresh = client.post(
        f"/api/tickets/{tid}/priority", json={"priority": "high"}, headers={"If-Match": current}
    )
    assert fresh.status_code == 200
    # Use cases without a version of their own are checked by the route.
    for path, body in (
        ("notes", {"body": "n"}),
        ("customer-reply", {"body": "c"}),
        ("split", {"subject": "s"}),
        ("resolve", {}),
        ("close", {}),
    ):
        response = client.post(f"/api/tickets/{tid}/{path}", json={**body, "expected_version": 1})
        assert response.status_code == 409, path
    garbage = client.post(
        f"/api/tickets/{tid}/notes", json={"body": "n"}, headers={"If-Match": "yesterday"}
    )
    assert garbage.status_code == 422 and garbage.json()["error"]["field"] == "If-Match"
    with office.database.session() as session:
        notes = session.scalar(
            select(func.count())
            .select_from(TicketEvent)
            .where(TicketEvent.ticket_id == tid, TicketEvent.kind == "note_added")
        )
    assert notes == 0


def test_merge_and_split(office: Office) -> None:
    client = office.client("manager")
    first = office.ticket(subject="Broken")
    second = office.ticket(subject="Broken, again")
    other = office.ticket(subject="Elsewhere", customer_id=office.other_customer)
    refused = client.post(f"/api/tickets/{second['id']}/merge", json={"target_id": other["id"]})
    assert refused.status_code == 409
    merged = client.post(f"/api/tickets/{second['id']}/merge", json={"target_id": first["id"]})
    assert merged.status_code == 200 and merged.json()["id"] == first["id"]
    source = client.get(f"/api/tickets/{second['id']}").json()
    assert source["merged_into_id"] == first["id"] and source["status"] == "closed"
    listed = client.get("/api/tickets").json()
    assert second["id"] not in [t["id"] for t in listed["items"]]
    split = client.post(f"/api/tickets/{first['id']}/split", json={"subject": "Invoice wrong"})
    assert split.status_code == 201
    assert split.json()["split_from_id"] == first["id"]
    assert split.json()["customer_id"] == office.customer


def test_attachments_are_checked_and_downloaded_safely(office: Office) -> None:
    client = office.client("manager")
    tid = office.ticket()["id"]
    url = f"/api/tickets/{tid}/attachments"
    ok = client.post(url, files={"file": ("photo.png", PNG, "image/png")})
    assert ok.status_code == 201, ok.text
    attachment = ok.json()
    assert attachment["content_type"] == "image/png" and attachment["size"] == len(PNG)
    download = client.get(f"/api/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-type"] == "image/png"
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"photo.png\"; filename*=UTF-8''photo.png"
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert [a["id"] for a in client.get(url).json()] == [attachment["id"]]

    # An HTML page declared as a picture: refused, naming the field that declared the type.
    lying = client.post(url, files={"file": ("cat.png", b"<html><script>", "image/png")})
    assert lying.status_code == 422
    assert lying.json()["error"]["field"] == "file"
    assert "does not match the declared type" in lying.json()["error"]["message"]
    declared = client.post(
        url,
        files={"file": ("cat.png", b"plain words", "application/octet-stream")},
        data={"content_type": "application/pdf"},
    )
    assert declared.status_code == 422 and declared.json()["error"]["field"] == "content_type"
    wrong_kind = client.post(url, files={"file": ("x.html", b"<p>", "text/html")})
    assert wrong_kind.status_code == 422
    too_big = client.post(url, files={"file": ("big.txt", b"a" * 2_001, "text/plain")})
    assert too_big.status_code == 413
    assert too_big.json()["error"]["field"] == "file"
    missing = client.post(url, data={"content_type": "text/plain"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"
    stale = client.post(
        url, files={"file": ("a.txt", b"text", "text/plain")}, data={"expected_version": "1"}
    )
    assert stale.status_code == 409
    unknown = client.get("/api/attachments/9999")
    assert unknown.status_code == 404


_EXTENDED_NAME = re.compile(r"filename\*=UTF-8''([^;\s]+)")
_ASCII_NAME = re.compile(r'filename="([^"]*)"')


def _offered_name(header: str) -> str:
    """The name a browser saves the download as: ``filename*`` decoded (RFC 8187)."""
    found = _EXTENDED_NAME.search(header)
    assert found, header
    return unquote(found.group(1), encoding="utf-8", errors="strict")


def _upload_text(office: Office, name: str) -> dict[str, object]:
    client = office.client("manager")
    ticket = office.ticket()["id"]
    uploaded = client.post(
        f"/api/tickets/{ticket}/attachments",
        files={"file": (name, "收到，谢谢".encode(), "text/plain")},
    )
    assert uploaded.status_code == 201, uploaded.text
    listed = client.get(f"/api/tickets/{ticket}/attachments").json()
    assert [a["filename"] for a in listed] == [uploaded.json()["filename"]]
    return dict(uploaded.json())


def test_a_chinese_attachment_name_round_trips(office: Office) -> None:
    attachment = _upload_text(office, "投诉.txt")
    assert attachment["filename"] == "投诉.txt"  # was "_.txt"
    download = office.client("manager").get(f"/api/attachments/{attachment['id']}")
    assert download.status_code == 200 and download.content == "收到，谢谢".encode()
    header = download.headers["content-disposition"]
    assert header.startswith("attachment; ")
    assert _offered_name(header) == "投诉.txt"
    fallback = _ASCII_NAME.search(header)  # for clients that do not read filename*
    assert fallback is not None and fallback.group(1) == "attachment.txt"
    header.encode("ascii")  # a header is ASCII: the name travels percent-encoded


def test_a_hostile_attachment_name_is_cleaned_before_it_is_kept(office: Office) -> None:
    # "../" climbs out of a directory, CR LF would end a header, U+202E shows "gnp.txt" as
    # "txt.png"; the form encoding sends the CR LF as %0D%0A, which the route reads back.
    attachment = _upload_text(office, "../../etc/投诉\r\n\u202egnp.txt")
    assert attachment["filename"] == "投诉_gnp.txt"
    download = office.client("manager").get(f"/api/attachments/{attachment['id']}")
    header = download.headers["content-disposition"]
    assert _offered_name(header) == "投诉_gnp.txt"
    assert "\r" not in header and "\n" not in header and "\u202e" not in header


def test_similar_tickets_rank_the_same_matter_first(office: Office) -> None:
    client = office.client("manager")
    base = office.ticket(subject="Refund missing", category_id=office.refund)
    same_customer_same_category = office.ticket(subject="Refund still", category_id=office.refund)
    other_customer_same_category = office.ticket(
        subject="Refund?", category_id=office.refund, customer_id=office.other_customer
    )
    related = office.ticket(
        subject="Invoice", category_id=office.billing, customer_id=office.other_customer
    )
    same_customer_other_category = office.ticket(subject="Late", category_id=office.delivery)
    unrelated = office.ticket(
        subject="Late too", category_id=office.delivery, customer_id=office.other_customer
    )
    response = client.get(f"/api/tickets/{base['id']}/similar")
    assert response.status_code == 200
    found = response.json()
    ids = [s["ticket"]["id"] for s in found]
    assert ids == [
        same_customer_same_category["id"],
        same_customer_other_category["id"],
        other_customer_same_category["id"],
        related["id"],
    ]
    assert unrelated["id"] not in ids and base["id"] not in ids
    assert found[0]["reasons"][:2] == ["same customer", "same category"]
    assert "repeat" in found[0]["reasons"]  # linked as a repeat automatically
    assert "related category" in found[-1]["reasons"]
    limited = client.get(f"/api/tickets/{base['id']}/similar", params={"limit": 1}).json()
    assert len(limited) == 1
    # Resolved within recent_days: still listed; outside the window: not.
    client.post(f"/api/tickets/{same_customer_same_category['id']}/resolve", json={})
    again = client.get(f"/api/tickets/{base['id']}/similar").json()
    assert same_customer_same_category["id"] in [s["ticket"]["id"] for s in again]
    none_recent = client.get(f"/api/tickets/{base['id']}/similar", params={"recent_days": 0}).json()
    assert same_customer_same_category["id"] not in [s["ticket"]["id"] for s in none_recent]
    assert client.get("/api/tickets/9999/similar").status_code == 404


def test_ticket_export_is_csv_without_formulas(office: Office) -> None:
    client = office.client("manager")
    office.ticket(subject="=HYPERLINK('http://evil')")
    response = client.get("/api/tickets/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0]["subject"] == "'=HYPERLINK('http://evil')"
    assert rows[0]["status"] == "new"


def test_uploads_may_exceed_the_request_body_limit_up_to_the_attachment_limit(
    office: Office,
) -> None:
    """The body limit (16 KiB in these tests) stops oversized JSON at the door, while an upload
    larger than that reaches the route, which checks the file against the attachment limit and
    names the field."""
    client = office.client("manager")
    tid = office.ticket()["id"]
    big_file = b"a" * 100_000
    upload = client.post(
        f"/api/tickets/{tid}/attachments", files={"file": ("big.txt", big_file, "text/plain")}
    )
    assert upload.status_code == 413
    assert upload.json()["error"]["field"] == "file"
    big_json = client.post("/api/customers", json={"name": "x", "notes": "a" * 100_000})
    assert big_json.status_code == 413
    assert "field" not in big_json.json()["error"]

"""Customers over the API: search, detail, edits with optimistic locking, tags, owners,
contacts, memberships, preferences, CSV import and export, duplicates, merge and undo, and the
360 timeline."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from office import Office
from sqlalchemy import func, select

from kehu.customers.tables import Customer


def _create(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/api/customers", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_create_get_and_edit_with_optimistic_locking(office: Office) -> None:
    client = office.client("agent_a")
    created = _create(
        client,
        family_name="张",
        given_name="伟",
        contacts=[{"type": "phone", "value": "+86 138-0013-8000"}],
        tags=["vip"],
    )
    assert created["name"] == "张伟" and created["version"] == 1
    assert created["tags"] == ["vip"] and created["contacts"][0]["type"] == "phone"
    fetched = client.get(f"/api/customers/{created['id']}").json()
    assert fetched == created
    edited = client.patch(
        f"/api/customers/{created['id']}", json={"version": 1, "notes": "prefers calls"}
    )
    assert edited.status_code == 200
    assert edited.json()["notes"] == "prefers calls" and edited.json()["version"] == 2
    stale = client.patch(f"/api/customers/{created['id']}", json={"version": 1, "notes": "x"})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]["message"]
    no_version = client.patch(f"/api/customers/{created['id']}", json={"notes": "x"})
    assert no_version.status_code == 422 and no_version.json()["error"]["field"] == "version"


def test_bad_customer_input_names_the_field(office: Office) -> None:
    client = office.client("agent_a")
    nameless = client.post("/api/customers", json={"kind": "organisation"})
    assert nameless.status_code == 422 and nameless.json()["error"]["field"] == "name"
    bad_email = client.post(
        "/api/customers", json={"name": "X", "contacts": [{"type": "email", "value": "nope"}]}
    )
    assert bad_email.status_code == 422
    assert bad_email.json()["error"]["field"] == "contacts.0.value"
    extra = client.post("/api/customers", json={"name": "X", "password": "x"})
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "password"
    taken = client.post("/api/customers", json={"name": "X", "external_id": "C-1"})
    assert taken.status_code == 409
    unknown = client.get("/api/customers/99999")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == "customer 99999 not found"
    script = _create(client, name="<script>alert(1)</script>")
    assert script["name"] == "<script>alert(1)</script>"  # kept as text; JSON is not HTML


def test_search_filters_sorting_and_pages(office: Office) -> None:
    client = office.client("agent_a")
    owner = office.users["agent_a"].id
    zhang = _create(
        client,
        name="张伟",
        contacts=[{"type": "phone", "value": "138 0013 8000"}],
        tags=["vip"],
        owner_user_id=owner,
    )
    acme = _create(
        client,
        kind="organisation",
        name="Acme Trading",
        contacts=[{"type": "email", "value": "Sales@Acme.example"}],
    )

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/customers", params=params)
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert ids(q="张") == [zhang["id"]]
    assert ids(q="0013-80") == [zhang["id"]]
    assert ids(q="sales@acme") == [acme["id"]]
    assert ids(kind="organisation") == [acme["id"]]
    assert ids(tag="vip") == [zhang["id"]]
    assert ids(owner="me") == [zhang["id"]]
    assert ids(owner=str(owner)) == [zhang["id"]]
    assert ids(sort="id") == [office.customer, office.other_customer, zhang["id"], acme["id"]]
    assert ids(sort="-id")[0] == acme["id"]
    page = client.get("/api/customers", params={"sort": "id", "page": 2, "page_size": 3}).json()
    assert page["total"] == 4 and [c["id"] for c in page["items"]] == [acme["id"]]
    bad = client.get("/api/customers", params={"sort": "notes"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "sort"
    bad = client.get("/api/customers", params={"kind": "robot"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "kind"
    bad = client.get("/api/customers", params={"owner": "boss"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "owner"
    bad = client.get("/api/customers", params={"page_size": 51})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "page_size"


def test_tags_owner_contacts_memberships_and_preferences(office: Office) -> None:
    client = office.client("agent_a")
    cid = office.customer
    tagged = client.post(f"/api/customers/{cid}/tags", json={"tag": "回头客"})
    assert tagged.status_code == 200 and tagged.json()["tags"] == ["回头客"]
    untagged = client.delete(f"/api/customers/{cid}/tags/回头客")
    assert untagged.json()["tags"] == []
    owner = office.users["agent_b"].id
    owned = client.put(f"/api/customers/{cid}/owner", json={"owner_user_id": owner})
    assert owned.json()["owner_user_id"] == owner
    stale = client.put(f"/api/customers/{cid}/owner", json={"owner_user_id": None, "version": 1})
    assert stale.status_code == 409
    added = client.post(f"/api/customers/{cid}/contacts", json={"type": "wechat", "value": "wxm"})
    contact = next(c for c in added.json()["contacts"] if c["type"] == "wechat")
    removed = client.delete(f"/api/customers/{cid}/contacts/{contact['id']}")
    assert all(c["type"] != "wechat" for c in removed.json()["contacts"])
    assert client.delete(f"/api/customers/{cid}/contacts/{contact['id']}").status_code == 404
    org = _create(client, kind="organisation", name="Acme")
    member = client.post(
        f"/api/customers/{cid}/memberships", json={"organisation_id": org["id"], "role": "buyer"}
    )
    assert member.status_code == 200
    assert member.json()["memberships"][0]["organisation_name"] == "Acme"
    assert member.json()["memberships"][0]["role"] == "buyer"
    wrong_way = client.post(
        f"/api/customers/{org['id']}/memberships", json={"organisation_id": cid}
    )
    assert wrong_way.status_code == 422
    ended = client.delete(f"/api/customers/{cid}/memberships/{org['id']}")
    assert ended.json()["memberships"] == []
    preference = client.put(
        f"/api/customers/{cid}/preferences",
        json={"channel": "sms", "consent": "withdrawn", "source": "phone call"},
    )
    assert preference.status_code == 200
    assert preference.json()["preferences"][0]["consent"] == "withdrawn"
    empty = client.put(
        f"/api/customers/{cid}/preferences", json={"channel": "sms", "source": "phone call"}
    )
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "consent"


def test_csv_import_is_all_or_nothing_and_names_row_and_column(office: Office) -> None:
    client = office.client("agent_a")
    good = (
        "external_id,kind,name,email,tags,organisation,role\r\n"
        "ORG-1,organisation,Acme,,b2b,,\r\n"
        "P-1,person,李雷,li@example.com,vip;new,ORG-1,buyer\r\n"
    ).encode()
    imported = client.post(
        "/api/customers/import", files={"file": ("people.csv", good, "text/csv")}
    )
    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "source": "people.csv",
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
    }
    again = client.post("/api/customers/import", files={"file": ("people.csv", good, "text/csv")})
    assert again.json()["unchanged"] == 2
    with office.database.session() as session:
        before = session.scalar(select(func.count()).select_from(Customer))
    bad = "external_id,name,email\r\nP-2,Han Meimei,han@example.com\r\nP-3,Lucy,not-an-email\r\n"
    refused = client.post(
        "/api/customers/import", files={"file": ("bad.csv", bad.encode(), "text/csv")}
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["line"] == 3 and error["field"] == "email"  # the header is line 1
    assert "bad.csv" in error["message"]
    with office.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == before
    columns = client.post(
        "/api/customers/import", files={"file": ("c.csv", b"id,name\r\n1,x\r\n", "text/csv")}
    )
    assert columns.status_code == 422 and "external_id" in columns.json()["error"]["message"]
    encoding = client.post(
        "/api/customers/import",
        files={"file": ("gbk.csv", "external_id,name\r\nG-1,王\r\n".encode("gb18030"), "text/csv")},
    )
    assert encoding.status_code == 422 and "UTF-8" in encoding.json()["error"]["message"]
    missing = client.post("/api/customers/import", data={"x": "y"})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "file"
    reader = office.client("reader").post(
        "/api/customers/import", files={"file": ("people.csv", good, "text/csv")}
    )
    assert reader.status_code == 403


def test_export_follows_the_search_and_neutralises_formulas(office: Office) -> None:
    client = office.client("agent_a")
    _create(
        client,
        name="=cmd|' /C calc'!A0",
        contacts=[{"type": "email", "value": "x@example.com"}],
        tags=["vip"],
    )
    response = client.get("/api/customers/export.csv", params={"tag": "vip"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="customers.csv"' in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 1
    assert rows[0]["name"] == "'=cmd|' /C calc'!A0"
    assert rows[0]["email"] == "x@example.com" and rows[0]["tags"] == "vip"
    everyone = client.get("/api/customers/export.csv").content.decode("utf-8-sig")
    assert "王小明" in everyone


def test_duplicates_merge_and_undo(office: Office) -> None:
    client = office.client("admin")
    first = _create(client, name="Li Lei", contacts=[{"type": "email", "value": "li@example.com"}])
    second = _create(
        client, name="Lei Li", contacts=[{"type": "email", "value": "LI@example.com "}]
    )
    found = client.get("/api/customers/duplicates").json()
    assert found == [
        {"customer_ids": [first["id"], second["id"]], "reasons": ["same email li@example.com"]}
    ]
    only = client.get("/api/customers/duplicates", params={"customer_id": office.customer})
    assert only.json() == []
    merged = client.post(
        f"/api/customers/{first['id']}/merge",
        json={"merged_id": second["id"], "reason": "same person"},
    )
    assert merged.status_code == 201, merged.text
    merge = merged.json()
    assert merge["survivor_id"] == first["id"] and merge["merged_id"] == second["id"]
    gone = client.get(f"/api/customers/{second['id']}").json()
    assert gone["merged_into_id"] == first["id"]
    assert client.get("/api/customers/duplicates").json() == []
    listed = client.get(f"/api/customers/{first['id']}/merges").json()
    assert [m["id"] for m in listed] == [merge["id"]]
    assert client.get(f"/api/merges/{merge['id']}").json()["reason"] == "same person"
    # A manager may merge, but only an admin may undo.
    refused = office.client("manager").post(f"/api/merges/{merge['id']}/undo")
    assert refused.status_code == 403
    undone = client.post(f"/api/merges/{merge['id']}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"] is not None
    assert client.get(f"/api/customers/{second['id']}").json()["merged_into_id"] is None
    twice = client.post(f"/api/merges/{merge['id']}/undo")
    assert twice.status_code == 409 and "already undone" in twice.json()["error"]["message"]
    assert client.post("/api/merges/999/undo").status_code == 404
    itself = client.post(f"/api/customers/{first['id']}/merge", json={"merged_id": first["id"]})
    assert itself.status_code == 409


def test_an_undo_that_cannot_be_split_back_is_refused_with_the_reason(office: Office) -> None:
    client = office.client("admin")
    survivor = _create(client, name="Han Meimei")
    other = _create(client, name="Han M.")
    merge = client.post(
        f"/api/customers/{survivor['id']}/merge", json={"merged_id": other["id"]}
    ).json()
    office.ticket(who="admin", customer_id=survivor["id"])  # a new ticket after the merge
    refused = client.post(f"/api/merges/{merge['id']}/undo")
    assert refused.status_code == 409
    assert "cannot be split back" in refused.json()["error"]["message"]


def test_timeline_pages_with_a_cursor(office: Office) -> None:
    client = office.client("manager")
    cid = office.customer
    for tag in ("a", "b", "c"):
        client.post(f"/api/customers/{cid}/tags", json={"tag": tag})
    office.ticket()
    first = client.get(f"/api/customers/{cid}/timeline", params={"limit": 3})
    assert first.status_code == 200
    page = first.json()
    assert len(page["entries"]) == 3 and page["next_cursor"]
    seen = [(e["source"], e["ref"]) for e in page["entries"]]
    while page["next_cursor"]:
        page = client.get(
            f"/api/customers/{cid}/timeline", params={"limit": 3, "before": page["next_cursor"]}
        ).json()
        seen.extend((e["source"], e["ref"]) for e in page["entries"])
    assert len(seen) == len(set(seen))
    everything = client.get(f"/api/customers/{cid}/timeline", params={"limit": 200}).json()
    assert len(everything["entries"]) == len(seen) and everything["next_cursor"] is None
    assert any(e["kind"] == "ticket_created" for e in everything["entries"])
    bad = client.get(f"/api/customers/{cid}/timeline", params={"before": "garbage"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "before"
    too_many = client.get(f"/api/customers/{cid}/timeline", params={"limit": 201})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "limit"
    assert client.get("/api/customers/99999/timeline").status_code == 404

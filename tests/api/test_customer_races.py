"""Concurrent changes to one customer, through the HTTP API, on SQLite and PostgreSQL.

The defect this pins (issue 6, defect 3): 20 parallel tag additions to one customer answered
17 x 500 (StaleDataError) on SQLite and 18 x 500 on PostgreSQL, and PATCH with the same version
6 x 500. Now changes that commute (different tags, the same tag, contacts, consent, memberships,
merges into one survivor) all succeed, one after the other, and a stale edit is 409 with a
reason that names the version.

Each caller is its own ``TestClient`` (its own event loop; the endpoint runs in that loop's worker
thread), released together by a barrier, so the requests really overlap in the store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from office import Office
from sqlalchemy import func, select

from kehu.customers.tables import CustomerContact, CustomerEvent, CustomerTag, Tag

CALLERS = 20
#: Bound of the whole burst: 20 writers one after another take well under a second each.
BURST_SECONDS = 60.0
SCOPES = ["customers:read", "customers:write", "customers:merge"]

Call = Callable[[TestClient], httpx.Response]


@pytest.fixture
def callers(office: Office) -> Iterator[list[TestClient]]:
    """``CALLERS`` clients of the manager's one API token, each with its own event loop; a
    server error is answered (500), not raised in the caller's thread."""
    token = office.token_client("manager", SCOPES).headers["Authorization"]
    with ExitStack() as stack:
        clients = []
        for _ in range(CALLERS):
            client = stack.enter_context(TestClient(office.app, raise_server_exceptions=False))
            client.headers["Authorization"] = token
            clients.append(client)
        yield clients


def at_once(callers: list[TestClient], calls: list[Call]) -> list[httpx.Response]:
    """Run ``calls[i]`` with ``callers[i]``, all released at the same moment."""
    start = threading.Barrier(len(calls))

    def run(client: TestClient, call: Call) -> httpx.Response:
        start.wait(timeout=BURST_SECONDS)
        return call(client)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, c, call) for c, call in zip(callers, calls, strict=False)]
        return [future.result(timeout=BURST_SECONDS) for future in futures]


def statuses(responses: list[httpx.Response]) -> list[int]:
    return sorted(r.status_code for r in responses)


def customer(callers: list[TestClient], customer_id: int) -> dict[str, Any]:
    response = callers[0].get(f"/api/customers/{customer_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def count(office: Office, statement: Any) -> int:
    with office.database.session() as session:
        return int(session.scalar(statement) or 0)


def test_different_tags_added_at_once_all_succeed(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    before = customer(callers, cid)["version"]

    def tag(number: int) -> Call:
        return lambda client: client.post(f"/api/customers/{cid}/tags", json={"tag": f"t{number}"})

    responses = at_once(callers, [tag(n) for n in range(CALLERS)])

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    after = customer(callers, cid)
    assert sorted(after["tags"]) == sorted(f"t{n}" for n in range(CALLERS))
    assert after["version"] == before + CALLERS  # one new version per change, none lost
    tagged = select(func.count()).where(
        CustomerEvent.customer_id == cid, CustomerEvent.kind == "tagged"
    )
    assert count(office, tagged) == CALLERS


def test_the_same_tag_added_at_once_is_linked_once(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    before = customer(callers, cid)["version"]

    responses = at_once(
        callers,
        [lambda c: c.post(f"/api/customers/{cid}/tags", json={"tag": "vip"})] * CALLERS,
    )

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    assert all(r.json()["tags"] == ["vip"] for r in responses)
    assert customer(callers, cid)["version"] == before + 1
    assert count(office, select(func.count()).select_from(Tag)) == 1
    assert count(office, select(func.count()).select_from(CustomerTag)) == 1


def test_a_new_tag_given_to_many_customers_at_once_is_created_once(
    office: Office, callers: list[TestClient]
) -> None:
    """The tag rows are shared by every customer: their get-or-create races across customers."""
    ids = []
    for number in range(CALLERS):
        created = callers[0].post("/api/customers", json={"name": f"Kunde {number}"})
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])

    def tag(customer_id: int) -> Call:
        return lambda c: c.post(f"/api/customers/{customer_id}/tags", json={"tag": "金牌"})

    responses = at_once(callers, [tag(i) for i in ids])

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    assert all(r.json()["tags"] == ["金牌"] for r in responses)
    assert count(office, select(func.count()).select_from(Tag)) == 1
    assert count(office, select(func.count()).select_from(CustomerTag)) == CALLERS


def test_edits_of_one_version_at_once_one_wins_and_the_rest_are_told_why(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    version = customer(callers, cid)["version"]

    def edit(number: int) -> Call:
        return lambda c: c.patch(
            f"/api/customers/{cid}", json={"version": version, "notes": f"note {number}"}
        )

    responses = at_once(callers, [edit(n) for n in range(CALLERS)])

    assert statuses(responses) == [200] + [409] * (CALLERS - 1), [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        error = refused.json()["error"]
        assert error["type"] == "ConflictError"
        assert f"you loaded version {version}" in error["message"], error
        assert f"version {version + 1} now" in error["message"], error
    (won,) = (r for r in responses if r.status_code == 200)
    assert customer(callers, cid)["notes"] == won.json()["notes"]
    assert customer(callers, cid)["version"] == version + 1


def test_owner_assignments_of_one_version_at_once_one_wins(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    version = customer(callers, cid)["version"]
    owners = [office.users[who].id for who in ("agent_a", "agent_b")]

    def assign(number: int) -> Call:
        body = {"owner_user_id": owners[number % 2], "version": version}
        return lambda c: c.put(f"/api/customers/{cid}/owner", json=body)

    responses = at_once(callers, [assign(n) for n in range(CALLERS)])

    assert statuses(responses) == [200] + [409] * (CALLERS - 1), [r.text for r in responses]
    assert all(
        f"you loaded version {version}" in r.json()["error"]["message"]
        for r in responses
        if r.status_code == 409
    )


def test_owner_assignments_without_a_version_at_once_the_last_one_stands(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    owners = [office.users[who].id for who in ("agent_a", "agent_b")]

    def assign(number: int) -> Call:
        return lambda c: c.put(
            f"/api/customers/{cid}/owner", json={"owner_user_id": owners[number % 2]}
        )

    responses = at_once(callers, [assign(n) for n in range(CALLERS)])

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    assert customer(callers, cid)["owner_user_id"] in owners


def test_the_same_contact_added_at_once_is_kept_once(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    body = {"type": "phone", "value": "+86 138 0013 8000"}

    responses = at_once(
        callers, [lambda c: c.post(f"/api/customers/{cid}/contacts", json=body)] * CALLERS
    )

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    phones = select(func.count()).where(
        CustomerContact.customer_id == cid, CustomerContact.type == "phone"
    )
    assert count(office, phones) == 1


def test_consent_and_memberships_changed_at_once_all_succeed(
    office: Office, callers: list[TestClient]
) -> None:
    cid = office.customer
    organisation = callers[0].post("/api/customers", json={"kind": "organisation", "name": "Acme"})
    assert organisation.status_code == 201, organisation.text
    org_id = organisation.json()["id"]
    channels = ["email", "sms", "phone", "wechat", "post"]

    def prefer(number: int) -> Call:
        body = {"channel": channels[number % 5], "consent": "granted", "source": "web form"}
        return lambda c: c.put(f"/api/customers/{cid}/preferences", json=body)

    def join(number: int) -> Call:
        body = {"organisation_id": org_id, "role": f"role {number % 3}"}
        return lambda c: c.post(f"/api/customers/{cid}/memberships", json=body)

    calls = [prefer(n) if n % 2 else join(n) for n in range(CALLERS)]
    responses = at_once(callers, calls)

    assert statuses(responses) == [200] * CALLERS, [r.text for r in responses]
    after = customer(callers, cid)
    assert sorted(p["channel"] for p in after["preferences"]) == sorted(channels)
    assert len(after["memberships"]) == 1


def test_merges_into_one_survivor_at_once_all_succeed(
    office: Office, callers: list[TestClient]
) -> None:
    survivor = office.customer
    duplicates = []
    for number in range(CALLERS):
        created = callers[0].post("/api/customers", json={"name": f"王小明 {number}"})
        assert created.status_code == 201, created.text
        duplicates.append(created.json()["id"])

    def merge(merged_id: int) -> Call:
        return lambda c: c.post(f"/api/customers/{survivor}/merge", json={"merged_id": merged_id})

    responses = at_once(callers, [merge(i) for i in duplicates])

    assert statuses(responses) == [201] * CALLERS, [r.text for r in responses]
    merges = callers[0].get(f"/api/customers/{survivor}/merges").json()
    assert sorted(m["merged_id"] for m in merges) == sorted(duplicates)


def test_two_customers_merged_into_each_other_at_once_one_merge_is_refused(
    office: Office, callers: list[TestClient]
) -> None:
    first, second = office.customer, office.other_customer
    calls: list[Call] = [
        lambda c: c.post(f"/api/customers/{first}/merge", json={"merged_id": second}),
        lambda c: c.post(f"/api/customers/{second}/merge", json={"merged_id": first}),
    ] * (CALLERS // 2)

    responses = at_once(callers, calls)

    assert statuses(responses) == [201] + [409] * (CALLERS - 1), [r.text for r in responses]
    assert all(
        "was merged into customer" in r.json()["error"]["message"]
        for r in responses
        if r.status_code == 409
    )


def test_one_merge_undone_at_once_is_undone_once(office: Office, callers: list[TestClient]) -> None:
    admin = office.token_client("admin", SCOPES).headers["Authorization"]
    for client in callers:
        client.headers["Authorization"] = admin
    merged = callers[0].post(
        f"/api/customers/{office.customer}/merge", json={"merged_id": office.other_customer}
    )
    assert merged.status_code == 201, merged.text
    merge_id = merged.json()["id"]

    responses = at_once(callers, [lambda c: c.post(f"/api/merges/{merge_id}/undo")] * CALLERS)

    assert statuses(responses) == [200] + [409] * (CALLERS - 1), [r.text for r in responses]
    assert all(
        "was already undone" in r.json()["error"]["message"]
        for r in responses
        if r.status_code == 409
    )
    events = select(func.count()).where(CustomerEvent.kind == "unmerged")
    assert count(office, events) == 2  # one on each customer

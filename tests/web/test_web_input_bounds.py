"""Ids and versions past what the store's columns hold are refused before any query runs (422),
on the pages as in the API: they were a 500 (OverflowError binding them on SQLite,
NumericValueOutOfRange on PostgreSQL)."""

from __future__ import annotations

import pytest
from desk_support import SeededDesk
from fastapi.testclient import TestClient
from web_support import CSRF_TOKEN

BIG = 2**63  # one past bigint and SQLite's INTEGER
WIDE = 2**31  # one past PostgreSQL's integer (versions)


@pytest.mark.parametrize(
    "path",
    [f"/customers/{BIG}", f"/customers/{BIG}/timeline", f"/tickets/{BIG}"],
)
def test_page_ids_past_the_store_are_422(client: TestClient, desk: SeededDesk, path: str) -> None:
    assert client.get(path).status_code == 422


def test_form_versions_and_ids_past_the_store_are_422(client: TestClient, desk: SeededDesk) -> None:
    customer = next(iter(desk.customer_ids.values()))
    ticket = desk.front_ticket
    too_wide = client.post(
        f"/customers/{customer}/edit",
        data={"csrf_token": CSRF_TOKEN, "version": str(WIDE), "name": "x"},
    )
    assert too_wide.status_code == 422
    merged = client.post(
        f"/customers/{customer}/merge",
        data={"csrf_token": CSRF_TOKEN, "duplicate_id": str(BIG)},
    )
    assert merged.status_code == 422
    note = client.post(
        f"/tickets/{ticket}/note",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(WIDE), "body": "x"},
    )
    assert note.status_code == 422

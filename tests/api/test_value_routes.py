"""Value runs, scores and transactions through the permission layer, with pages and sorting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from kehu.core.users.tables import User
from kehu.customers.tables import Customer
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, Transaction, ValueRun

TIERS = ["high", "high", "middle", "low", "low"]


@pytest.fixture
def value_data(database: Database) -> None:
    with database.session() as session:
        run = ValueRun(
            status="succeeded",
            source="test.csv",
            input_fingerprint="f" * 64,
            currency="CNY",
            settings={"model": "bgnbd"},
            models=[{"name": "bgnbd"}],
            diagnostics={"ok": True},
            n_customers=5,
            started_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        session.add(run)
        session.flush()
        for number, tier in enumerate(TIERS):
            # Only the columns the value import names (see kehu.customers.tables).
            session.execute(
                text(
                    "INSERT INTO customers (external_id, name, created_at, updated_at) "
                    "VALUES (:external_id, :name, :now, :now)"
                ),
                {"external_id": f"C{number}", "name": f"客户{number}", "now": datetime.now()},
            )
            customer_id = session.execute(
                select(Customer.id).where(Customer.external_id == f"C{number}")
            ).scalar_one()
            session.add(
                CustomerScore(
                    customer_id=customer_id,
                    run_id=run.id,
                    frequency=number,
                    recency=float(number),
                    age=10.0,
                    monetary_value_minor=1000 * number,
                    total_spend_minor=5000 * number,
                    rfm_recency=1,
                    rfm_frequency=1,
                    rfm_monetary=1,
                    rfm_segment="champions" if number < 2 else "others",
                    probability_alive=0.5,
                    expected_purchases=1.0,
                    expected_spend_minor=100,
                    clv_minor=None if number == 4 else 10_000 * (5 - number),
                    # intervals for all but the customer without CLV
                    clv_low_minor=None if number == 4 else 7_000 * (5 - number),
                    clv_high_minor=None if number == 4 else 15_000 * (5 - number),
                    probability_alive_low=None if number == 4 else 0.4,
                    probability_alive_high=None if number == 4 else 0.6,
                    expected_purchases_low=None if number == 4 else 0.8,
                    expected_purchases_high=None if number == 4 else 1.3,
                    value_tier=tier,
                    margin_minor=100,
                    cost_to_serve_minor=10,
                    profit_minor=90,
                )
            )
            for day in (1, 15):
                session.add(
                    Transaction(
                        customer_id=customer_id,
                        transaction_key=f"id:{number}-{day}",
                        external_id=f"O{number}-{day}",
                        occurred_at=datetime(2024, 3, day, 12, tzinfo=UTC),
                        amount_minor=1000 + day,
                        cost_minor=None,
                        currency="CNY",
                    )
                )


@pytest.fixture
def manager_client(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> TestClient:
    make_user("manager@example.com", "manager")
    client = client_factory()
    login(client, "manager@example.com")
    return client


def test_runs_list_and_detail(manager_client: TestClient, value_data: None) -> None:
    runs = manager_client.get("/api/value/runs").json()
    assert runs["total"] == 1
    run_id = runs["items"][0]["id"]
    detail = manager_client.get(f"/api/value/runs/{run_id}").json()
    assert detail["settings"] == {"model": "bgnbd"}
    assert detail["diagnostics"] == {"ok": True}


def test_scores_sorted_filtered_and_paged(manager_client: TestClient, value_data: None) -> None:
    page = manager_client.get("/api/value/scores", params={"page_size": 2}).json()
    assert page["total"] == 5
    assert [item["customer"] for item in page["items"]] == ["C0", "C1"]  # -clv by default
    last = manager_client.get("/api/value/scores", params={"page_size": 2, "page": 3}).json()
    assert [item["customer"] for item in last["items"]] == ["C4"]  # no CLV: last
    ascending = manager_client.get("/api/value/scores", params={"sort": "clv"}).json()
    assert [item["customer"] for item in ascending["items"]] == ["C3", "C2", "C1", "C0", "C4"]
    high = manager_client.get("/api/value/scores", params={"tier": "high"}).json()
    assert {item["customer"] for item in high["items"]} == {"C0", "C1"}
    champions = manager_client.get(
        "/api/value/scores", params={"segment": "champions", "sort": "-customer"}
    ).json()
    assert [item["customer"] for item in champions["items"]] == ["C1", "C0"]
    bad = manager_client.get("/api/value/scores", params={"sort": "-secret"})
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "sort"


def test_one_customers_score(manager_client: TestClient, value_data: None) -> None:
    score = manager_client.get("/api/customers/C2/score").json()
    assert score["value_tier"] == "middle"
    # the run's interval ends beside each estimate, money in minor units as clv_minor
    assert (score["clv_low_minor"], score["clv_minor"], score["clv_high_minor"]) == (
        21_000,
        30_000,
        45_000,
    )
    assert (score["probability_alive_low"], score["probability_alive_high"]) == (0.4, 0.6)
    assert (score["expected_purchases_low"], score["expected_purchases_high"]) == (0.8, 1.3)
    without = manager_client.get("/api/customers/C4/score").json()
    assert without["clv_low_minor"] is None and without["probability_alive_high"] is None
    assert score["customer_name"] == "客户2"
    missing = manager_client.get("/api/customers/NOPE/score")
    assert missing.status_code == 404


def test_an_agent_cannot_read_value_scores(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
    value_data: None,
) -> None:
    make_user("agent@example.com", "agent")
    agent = client_factory()
    login(agent, "agent@example.com")
    for path in ("/api/value/scores", "/api/value/runs", "/api/customers/C1/score"):
        response = agent.get(path)
        assert response.status_code == 403, path
        assert response.json()["error"]["type"] == "PermissionDeniedError"
    # Transactions are customer data, which agents may read.
    assert agent.get("/api/transactions").status_code == 200
    make_user("reader@example.com", "read_only")
    reader = client_factory()
    login(reader, "reader@example.com")
    assert reader.get("/api/value/scores").status_code == 200


def test_transactions_filtered_by_customer_and_time(
    manager_client: TestClient, value_data: None
) -> None:
    everything = manager_client.get("/api/transactions").json()
    assert everything["total"] == 10
    one = manager_client.get("/api/transactions", params={"customer": "C1"}).json()
    assert one["total"] == 2
    assert [item["order_id"] for item in one["items"]] == ["O1-15", "O1-1"]
    window = manager_client.get(
        "/api/transactions",
        params={"customer": "C1", "since": "2024-03-10", "until": "2024-04-01T00:00:00Z"},
    ).json()
    assert [item["order_id"] for item in window["items"]] == ["O1-15"]
    assert window["items"][0]["amount_minor"] == 1015
    by_amount = manager_client.get(
        "/api/transactions", params={"sort": "amount,id", "page_size": 1}
    ).json()
    assert by_amount["items"][0]["amount_minor"] == 1001
    backwards = manager_client.get(
        "/api/transactions", params={"since": "2024-04-01", "until": "2024-03-01"}
    )
    assert backwards.status_code == 422
    assert backwards.json()["error"]["field"] == "until"
    bad_date = manager_client.get("/api/transactions", params={"since": "yesterday"})
    assert bad_date.status_code == 422
    assert bad_date.json()["error"]["field"] == "since"

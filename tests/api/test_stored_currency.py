"""Stored figures keep their currency: a value run computed in CNY is shown in CNY by the API and
the pages after KEHU_CURRENCY has become USD; a value run refuses to mix currencies."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import select

from kehu.cli.value import run as run_value
from kehu.core.config import Settings
from kehu.core.users.tables import User
from kehu.customers.tables import Customer
from kehu.errors import CurrencyMismatchError
from kehu.store.db import Database
from kehu.value import pipeline
from kehu.value.schemas import ValueOptions
from kehu.value.tables import CostToServe, ValueRun

OBSERVATION_END = date(2023, 12, 31)


def _sales(path: Path, customers: int = 400, seed: int = 7) -> Path:
    """A small log drawn from BG/NBD-like behaviour with Gamma-Gamma spend (as in
    tests/cli/test_value_command.py), amounts with two decimals."""
    rng = np.random.default_rng(seed)
    lines = ["customer_id,date,amount"]
    for customer in range(customers):
        start = int(rng.integers(0, 90))
        rate = rng.gamma(0.5, 1 / 12)
        alive_days = rng.geometric(0.01)
        nu = rng.gamma(4.0, 1 / 15)
        day = float(start)
        while day < 500 and day - start < alive_days:
            amount = round(float(rng.gamma(6.0, 1 / nu)), 2)
            when = date(2023, 1, 1) + timedelta(days=int(day))
            lines.append(f"C{customer:04d},{when.isoformat()},{amount:.2f}")
            day += rng.exponential(1 / max(rate, 1e-3))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _value_job(
    database: Database, settings: Settings, file: Path | None, *, currency: str | None = None
) -> ValueRun:
    """What ``kehu value [FILE]`` does with ``settings``: returns the saved run."""
    source = pipeline.open_source(
        file,
        customer="customer_id",
        date="date",
        amount="amount",
        id=None,
        cost=None,
        encoding="utf-8",
        database=database,
        timezone=settings.timezone,
        currency=currency or settings.currency,
    )
    options = ValueOptions(observation_end=OBSERVATION_END, currency=source.currency)
    result = run_value(
        source,
        options,
        settings=settings,
        database=database,
        cost_to_serve_file=None,
        output=None,
        console=Console(file=io.StringIO()),
    )
    with database.session() as session:
        run = session.get(ValueRun, result.run_id)
    assert run is not None
    return run


@pytest.fixture
def yuan_run(database: Database, settings: Settings, tmp_path: Path) -> ValueRun:
    """The value job run while KEHU_CURRENCY was CNY; the app's settings say USD since."""
    assert settings.currency == "USD"
    in_yuan = Settings(
        _env_file=None, database_url=database.url, currency="CNY", data_dir=tmp_path / "data"
    )
    run = _value_job(database, in_yuan, _sales(tmp_path / "sales.csv"))
    assert run.currency == "CNY" and run.status == "succeeded"
    return run


@pytest.fixture
def manager(
    client_factory: Callable[[], TestClient],
    make_user: Callable[..., User],
    login: Callable[..., str],
) -> TestClient:
    make_user("manager@example.com", "manager")
    client = client_factory()
    login(client, "manager@example.com")
    return client


def test_the_api_gives_the_stored_currency(manager: TestClient, yuan_run: ValueRun) -> None:
    runs = manager.get("/api/value/runs").json()["items"]
    assert [(run["id"], run["currency"]) for run in runs] == [(yuan_run.id, "CNY")]
    assert manager.get(f"/api/value/runs/{yuan_run.id}").json()["currency"] == "CNY"
    scores = manager.get("/api/value/scores", params={"page_size": 50}).json()
    assert scores["total"] == yuan_run.n_customers
    assert {score["currency"] for score in scores["items"]} == {"CNY"}
    top = scores["items"][0]
    one = manager.get(f"/api/customers/{top['customer']}/score").json()
    assert (one["currency"], one["clv_minor"]) == ("CNY", top["clv_minor"])
    transactions = manager.get("/api/transactions", params={"page_size": 50}).json()["items"]
    assert transactions and {t["currency"] for t in transactions} == {"CNY"}


def test_the_pages_show_the_stored_currency(
    manager: TestClient, yuan_run: ValueRun, database: Database
) -> None:
    page = manager.get("/value").text
    assert "CN¥" in page
    assert not re.search(r"(?<![A-Z])\$\d", page), "an amount shown in dollars"
    with database.session() as session:
        customer_id = session.scalars(
            select(Customer.id).where(Customer.external_id == "C0000")
        ).one()
    detail = manager.get(f"/customers/{customer_id}").text
    card = detail[detail.index('id="value-card"') :]
    assert "CN¥" in card[: card.index("</section>")]
    timeline = manager.get(f"/customers/{customer_id}/timeline").text
    assert "CN¥" in timeline and not re.search(r"(?<![A-Z])\$\d", timeline)
    manager.cookies.set("kehu_locale", "zh-Hans")
    assert "¥" in manager.get("/value").text


def test_a_run_on_the_store_computes_in_its_currency_whatever_the_setting(
    database: Database, settings: Settings, yuan_run: ValueRun, tmp_path: Path
) -> None:
    in_dollars = Settings(_env_file=None, database_url=database.url, data_dir=tmp_path / "data")
    again = _value_job(database, in_dollars, None)
    assert again.currency == "CNY" and again.settings["currency"] == "CNY"


def test_a_file_in_another_currency_than_the_store_is_refused(
    database: Database, settings: Settings, yuan_run: ValueRun, tmp_path: Path
) -> None:
    dollars = _sales(tmp_path / "dollars.csv", customers=20, seed=9)
    in_dollars = Settings(_env_file=None, database_url=database.url, data_dir=tmp_path / "data")
    with pytest.raises(CurrencyMismatchError) as refused:
        _value_job(database, in_dollars, dollars)
    message = str(refused.value)
    assert refused.value.file == str(dollars)
    assert "declared in USD" in message and "the store's transactions are in CNY" in message


def test_cost_to_serve_in_another_currency_is_refused(
    database: Database, yuan_run: ValueRun, tmp_path: Path
) -> None:
    with database.session() as session:
        customer_id = session.scalars(select(Customer.id).limit(1)).one()
        session.add(
            CostToServe(customer_id=customer_id, amount_minor=500, currency="USD", source="x")
        )
    in_yuan = Settings(
        _env_file=None, database_url=database.url, currency="CNY", data_dir=tmp_path / "data"
    )
    refused = "cost-to-serve is recorded in USD, the value run is in CNY"
    with pytest.raises(CurrencyMismatchError, match=refused):
        _value_job(database, in_yuan, None)

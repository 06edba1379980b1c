"""``kehu import`` and ``kehu value`` with currencies: the store keeps the currency its amounts were
imported in; changing KEHU_CURRENCY later changes no stored figure, and a file in another
currency is refused naming it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from kehu.cli import main
from kehu.core.config import get_settings
from kehu.store.db import Database
from kehu.value.tables import ImportBatch, Transaction, ValueRun


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'kehu.db'}"
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def _currency_setting(monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    monkeypatch.setenv("KEHU_CURRENCY", code)
    get_settings.cache_clear()


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def sales(path: Path, customers: int = 400, seed: int = 7, decimals: int = 2) -> Path:
    """Repeat buyers with BG/NBD-like behaviour and Gamma-Gamma spend."""
    rng = np.random.default_rng(seed)
    lines = ["customer_id,date,amount"]
    for customer in range(customers):
        start = int(rng.integers(0, 90))
        rate = rng.gamma(0.5, 1 / 12)
        alive_days = rng.geometric(0.01)
        nu = rng.gamma(4.0, 1 / 15)
        day = float(start)
        while day < 500 and day - start < alive_days:
            amount = float(rng.gamma(6.0, 1 / nu)) * (100 if decimals == 0 else 1)
            when = date(2023, 1, 1) + timedelta(days=int(day))
            lines.append(f"C{customer:04d},{when.isoformat()},{amount:.{decimals}f}")
            day += rng.exponential(1 / max(rate, 1e-3))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_changing_the_currency_setting_changes_no_stored_figure(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _currency_setting(monkeypatch, "CNY")
    assert run(["import", str(sales(tmp_path / "sales.csv"))]) == 0
    assert run(["value", "--observation-end", "2023-12-31"]) == 0
    database = Database(store_url)
    with database.session() as session:
        first = session.scalars(select(ValueRun)).one()
        amounts = session.execute(select(Transaction.amount_minor, Transaction.currency)).all()
    assert first.currency == "CNY" and {c for _, c in amounts} == {"CNY"}

    _currency_setting(monkeypatch, "USD")
    report = tmp_path / "report.html"
    assert run(["report", "--output", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "CLV (CNY)" in html and "USD" not in html
    # the store's transactions are yuan: a run on them computes in yuan
    assert run(["value", "--observation-end", "2023-12-31"]) == 0
    with database.session() as session:
        second = session.scalars(select(ValueRun).order_by(ValueRun.id.desc()).limit(1)).one()
        assert session.execute(select(Transaction.amount_minor, Transaction.currency)).all() == (
            amounts
        )
    assert (second.currency, second.settings["minor_units"]) == ("CNY", 2)
    database.dispose()
    # asked for in another currency, a run on the store is refused rather than relabelled
    capsys.readouterr()
    assert run(["value", "--observation-end", "2023-12-31", "--currency", "USD"]) == 3
    assert "--currency USD: the store's transactions are in CNY" in capsys.readouterr().err


def test_a_file_in_another_currency_is_refused_naming_file_and_both_currencies(
    store_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _currency_setting(monkeypatch, "CNY")
    assert run(["import", str(sales(tmp_path / "yuan.csv", customers=30))]) == 0
    _currency_setting(monkeypatch, "USD")
    dollars = sales(tmp_path / "dollars.csv", customers=30, seed=8)
    capsys.readouterr()
    assert run(["import", str(dollars)]) == 3
    err = capsys.readouterr().err
    assert "CurrencyMismatchError" in err and "dollars.csv" in err
    assert "declared in USD" in err and "the store's transactions are in CNY" in err
    assert run(["value", str(dollars), "--observation-end", "2023-12-31"]) == 3
    # declared as what it is in, the same file is taken
    assert run(["import", str(dollars), "--currency", "cny"]) == 0
    database = Database(store_url)
    with database.session() as session:
        assert set(session.scalars(select(ImportBatch.currency))) == {"CNY"}
    database.dispose()


def test_yen_are_kept_in_whole_yen(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yen = sales(tmp_path / "yen.csv", customers=50, decimals=0)
    first_amount = int(yen.read_text().splitlines()[1].rsplit(",", 1)[1])
    assert run(["import", str(yen), "--currency", "JPY"]) == 0
    database = Database(store_url)
    with database.session() as session:
        row = session.scalars(select(Transaction).order_by(Transaction.id).limit(1)).one()
    assert (row.amount_minor, row.currency) == (first_amount, "JPY")
    assert str(row.amount) == f"{first_amount} JPY"
    database.dispose()
    capsys.readouterr()
    assert run(["import", str(yen), "--currency", "XYZ"]) == 3
    assert "'XYZ' is not an ISO 4217 currency code" in capsys.readouterr().err

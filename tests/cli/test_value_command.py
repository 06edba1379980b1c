"""``kehu value`` end to end on small files: outputs, store, exit codes and error messages."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from kehu.cli import main
from kehu.cli.value import ReportLanguage
from kehu.core.config import get_settings
from kehu.core.i18n import LOCALES
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, Transaction, ValueRun


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'kehu.db'}"
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def synthetic_log(path: Path, customers: int = 400, seed: int = 7) -> Path:
    """A small log drawn from BG/NBD-like behaviour, with order ids and costs."""
    rng = np.random.default_rng(seed)
    rows = []
    order = 0
    for customer in range(customers):
        start = rng.integers(0, 90)
        rate = rng.gamma(0.5, 1 / 12)
        alive_days = rng.geometric(0.01)
        # Gamma-Gamma spend: each customer's own scale nu ~ Gamma(q=4, rate gamma=15)
        nu = rng.gamma(4.0, 1 / 15)
        day = float(start)
        while day < 500 and day - start < alive_days:
            amount = round(float(rng.gamma(6.0, 1 / nu)), 2)
            order += 1
            rows.append(
                (
                    f"客户{customer}",
                    pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(day)),
                    amount,
                    round(amount * 0.6, 2),
                    f"o{order}",
                )
            )
            day += rng.exponential(1 / max(rate, 1e-3))
    frame = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount", "cost", "order_id"])
    frame["order_date"] = frame["order_date"].dt.strftime("%Y-%m-%d")
    frame.to_csv(path, index=False)
    return path


# one model where a test is not about the model choice: auto's Pareto/NBD takes seconds to
# fail on these small logs (the choice has tests of its own, below and in tests/value)
ONE_MODEL = ["--model", "bgnbd"]
ARGS = [
    "--customer",
    "customer_id",
    "--date",
    "order_date",
    "--amount",
    "amount",
    "--id",
    "order_id",
    "--cost",
    "cost",
    "--observation-end",
    "2023-12-31",
]


def test_value_writes_scores_to_file_and_store(store_url: str, tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "sales.csv")
    output = tmp_path / "scores.csv"
    code = run(["value", str(log), *ARGS, "--holdout-end", "2024-05-15", "--output", str(output)])
    assert code == 0
    scores = pd.read_csv(output)
    expected = {
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "r_score",
        "rfm_segment",
        "probability_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
        "value_tier",
        "profit",
    }
    assert expected <= set(scores.columns)
    assert scores["clv"].notna().all() and (scores["clv"] >= 0).all()
    assert scores["probability_alive"].between(0, 1).all()
    assert set(scores["value_tier"]) <= {"high", "middle", "low"}
    # margin = amount - cost = 40% of spend, and no cost-to-serve yet
    # each cost was rounded to the cent, so allow half a cent per purchase
    rounding = 0.01 * (scores["frequency"] + 1)
    assert ((scores["profit"] - 0.4 * scores["total_spend"]).abs() <= rounding).all()
    database = Database(store_url)
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(CustomerScore)) == len(scores)
        run_row = session.scalars(select(ValueRun)).one()
        assert run_row.status == "succeeded"
        # --model auto (the default) with a holdout: the run records the three candidates,
        # chosen by holdout error, and its first model is the chosen one
        choice = run_row.diagnostics["model_choice"]
        assert choice["mode"] == "auto" and choice["criterion"] in ("holdout_mae", "too_short")
        assert [c["name"] for c in choice["candidates"]] == ["bgnbd", "mbgnbd", "pnbd"]
        chosen = next(c for c in choice["candidates"] if c["chosen"])
        assert chosen["name"] == choice["chosen"] and chosen["holdout_mae"] is not None
        assert run_row.models[0]["model"] == chosen["model"]
        assert run_row.models[0]["kind"] == "purchase" and run_row.models[1]["kind"] == "spend"
        first_count = session.scalar(select(func.count()).select_from(Transaction))
    # running again on the same file adds no transactions and archives the previous scores
    assert run(["value", str(log), *ARGS, "--output", str(tmp_path / "again.parquet")]) == 0
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(Transaction)) == first_count
        runs = session.scalars(select(ValueRun).order_by(ValueRun.id)).all()
        assert runs[1].scores_archive and Path(runs[1].scores_archive).is_file()
    again = pd.read_parquet(tmp_path / "again.parquet")
    assert len(again) == len(scores)


def test_value_on_store_and_report(store_url: str, tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=300, seed=3)
    assert run(["import", str(log), *ARGS[:-2]]) == 0
    assert run(["value", "--observation-end", "2023-12-31", "--model", "pnbd"]) == 0
    with Database(store_url).session() as session:
        choice = session.scalars(select(ValueRun)).one().diagnostics["model_choice"]
    # an explicit model is used whatever the evidence, and the run says the user chose it
    assert choice["mode"] == "user" and choice["criterion"] == "user"
    assert choice["chosen"] == "pnbd" and [c["name"] for c in choice["candidates"]] == ["pnbd"]
    report = tmp_path / "report.html"
    assert run(["report", "--output", str(report)]) == 0
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and 'data-model="pnbd"' in html  # the candidates' table
    assert "Pareto/NBD was chosen by the user (--model)." in html
    assert "https://" not in html and "http://" not in html
    assert '<html lang="en">' in html
    chinese = tmp_path / "report-zh.html"
    assert run(["report", "--output", str(chinese), "--language", "zh-Hans"]) == 0
    html = chinese.read_text(encoding="utf-8")
    assert '<html lang="zh-Hans">' in html and "客户价值报告" in html
    assert "2023年12月31日" in html  # the observation end, as a Chinese date
    assert "Customer value report" not in html


def test_all_one_time_buyers_exit_4_and_rfm_still_written(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "once.csv"
    log.write_text(
        "customer_id,order_date,amount\n"
        + "".join(f"c{i},2024-01-{1 + i % 28:02d},{10 + i}\n" for i in range(60)),
        encoding="utf-8",
    )
    output = tmp_path / "scores.csv"
    code = run(
        [
            "value",
            str(log),
            "--customer",
            "customer_id",
            "--date",
            "order_date",
            "--amount",
            "amount",
            "--observation-end",
            "2024-03-31",
            "--output",
            str(output),
        ]
    )
    assert code == 4
    printed = capsys.readouterr()
    assert "IdentificationError" in printed.err
    # every candidate says why it failed and what to try
    for label in ("BG/NBD", "MBG/NBD", "Pareto/NBD"):
        assert f"{label}: what to try: wait for a longer purchase history" in printed.out
    scores = pd.read_csv(output)
    assert len(scores) == 60 and scores["rfm_segment"].notna().all()
    assert scores["clv"].isna().all()
    with Database(store_url).session() as session:
        assert session.scalars(select(ValueRun)).one().status == "partial"
        assert session.scalar(select(func.count()).select_from(CustomerScore)) == 60


def test_wrong_column_names_list_the_columns_found(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=20)
    code = run(
        [
            "value",
            str(log),
            "--customer",
            "client",
            "--date",
            "order_date",
            "--amount",
            "amount",
            "--observation-end",
            "2023-12-31",
        ]
    )
    assert code == 3
    err = capsys.readouterr().err
    assert "'client'" in err and "'customer_id'" in err and "sales.csv" in err


def test_gbk_file_read_with_encoding_option_and_refused_without(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    utf8 = synthetic_log(tmp_path / "utf8.csv", customers=300)
    log = tmp_path / "gbk.csv"
    text = utf8.read_text(encoding="utf-8").replace("customer_id,", "客户,", 1)
    log.write_bytes(text.encode("gbk"))
    base = [
        "value",
        str(log),
        "--customer",
        "客户",
        "--date",
        "order_date",
        "--amount",
        "amount",
        "--observation-end",
        "2023-12-31",
        "--no-store",
    ]
    assert run(base) == 3
    assert "--encoding gbk" in capsys.readouterr().err
    output = tmp_path / "out.csv"
    assert run([*base, "--encoding", "gbk", "--output", str(output)]) == 0
    customers = set(pd.read_csv(output)["customer_id"])
    assert "客户0" in customers or "客户1" in customers


def test_cost_to_serve_file_lowers_profit_and_bad_rows_are_named(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=200, seed=11)
    costs = tmp_path / "costs.csv"
    costs.write_text("customer_id,cost\n客户0,12.50\n客户1,3\n客户0,1.50\n", encoding="utf-8")
    output = tmp_path / "scores.csv"
    args = ["value", str(log), *ARGS, *ONE_MODEL, "--no-store", "--output", str(output)]
    assert run([*args, "--cost-to-serve", str(costs)]) == 0
    scores = pd.read_csv(output).set_index("customer_id")
    assert scores.loc["客户0", "cost_to_serve"] == pytest.approx(14.0)
    assert scores.loc["客户0", "profit"] == pytest.approx(
        0.4 * scores.loc["客户0", "total_spend"] - 14, abs=0.05
    )
    assert scores.drop(index=["客户0", "客户1"])["cost_to_serve"].eq(0).all()
    costs.write_text("customer_id,cost\n客户0,12.50\n客户1,lots\n", encoding="utf-8")
    assert run([*args, "--cost-to-serve", str(costs)]) == 3
    err = capsys.readouterr().err
    assert "costs.csv" in err and "line 3" in err and "'lots'" in err  # header = line 1
    assert not (tmp_path / "kehu.db").exists(), "--no-store must not create the store"


def test_transactions_after_the_observation_end_are_left_out_and_counted(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=200, seed=5)
    frame = pd.read_csv(log)
    after = int((frame["order_date"] > "2023-12-31").sum())
    assert after > 0
    assert run(["value", str(log), *ARGS, *ONE_MODEL, "--no-store"]) == 0
    assert f"{after:,} transactions after the observation end left out" in capsys.readouterr().out


def test_interval_options_set_the_draws_the_level_and_the_seed(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--interval-level``, ``--interval-draws`` and ``--seed`` reach the run: the scores file's
    interval columns hold the estimates, a 50 % interval is narrower than the default 90 %, the
    same seed gives the same file, and ``--interval-draws 0`` leaves the columns empty."""
    log = synthetic_log(tmp_path / "sales.csv")

    def scores(name: str, *options: str) -> pd.DataFrame:
        path = tmp_path / f"{name}.csv"
        assert run(["value", str(log), *ARGS, "--no-store", "--output", str(path), *options]) == 0
        # the engine's join gives no row order: compare customer by customer
        return pd.read_csv(path).sort_values("customer_id", ignore_index=True)

    default = scores("default")
    assert "Intervals: 90% per customer" in capsys.readouterr().out
    narrow = scores("narrow", "--interval-level", "0.5", "--seed", "3")
    assert "Intervals: 50% per customer" in capsys.readouterr().out
    again = scores("again", "--interval-level", "0.5", "--seed", "3")
    none = scores("none", "--interval-draws", "0")
    for name in ("probability_alive", "expected_purchases", "clv"):
        low, high = default[f"{name}_low"], default[f"{name}_high"]
        assert (low <= default[name] + 1e-9).all() and (default[name] <= high + 1e-9).all()
        narrow_width = narrow[f"{name}_high"] - narrow[f"{name}_low"]
        # narrower wherever the 90% interval has a width (a customer certain to be alive, who
        # bought at the end of the period, has P(alive) = 1 under every draw)
        wide = (default["frequency"] > 0) & (high - low > 1e-12)
        assert wide.sum() > len(default) // 2, name
        assert (narrow_width[wide] < (high - low)[wide]).all(), name
        assert (narrow_width <= (high - low) + 1e-12).all(), name
        pd.testing.assert_series_equal(narrow[f"{name}_low"], again[f"{name}_low"])
        assert none[f"{name}_low"].isna().all() and none[f"{name}_high"].isna().all()
    capsys.readouterr()
    assert run(["value", str(log), *ARGS, "--no-store", "--interval-draws", "5"]) == 3
    assert "--interval-draws must be 0 (no intervals) or at least 20" in capsys.readouterr().err
    assert run(["value", str(log), *ARGS, "--no-store", "--interval-level", "90"]) == 3


def test_date_format_option_reads_other_layouts_and_is_named_by_the_advice(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=150, seed=2)
    frame = pd.read_csv(log)
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.strftime("%d/%m/%Y")
    frame.to_csv(log, index=False)
    assert run(["import", str(log), *ARGS[:-2]]) == 3
    err = capsys.readouterr().err
    # every bad row is counted, on the file's lines (header = line 1), with the option's name
    assert f"{len(frame):,} bad rows" in err and "line 2 ('" in err
    assert f"and {len(frame) - 20:,} more rows with the same problem" in err
    assert "--date-format" in err and " date_format" not in err
    assert run(["import", str(log), *ARGS[:-2], "--date-format", "%d/%m/%Y"]) == 0
    assert run(["value", str(log), *ARGS, "--date-format", "%d/%m/%Y", "--no-store"]) == 0


def test_customers_left_out_of_scoring_are_counted_with_the_reason(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = synthetic_log(tmp_path / "sales.csv", customers=200, seed=5)
    frame = pd.read_csv(log)
    extra = pd.DataFrame(
        {
            # bought once and returned it the same day: no purchase left after returns
            "customer_id": ["refunded", "refunded", "late"],
            "order_date": ["2023-03-01", "2023-03-01", "2024-02-01"],
            "amount": [40.0, -40.0, 10.0],
            "cost": [24.0, -24.0, 6.0],
            "order_id": ["r1", "r2", "l1"],
        }
    )
    pd.concat([frame, extra]).to_csv(log, index=False)
    n_customers = frame["customer_id"].nunique() + 2
    report = tmp_path / "report.html"
    assert (
        run(
            ["value", str(log), *ARGS, *ONE_MODEL, "--report", str(report), "--language", "zh-Hans"]
        )
        == 0
    )
    # the console wraps long lines at the terminal's width (80 columns under xdist)
    out = " ".join(capsys.readouterr().out.split())
    assert f"1 customer of {n_customers:,} not scored: no purchase left after returns" in out
    assert "first purchase after the observation end 2023-12-31" in out
    database = Database(store_url)
    with database.session() as session:
        diagnostics = session.scalars(select(ValueRun)).one().diagnostics
    assert diagnostics["customers_in_log"] == n_customers
    left_out = diagnostics["customers_left_out"]
    assert left_out["no_purchase_after_returns"] == 1
    # "late" and the synthetic customers who first bought after the end
    first_after = frame.groupby("customer_id")["order_date"].min().gt("2023-12-31").sum() + 1
    assert left_out["first_purchase_after_end"] == first_after
    html = report.read_text(encoding="utf-8")
    assert "1 位客户" in html and "退货后没有剩余购买" in html


def test_import_progress_reaches_its_total_when_rows_repeat_an_id(
    store_url: str, tmp_path: Path
) -> None:
    from kehu.cli.store import open_store
    from kehu.value import pipeline

    log = synthetic_log(tmp_path / "sales.csv", customers=50, seed=4)
    frame = pd.read_csv(log)
    pd.concat([frame, frame.head(1)]).to_csv(log, index=False)  # one row repeated
    steps: list[tuple[int | None, int]] = []

    class Recording:
        @contextmanager
        def step(self, description: str, total: int | None = None) -> Iterator[Any]:
            done = [0]
            yield lambda n: done.__setitem__(0, done[0] + n)
            steps.append((total, done[0]))

    settings = get_settings()
    source = pipeline.open_source(
        log,
        customer="customer_id",
        date="order_date",
        amount="amount",
        id="order_id",
        cost="cost",
        encoding="utf-8",
        database=None,
        timezone="UTC",
        currency="USD",
    )
    database = open_store(settings, migrate=True)
    pipeline.import_source(source, database, settings=settings, reporter=Recording())
    # issue 9: the bar stopped one short (7023/7024): the total counted the repeated row
    assert steps == [(len(frame), len(frame))]


def test_a_bad_file_fails_before_the_store_is_opened(
    store_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nc1,2024-01-01,1\nc2,yesterday,2\n")
    assert run(["value", str(bad), "--date", "order_date"]) == 3
    assert "line 3" in capsys.readouterr().err
    assert not (tmp_path / "kehu.db").exists(), "the store is opened only for a valid file"


def test_a_bad_file_is_refused_before_the_models_the_store_and_the_domains_load(
    tmp_path: Path,
) -> None:
    """Issue 9: a bad file fails at once. What the refusal costs is what it imports; timing it
    here would be noise on a shared machine (the README's figures: about 1.2 s of CPU, of which
    Ibis with DuckDB and pandas, the validation's engine, are 0.9 s; 2.8 s before the models'
    scipy, SQLAlchemy and the domains were left until a file passed)."""
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,order_date,amount\nc1,2024-01-01,1\nc2,yesterday,2\n")
    code = (
        "import sys\n"
        "from kehu.cli import main\n"
        "try:\n"
        f"    main(['value', {str(bad)!r}, '--date', 'order_date', '--no-store'])\n"
        "except SystemExit as exit:\n"
        "    print('exit', exit.code)\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('kehu.')})))"
    )
    finished = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert "line 3" in finished.stderr
    printed = finished.stdout.split()
    assert printed[:2] == ["exit", "3"]
    loaded = set(printed[2:])
    assert loaded.isdisjoint({"scipy", "sqlalchemy", "alembic", "fastapi", "jinja2", "pypinyin"})
    domains = {"kehu.desk", "kehu.customers", "kehu.domains", "kehu.report", "kehu.web"}
    assert loaded.isdisjoint(domains)
    assert "kehu.warehouse.validation" in loaded  # the file was read, by the warehouse


def test_report_languages_are_the_catalogs_and_others_are_refused_before_any_work(
    store_url: str, tmp_path: Path
) -> None:
    assert set(get_args(ReportLanguage)) == set(LOCALES)
    assert run(["report", "--language", "fr"]) == 2
    assert not (tmp_path / "kehu.db").exists()

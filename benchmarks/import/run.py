"""Benchmark ``kehu import``: peak memory and speed on a file and a 10x larger one, and failures.

The target (from the issue): import is all-or-nothing and streams -- "a 10x larger file raises
peak memory by less than 20%", and a bad row anywhere, the last row of a large file included,
leaves the store unchanged with an error naming file, row, column and value.

Run under a Python with kehu installed (takes a few minutes; the machine should be quiet):

    python benchmarks/import/run.py                 # N = 300,000 and 10N = 3,000,000 rows
    python benchmarks/import/run.py --rows 30000    # a quick check

Every import is a fresh ``kehu import`` process under ``/usr/bin/time -v`` (wall clock and peak
RSS, Python's imports included), into a fresh store: SQLite, and PostgreSQL when ``--postgres``
(default ``postgresql://postgres@127.0.0.1:5432/test``, schema ``kehu_bench_import``, dropped and
made again before each run) answers. Files (fixed seed, cached in ``.data/``): ``customer_id,
date, amount`` with about 0.5% exact repeats of an earlier row (two identical purchases, which
the import must both keep), with and without an ``order_id`` column of transaction ids. Two
failures on the 10N file:

- *bad last row*: the last row's amount is not a number. The store already holds the N file;
  the import must fail naming the row, and leave every table as it was;
- *changed id, last row*: the last row repeats a transaction id already in the store with another
  amount. That is found in the store after all 10N rows are staged, so it times the rollback of
  the whole staged import.

Writes ``results.json`` and the results table into README.md between the ``results`` markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
SEED = 20240601
TARGET_RATIO = 1.20
PG_SCHEMA = "kehu_bench_import"
TIMEZONE = "Asia/Shanghai"  # a business time zone other than UTC: times are converted on import
KEHU = Path(sys.executable).with_name("kehu")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ data


def generate(path: Path, rows: int, *, ids: bool, seed: int = SEED) -> Path:
    """``rows`` purchases of ``rows // 10`` customers over two years; the first ``n`` rows of a
    larger file are the file of ``n`` rows (same seed)."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    customers = rng.integers(0, max(rows // 10, 1), rows)
    minutes = rng.integers(0, 2 * 365 * 24 * 60, rows)
    cents = np.round(rng.lognormal(3.0, 1.0, rows) * 100).astype(np.int64) + 1
    # about 0.5% of the rows repeat an earlier row exactly (same customer, minute and amount)
    repeat = np.flatnonzero(rng.random(rows) < 0.005)
    repeat = repeat[repeat > 0]
    source = (repeat * rng.random(len(repeat))).astype(np.int64)
    customers[repeat] = customers[source]
    minutes[repeat] = minutes[source]
    cents[repeat] = cents[source]
    start = np.datetime64("2023-01-01T00:00", "m")
    columns: dict[str, pa.Array] = {
        "customer_id": pa.array(np.char.add("C", customers.astype(str))),
        "date": pa.array((start + minutes.astype("timedelta64[m]")).astype("datetime64[s]")).cast(
            pa.string()
        ),
        "amount": pa.array(
            np.char.add(
                np.char.add((cents // 100).astype(str), "."),
                np.char.zfill((cents % 100).astype(str), 2),
            )
        ),
    }
    if ids:
        columns["order_id"] = pa.array(np.char.add("T", np.arange(1, rows + 1).astype(str)))
    table = pa.table(columns)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        out.write((",".join(table.column_names) + "\n").encode())
        pacsv.write_csv(table, out, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    partial.rename(path)
    return path


def with_last_line(source: Path, path: Path, edit: Any) -> Path:
    """A copy of ``source`` whose last line is ``edit(fields)``."""
    if path.exists():
        return path
    with source.open("rb") as handle:
        handle.seek(max(0, source.stat().st_size - 4096))
        tail = handle.read()
    last = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    keep = source.stat().st_size - len(tail) + tail.rstrip(b"\n").rfind(b"\n") + 1
    partial = path.with_suffix(".partial")
    with source.open("rb") as inp, partial.open("wb") as out:
        remaining = keep
        while remaining:
            chunk = inp.read(min(1 << 20, remaining))
            out.write(chunk)
            remaining -= len(chunk)
        out.write((",".join(edit(last.decode().split(","))) + "\n").encode())
    partial.rename(path)
    return path


def data_rows(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


# ----------------------------------------------------------------------------------- stores


class Store:
    """A fresh kehu store for each run: a SQLite file, or a PostgreSQL schema."""

    def __init__(self, kind: str, postgres: str | None) -> None:
        self.kind = kind
        self.postgres = postgres

    def fresh(self, name: str) -> str:
        if self.kind == "sqlite":
            path = DATA / "stores" / f"{name}.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob(f"{name}.db*"):
                old.unlink()
            return f"sqlite:///{path}"
        import psycopg

        assert self.postgres is not None
        with psycopg.connect(self.postgres, autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")
            con.execute(f"CREATE SCHEMA {PG_SCHEMA}")
        sep = "&" if "?" in self.postgres else "?"
        return f"{self.postgres}{sep}options=-csearch_path%3D{PG_SCHEMA}"

    def counts(self, url: str) -> dict[str, int]:
        """Rows per kehu import table (the import must leave them as they were on failure)."""
        tables = ("customers", "transactions", "import_batches", "import_staging")
        if self.kind == "sqlite":
            with sqlite3.connect(url.removeprefix("sqlite:///")) as con:
                return {
                    t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables
                }
        import psycopg

        assert self.postgres is not None
        with psycopg.connect(self.postgres) as con:
            con.execute(f"SET search_path = {PG_SCHEMA}")
            found = {}
            for t in tables:
                row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
                found[t] = int(row[0]) if row else -1
            return found


def postgres_answers(url: str) -> str | None:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as con:
            row = con.execute("SHOW server_version").fetchone()
            return str(row[0]) if row else "?"
    except Exception as exc:  # no driver, no server, no database
        log(f"PostgreSQL at {url} does not answer ({exc.__class__.__name__}); SQLite only")
        return None


# -------------------------------------------------------------------------------------- runs


def timed(args: list[str], url: str, label: str) -> dict[str, Any]:
    """Run ``kehu ARGS`` under ``/usr/bin/time -v``; wall clock, peak RSS, exit code, output."""
    work = DATA / "work"
    work.mkdir(parents=True, exist_ok=True)
    report = work / "time.txt"
    env = {
        **os.environ,
        "KEHU_DATABASE_URL": url,
        "KEHU_TIMEZONE": TIMEZONE,
        "KEHU_DATA_DIR": str(work / "kehu-data"),
        "COLUMNS": "200",
    }
    load = os.getloadavg()[0]
    command = ["/usr/bin/time", "-v", "-o", str(report), *args]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    text = report.read_text()
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))  # type: ignore[union-attr]
    clock = re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", text).group(1)  # type: ignore[union-attr]
    wall = 0.0
    for part in clock.split(":"):
        wall = wall * 60 + float(part)
    result = {
        "label": label,
        "exit": done.returncode,
        "wall_s": round(wall, 2),
        "peak_rss_mb": round(rss_kb / 1024, 1),
        "load_before": round(load, 2),
        "output": (done.stdout + done.stderr).strip()[-2000:],
    }
    log(f"{label}: exit {done.returncode}, {wall:.1f} s, peak RSS {rss_kb / 1024:.0f} MB")
    return result


def import_args(path: Path, ids: bool) -> list[str]:
    return [str(KEHU), "import", str(path), *(["--id", "order_id"] if ids else [])]


def run_backend(store: Store, files: dict[str, Path], n: int, factor: int) -> dict[str, Any]:
    results: dict[str, Any] = {"imports": [], "failures": []}
    for ids in (False, True):
        pair = []
        for rows in (n, n * factor):
            path = files[f"{'ids' if ids else 'plain'}-{rows}"]
            url = store.fresh("import")
            run = timed(
                import_args(path, ids), url, f"{store.kind} {'ids' if ids else 'no ids'} {rows:,}"
            )
            counts = store.counts(url)
            expected = data_rows(path)
            run.update(
                rows=expected,
                ids=ids,
                rows_per_s=round(expected / run["wall_s"]),
                stored=counts["transactions"],
                ok=run["exit"] == 0
                and counts["transactions"] == expected
                and counts["import_staging"] == 0,
            )
            pair.append(run)
        ratio = pair[1]["peak_rss_mb"] / pair[0]["peak_rss_mb"]
        for run in pair:
            run["ratio_10n"] = round(ratio, 3)
        results["imports"].extend(pair)

    big = n * factor
    # bad last row: the store holds the N file, the 10N file's last amount is not a number
    url = store.fresh("bad-last-row")
    seed = timed(import_args(files[f"plain-{n}"], False), url, f"{store.kind} seed {n:,}")
    before = store.counts(url)
    run = timed(import_args(files["bad-last"], False), url, f"{store.kind} bad last row {big:,}")
    after = store.counts(url)
    named = all(s in run["output"] for s in (files["bad-last"].name, f"row {big}", "amount"))
    run.update(
        case="bad last row (amount not a number)",
        rows=big,
        seed_exit=seed["exit"],
        store_before=before,
        store_after=after,
        unchanged=before == after,
        error_names_row=named,
        ok=seed["exit"] == 0 and run["exit"] != 0 and before == after and named,
    )
    results["failures"].append(run)

    # changed id on the last row: found in the store after staging everything, rolled back
    url = store.fresh("changed-id")
    seed = timed(import_args(files["id-seed"], True), url, f"{store.kind} seed id")
    before = store.counts(url)
    run = timed(import_args(files["changed-id"], True), url, f"{store.kind} changed id {big:,}")
    after = store.counts(url)
    named = all(s in run["output"] for s in (files["changed-id"].name, f"row {big}", "X1"))
    run.update(
        case="changed transaction id on the last row (found in the store, rolled back)",
        rows=big,
        seed_exit=seed["exit"],
        store_before=before,
        store_after=after,
        unchanged=before == after,
        error_names_row=named,
        ok=seed["exit"] == 0 and run["exit"] != 0 and before == after and named,
    )
    results["failures"].append(run)
    return results


# ------------------------------------------------------------------------------------ report


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = 0.0
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = round(kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    import duckdb

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": memory,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "sqlite": sqlite3.sqlite_version,
        "os": platform.platform(),
    }


def table(results: dict[str, Any], n: int, factor: int) -> str:
    info = results["machine"]
    lines = [
        f"Measured {results['date']} on {info['cpu']}, {info['cores']} cores, "
        f"{info['memory_gb']} GB RAM ({info['os']}); Python {info['python']}, DuckDB "
        f"{info['duckdb']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {results['postgres']}" if results.get("postgres") else "")
        + f". Business time zone {TIMEZONE}. A shared, noisy machine: the 1-minute load "
        "average before each run is in `results.json`; compare within one run. Python and "
        f"kehu's imports alone peak at {results['imports_only_rss_mb']:.0f} MB.",
        "",
        f"| store | ids | rows | wall s | rows/s | peak RSS MB | peak 10N / N | target < "
        f"{TARGET_RATIO:.2f} | stored |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for backend, found in results["backends"].items():
        for run in found["imports"]:
            met = run["ratio_10n"] < TARGET_RATIO
            lines.append(
                f"| {backend} | {'yes' if run['ids'] else 'no'} | {run['rows']:,} | "
                f"{run['wall_s']:.1f} | {run['rows_per_s']:,} | {run['peak_rss_mb']:.0f} | "
                f"{run['ratio_10n']:.3f} | {'met' if met else '**not met**'} | "
                f"{'all' if run['ok'] else '**wrong**'} |"
            )
    lines += [
        "",
        "| store | failure on the last of "
        f"{n * factor:,} rows | time to error s | peak RSS MB | error names row and column "
        "| store unchanged |",
        "| --- | --- | ---: | ---: | --- | --- |",
    ]
    for backend, found in results["backends"].items():
        for run in found["failures"]:
            lines.append(
                f"| {backend} | {run['case']} | {run['wall_s']:.1f} | {run['peak_rss_mb']:.0f} | "
                f"{'yes' if run['error_names_row'] else '**no**'} | "
                f"{'yes' if run['unchanged'] else '**no**'} |"
            )
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = HERE / "README.md"
    body = readme.read_text() if readme.exists() else "<!-- results -->\n<!-- /results -->\n"
    start, end = "<!-- results -->", "<!-- /results -->"
    head, _, rest = body.partition(start)
    _, _, tail = rest.partition(end)
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000, help="N (default 300,000)")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-readme", action="store_true", help="print only, keep README.md")
    args = parser.parse_args()
    n, factor = args.rows, args.factor
    big = n * factor

    log("generating data (cached in .data/)")
    files: dict[str, Path] = {}
    for ids in (False, True):
        kind = "ids" if ids else "plain"
        full = generate(DATA / f"{kind}-{big}.csv", big, ids=ids)
        files[f"{kind}-{big}"] = full
        small = DATA / f"{kind}-{n}.csv"
        if not small.exists():
            with full.open("rb") as inp, small.open("wb") as out:
                for _ in range(n + 1):
                    out.write(inp.readline())
        files[f"{kind}-{n}"] = small
    files["bad-last"] = with_last_line(
        files[f"plain-{big}"],
        DATA / f"plain-{big}-bad-last.csv",
        lambda f: [f[0], f[1], "12.5x"],
    )
    seed = DATA / "id-seed.csv"
    if not seed.exists():
        seed.write_text("customer_id,date,amount,order_id\nC1,2023-01-01 10:00:00,1.00,X1\n")
    files["id-seed"] = seed
    files["changed-id"] = with_last_line(
        files[f"ids-{big}"], DATA / f"ids-{big}-changed-id.csv", lambda f: [*f[:2], "2.00", "X1"]
    )

    log("Python and kehu's imports alone")
    probe = subprocess.run(
        [
            "/usr/bin/time",
            "-f",
            "%M",
            sys.executable,
            "-c",
            "import kehu.cli, kehu.value.pipeline, kehu.value.importing",
        ],
        capture_output=True,
        text=True,
    )
    imports_only = int(probe.stderr.strip().splitlines()[-1]) / 1024

    postgres = None if args.no_postgres else postgres_answers(args.postgres)
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "machine": machine(),
        "postgres": postgres,
        "rows": n,
        "factor": factor,
        "timezone": TIMEZONE,
        "target_ratio": TARGET_RATIO,
        "imports_only_rss_mb": round(imports_only, 1),
        "backends": {},
    }
    backends = ["sqlite"] + (["postgresql"] if postgres else [])
    for backend in backends:
        store = Store(backend, args.postgres if backend == "postgresql" else None)
        results["backends"][backend] = run_backend(store, files, n, factor)
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(args.postgres, autocommit=True) as con:
                con.execute(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE")

    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    text = table(results, n, factor)
    print(text)
    if not args.no_readme:
        write_readme(text)
    runs = [r for b in results["backends"].values() for r in b["imports"] + b["failures"]]
    met = all(r["ok"] for r in runs) and all(
        r["ratio_10n"] < TARGET_RATIO for b in results["backends"].values() for r in b["imports"]
    )
    log("target met" if met else "TARGET NOT MET (see the table)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())

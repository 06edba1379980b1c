"""Benchmark customer search: the index (SQLite FTS5 trigram, PostgreSQL pg_trgm) against the
substring scan it replaced, on a store of 23,570 customers (the demo's size).

Run under a Python with kehu installed (a minute or two):

    python benchmarks/search/run.py
    python benchmarks/search/run.py --no-postgres
    python benchmarks/search/run.py --postgres postgresql://postgres@127.0.0.1:5432/kehu_bench

The store is generated with a fixed seed: Chinese people (common surnames, the polyphonic 曾 and
单 among them, one- and two-character given names), Chinese organisations (city + name + trade +
有限公司), people with Latin names, all with an email and a mobile phone, and customers that a
transaction import added (an external id only). Rows are written with the customers domain's
search keys (``kehu.customers.search_keys``) in one Core insert; the index follows through the
migration's triggers (SQLite) or indexes (PostgreSQL), as for any write. The PostgreSQL store is a
schema ``kehu_bench_search``, dropped and made again, in the database given.

Each query runs :func:`kehu.customers.search.search_customers` (count and the first page of 25,
as the customer list does) as an admin, several times; the median is reported for

- **before**: the filter this index replaced, a ``LIKE '%word%'`` per word on
  ``coalesce(search_text, lower(external_id))`` (no pinyin: those queries found nothing);
- **scan**: today's matching (substring or pinyin key) without the index: ``LIKE`` on the columns
  (SQLite), the same query with index scans switched off (PostgreSQL);
- **index**: today's search.

Writes ``results.json`` beside this file and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, create_engine, func, insert, make_url, text

import kehu.customers.search as search
from kehu.core.auth.principal import Principal
from kehu.customers import search_index
from kehu.customers.normalize import escape_like, search_terms
from kehu.customers.search_keys import search_keys
from kehu.customers.tables import Customer
from kehu.store.db import Database

HERE = Path(__file__).resolve().parent
CUSTOMERS = 23_570
SEED = 20261202
REPEATS = 15
PG_SCHEMA = "kehu_bench_search"
ADMIN = Principal.for_user(1, ["admin"], display_name="admin")
QUERIES = (
    "张伟",
    "明远",
    "曾",
    "上海 有限公司",
    "明远贸易",
    "zhang wei",
    "zhangwei",
    "zw",
    "zeng",
    "shanghai",
    "0013 8000",
    "example.com",
    "user1234@",
    "nobody-like-this",
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曾彭曹萧田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤单"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"
    "华玉兰萍红建文辉力波宁浩凯鹏飞健斌宇晨欣怡婷雪琳远"
)
CITIES = ("上海", "北京", "广州", "深圳", "杭州", "南京", "成都", "武汉", "重庆", "长沙")
TRADES = ("贸易", "科技", "实业", "电子", "物流", "餐饮", "服装", "建材")
LATIN_GIVEN = ("Ada", "Grace", "Alan", "Linus", "Marie", "Erika", "Tom", "Anna", "Lena", "Paul")
LATIN_FAMILY = ("King", "Hopper", "Turing", "Curie", "Mustermann", "Smith", "Meyer", "Brown")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def generate(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    rows = []
    for i in range(1, count + 1):
        external_id = f"C{i:06d}"
        draw = rng.random()
        name: str | None
        family: str | None = None
        given: str | None = None
        if draw < 0.70:
            family = rng.choice(SURNAMES)
            given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            name = family + given
        elif draw < 0.85:
            middle = "".join(rng.choice(GIVEN) for _ in range(2))
            name = f"{rng.choice(CITIES)}{middle}{rng.choice(TRADES)}有限公司"
        elif draw < 0.90:
            given, family = rng.choice(LATIN_GIVEN), rng.choice(LATIN_FAMILY)
            name = f"{given} {family}"
        else:
            name = None  # added by a transaction import: an external id only
        contacts = []
        if name is not None:
            contacts = [
                ("email", f"user{i}@example.com"),
                (
                    "phone",
                    f"+86 1{rng.randrange(30, 90)}-{rng.randrange(10**4):04d}-{i % 10**4:04d}",
                ),
            ]
        keys = search_keys(names=(name, family, given), external_id=external_id, contacts=contacts)
        rows.append(
            {
                "external_id": external_id,
                "name": name,
                "family_name": family,
                "given_name": given,
                "created_at": now,
                "updated_at": now,
                "search_text": keys.text,
                "search_pinyin": keys.pinyin,
            }
        )
    return rows


def old_filter(query: str) -> ColumnElement[bool] | None:
    """The filter before the index (kehu.customers.search until migration 0005)."""
    searchable = func.coalesce(Customer.search_text, func.lower(Customer.external_id))
    words = search_terms(query)
    if not words:
        return None
    return and_(*(searchable.like(f"%{escape_like(w)}%", escape="\\") for w in words))


def scan_filter(query: str) -> ColumnElement[bool] | None:
    """Today's matching on the columns, without SQLite's full-text table."""
    words = search_terms(query)
    return and_(*map(search_index._like, words)) if words else None


@contextmanager
def filter_of(make: Callable[[str], ColumnElement[bool] | None]) -> Iterator[None]:
    saved = search.customer_filter
    search.customer_filter = make  # type: ignore[assignment]
    try:
        yield
    finally:
        search.customer_filter = saved  # type: ignore[assignment]


def timed(database: Database, query: str, *, no_index_scans: bool = False) -> tuple[float, int]:
    times = []
    total = 0
    with database.session(read_only=True) as session:
        if no_index_scans:
            session.execute(text("SET LOCAL enable_bitmapscan = off"))
            session.execute(text("SET LOCAL enable_indexscan = off"))
        search.search_customers(session, ADMIN, query, limit=25)  # warm the caches
        for _ in range(REPEATS):
            start = time.perf_counter()
            page = search.search_customers(session, ADMIN, query, limit=25)
            times.append(time.perf_counter() - start)
            total = page.total
    return statistics.median(times) * 1000, total


def measure(database: Database) -> list[dict[str, Any]]:
    postgres = database.dialect == "postgresql"
    results = []
    for query in QUERIES:
        with filter_of(old_filter):
            before_ms, before_found = timed(database, query)
        if postgres:
            scan_ms, _ = timed(database, query, no_index_scans=True)
        else:
            with filter_of(scan_filter):
                scan_ms, _ = timed(database, query)
        index_ms, found = timed(database, query)
        results.append(
            {
                "query": query,
                "before_ms": round(before_ms, 2),
                "before_found": before_found,
                "scan_ms": round(scan_ms, 2),
                "index_ms": round(index_ms, 2),
                "found": found,
                "before_over_index": round(before_ms / index_ms, 1),
            }
        )
        log(f"{database.dialect}: {results[-1]}")
    return results


def fill(database: Database, rows: list[dict[str, Any]]) -> None:
    database.upgrade()
    start = time.perf_counter()
    with database.session() as session:
        session.execute(insert(Customer.__table__), rows)  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    log(f"{database.dialect}: {len(rows):,} customers written in {seconds:.1f} s")
    if database.dialect == "postgresql":
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE customers"))


def sqlite_store(rows: list[dict[str, Any]], folder: Path) -> list[dict[str, Any]]:
    database = Database(f"sqlite:///{folder / 'kehu.db'}")
    try:
        fill(database, rows)
        return measure(database)
    finally:
        database.dispose()


def postgres_store(rows: list[dict[str, Any]], url: str) -> tuple[list[dict[str, Any]], str]:
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        version = str(connection.execute(text("SHOW server_version")).scalar())
    sep = "&" if "?" in url else "?"
    database = Database(f"{url}{sep}options=-csearch_path%3D{PG_SCHEMA}")
    try:
        fill(database, rows)
        return measure(database), version
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        admin.dispose()


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| query | before ms | scan ms | index ms | before / index | found (before) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| `{r['query']}` | {r['before_ms']} | {r['scan_ms']} | {r['index_ms']} | "
            f"{r['before_over_index']}x | {r['found']} ({r['before_found']}) |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/kehu_bench")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--customers", type=int, default=CUSTOMERS)
    args = parser.parse_args()
    rows = generate(args.customers, SEED)
    report: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "customers": args.customers,
        "repeats": REPEATS,
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version},
    }
    with tempfile.TemporaryDirectory() as folder:
        report["sqlite"] = sqlite_store(rows, Path(folder))
    print("SQLite", sqlite3.sqlite_version, f"({args.customers:,} customers)")
    print(table(report["sqlite"]))
    if not args.no_postgres:
        report["postgresql"], version = postgres_store(rows, args.postgres)
        report["machine"]["postgresql"] = version
        print(f"\nPostgreSQL {version}")
        print(table(report["postgresql"]))
    (HERE / "results.json").write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()

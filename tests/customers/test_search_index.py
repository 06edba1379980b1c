"""The search index is there at the head revision, stays in step with every write, and is what
the search uses: SQLite's FTS5 table and triggers, PostgreSQL's trigram indexes."""

from __future__ import annotations

from collections.abc import Callable

from customer_helpers import ADMIN
from sqlalchemy import and_, func, select, text, update
from sqlalchemy.orm import Session

from kehu.core.auth.principal import SYSTEM
from kehu.customers.erasure import erase_customer_personal_data
from kehu.customers.normalize import search_terms
from kehu.customers.schemas import ContactIn, CustomerCreate, CustomerUpdate
from kehu.customers.search import customer_filter, search_statement
from kehu.customers.search_index import _like
from kehu.customers.service import add_contact, create_customer, edit_customer
from kehu.customers.tables import SEARCH_INDEX_TABLE, SEARCH_TRIGRAM_INDEXES, Customer
from kehu.store.db import Database


def _plan(session: Session, query: str) -> str:
    # merged customers included: no other condition the planner might prefer to start from
    searched = search_statement(ADMIN, query, include_merged=True)
    statement = select(func.count()).select_from(searched.subquery())
    compiled = statement.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if session.get_bind().dialect.name == "sqlite" else "EXPLAIN "
    rows = session.execute(text(explain + str(compiled).replace(":", r"\:"))).all()
    return "\n".join(str(row[-1]) for row in rows)


def _check_sqlite_index(session: Session) -> None:
    """FTS5's own check, content included: fails if the index and ``customers`` differ."""
    session.execute(
        text(
            f"INSERT INTO {SEARCH_INDEX_TABLE} ({SEARCH_INDEX_TABLE}, rank) "
            "VALUES ('integrity-check', 1)"
        )
    )


def test_the_index_exists_at_the_head_revision(database: Database) -> None:
    with database.session() as session:
        if database.dialect == "sqlite":
            triggers = session.scalars(
                text(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'trigger' AND tbl_name = 'customers'"
                )
            ).all()
            # a migration that recreates customers (batch mode) drops these: make them again
            assert {f"{SEARCH_INDEX_TABLE}_{t}" for t in ("insert", "update", "delete")} <= set(
                triggers
            )
            _check_sqlite_index(session)
        else:
            indexes = session.scalars(
                text(
                    "SELECT indexname FROM pg_indexes "
                    "WHERE schemaname = current_schema() AND tablename = 'customers'"
                )
            ).all()
            assert set(SEARCH_TRIGRAM_INDEXES) <= set(indexes)


def test_the_index_follows_every_write(database: Database) -> None:
    # one transaction each, as in use: FTS5 writes a transaction's changes out when it commits
    with database.session() as session:
        for i in range(20):
            create_customer(session, SYSTEM, CustomerCreate(name=f"客户{i}"))
        wang = create_customer(
            session,
            SYSTEM,
            CustomerCreate(name="王小明", contacts=[ContactIn(type="email", value="wang.xm@a.cn")]),
        ).id
    with database.session() as session:
        add_contact(session, ADMIN, wang, ContactIn(type="phone", value="+86 139 1234 5678"))
        edit_customer(session, ADMIN, wang, CustomerUpdate(version=2, name="王晓明"))
    with database.session() as session:
        assert session.scalars(search_statement(ADMIN, "wangxiaoming")).all()
        session.execute(  # plain SQL too: the triggers see every write
            update(Customer).where(Customer.id == wang).values(search_text="plain sql")
        )
    with database.session() as session:
        if database.dialect == "sqlite":
            _check_sqlite_index(session)
        assert session.scalars(search_statement(ADMIN, "plain sql")).all()
        erase_customer_personal_data(session, ADMIN, wang)
    with database.session() as session:
        if database.dialect == "sqlite":
            _check_sqlite_index(session)
            # FTS5 keeps replaced terms in older segments until they are merged; erasure merges
            blocks = session.scalars(text(f"SELECT block FROM {SEARCH_INDEX_TABLE}_data")).all()
            stored = b"".join(block for block in blocks if isinstance(block, bytes))
            for fragment in ("晓明", "王晓", "wangx", "wxm", "ng.x", "1234"):
                assert fragment.encode() not in stored, fragment
        for query in ("wangxiaoming", "wxm", "王晓明", "wang.xm@", "139 1234"):
            assert session.scalars(search_statement(ADMIN, query)).all() == [], query


def test_long_words_are_looked_up_in_the_index(
    database: Database, person: Callable[..., int], session: Session
) -> None:
    person("上海明远贸易有限公司")
    plan = _plan(session, "明远贸易 zhangwei 有限")
    if database.dialect == "sqlite":
        assert "VIRTUAL TABLE" in plan, plan
        # words of one or two characters: read from the rows (a trigram index cannot look them up)
        assert "VIRTUAL TABLE" not in _plan(session, "明远 zw")
    else:
        # a handful of rows is read fastest without an index: ask what the index would do
        session.execute(text("SET LOCAL enable_seqscan = off"))
        assert "ix_customers_search_text_trgm" in _plan(session, "明远贸易")
        plan = _plan(session, "zhangwei")  # a substring, or the start of a pinyin key
        assert "ix_customers_search_text_trgm" in plan, plan
        assert "ix_customers_search_pinyin_trgm" in plan, plan


def test_the_index_finds_what_a_scan_of_the_columns_finds(
    person: Callable[..., int], session: Session
) -> None:
    person("张伟", ("email", "Zhang.Wei@Example.COM"), ("phone", "+86 138-0013-8000"))
    person("上海明远贸易有限公司", ("other", 'say "hi" * 100% a_b'))
    person("单雄信", ("wechat", "xi'an_2024"))
    person("曾 Lǚ Anna")
    texts = session.execute(select(Customer.search_text, Customer.search_pinyin)).all()
    words = {"zhāng", "lǚ", "xi'an", '"hi"', "100%", "a_b", "*", "' '", "a'"}
    for search_text, pinyin in texts:
        for line in [*search_text.split("\n"), *(pinyin or "").split()]:
            for size in range(1, 6):
                words.update(line[i : i + size] for i in range(0, len(line), 2))
    for word in sorted(w for w in words if w.strip()):
        indexed = set(session.scalars(select(Customer.id).where(customer_filter(word))))
        scanned = select(Customer.id).where(and_(*map(_like, search_terms(word))))
        assert indexed == set(session.scalars(scanned)), word

"""customer search index: pinyin keys, SQLite FTS5 and PostgreSQL trigram indexes (issue 7, item 8)

- ``customers.search_pinyin``: the pinyin keys of the names (" zhangwei wei zw" for 张伟), what
  "zhang wei" and "zw" match; see ``kehu.customers.pinyin``.
- SQLite: ``customer_search``, an FTS5 table with the trigram tokenizer (SQLite 3.34 or later)
  whose content is ``customers.search_text`` and ``search_pinyin`` (``content_rowid`` = ``id``),
  and three triggers that keep it in step with every insert, update of those columns and delete,
  whoever writes them (plain SQL too). A later migration that recreates ``customers`` on SQLite
  (batch mode: copy, drop, rename) drops these triggers with the old table: it must create them
  again as below and rebuild the index (tests/customers/test_search_index.py fails otherwise).
- PostgreSQL: GIN trigram indexes (``gin_trgm_ops``) on both columns. They need the ``pg_trgm``
  extension: created when missing if the migrating role may (a trusted extension: a role with
  CREATE on the database may); if it may not, the indexes are left out with a warning, and
  search works the same by reading the whole table. The warning gives the statements that add
  them later.

Backfill, so that an existing store finds its customers as a new one does:

- ``search_text`` of rows that had none (customers that the value import created): their names
  and external id in the normal form of ``kehu.customers.normalize`` (NFKC, spaces collapsed,
  lower case); before, search fell back on ``lower(external_id)`` for them.
- ``search_pinyin`` of every customer with a Chinese name.

Both are frozen copies of the customers domain's functions as of this revision (the store
imports no domain), so the migration does the same on every version of kehu (pypinyin's readings
are those of the installed pypinyin);
tests/store/test_migration_0005_customer_search.py checks that what it writes is what the
customers domain writes, and fails when the domain's keys change without a migration that
rebuilds them.

Downgrade drops the index, the triggers and ``search_pinyin``; ``search_text`` keeps the filled
values, which the old search's fallback matched anyway.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from alembic import op
from pypinyin import Style, pinyin
from sqlalchemy.exc import DBAPIError

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH_ROWS = 5_000
TRIGRAM_INDEXES = {
    "ix_customers_search_text_trgm": "search_text",
    "ix_customers_search_pinyin_trgm": "search_pinyin",
}
SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE customer_search USING fts5(search_text, search_pinyin, "
    "content='customers', content_rowid='id', tokenize='trigram')"
)
# An external-content FTS5 table deletes a row's old terms by being handed the old values.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER customer_search_insert AFTER INSERT ON customers BEGIN "
    "INSERT INTO customer_search (rowid, search_text, search_pinyin) "
    "VALUES (new.id, new.search_text, new.search_pinyin); END",
    "CREATE TRIGGER customer_search_delete AFTER DELETE ON customers BEGIN "
    "INSERT INTO customer_search (customer_search, rowid, search_text, search_pinyin) "
    "VALUES ('delete', old.id, old.search_text, old.search_pinyin); END",
    "CREATE TRIGGER customer_search_update AFTER UPDATE OF search_text, search_pinyin "
    "ON customers BEGIN "
    "INSERT INTO customer_search (customer_search, rowid, search_text, search_pinyin) "
    "VALUES ('delete', old.id, old.search_text, old.search_pinyin); "
    "INSERT INTO customer_search (rowid, search_text, search_pinyin) "
    "VALUES (new.id, new.search_text, new.search_pinyin); END",
)

log = logging.getLogger("alembic.runtime.migration")

customers = sa.table(
    "customers",
    sa.column("id", sa.BigInteger),
    sa.column("external_id", sa.String),
    sa.column("name", sa.String),
    sa.column("family_name", sa.String),
    sa.column("given_name", sa.String),
    sa.column("search_text", sa.Text),
    sa.column("search_pinyin", sa.Text),
)


def upgrade() -> None:
    connection = op.get_bind()
    op.add_column("customers", sa.Column("search_pinyin", sa.Text(), nullable=True))
    _backfill(connection)
    if connection.dialect.name == "sqlite":
        _create_sqlite_index(connection)
    elif connection.dialect.name == "postgresql":
        schema = _pg_trgm_schema(connection)
        for index, column in TRIGRAM_INDEXES.items() if schema is not None else ():
            opclass = f'"{schema}".gin_trgm_ops'
            op.execute(f"CREATE INDEX {index} ON customers USING gin ({column} {opclass})")


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS customer_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS customer_search")
        # SQLite drops a column in place since 3.35 (this revision needs 3.34 for trigram, and
        # batch mode would recreate a table that other tables' rows point at)
        op.execute("ALTER TABLE customers DROP COLUMN search_pinyin")
        return
    for index in TRIGRAM_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {index}")
    op.drop_column("customers", "search_pinyin")


# --- the index --------------------------------------------------------------------------------


def _create_sqlite_index(connection: sa.Connection) -> None:
    try:
        connection.exec_driver_sql(SQLITE_INDEX)
    except DBAPIError as exc:
        raise RuntimeError(
            f"customer search needs SQLite 3.34 or later with FTS5 (this is SQLite "
            f"{connection.dialect.dbapi.sqlite_version}): {exc.orig}"  # type: ignore[union-attr]
        ) from exc
    connection.exec_driver_sql("INSERT INTO customer_search (customer_search) VALUES ('rebuild')")
    for trigger in SQLITE_TRIGGERS:
        connection.exec_driver_sql(trigger)


def _pg_trgm_schema(connection: sa.Connection) -> str | None:
    """The schema of the pg_trgm extension (the store's schema need not have it on its search
    path), creating the extension if it is missing and the role may; ``None`` if it may not."""
    installed = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    schema = connection.exec_driver_sql(installed).scalar()
    if schema is not None:
        return str(schema)
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        statements = " ".join(
            f"CREATE INDEX {index} ON customers USING gin ({column} gin_trgm_ops);"
            for index, column in TRIGRAM_INDEXES.items()
        )
        log.warning(
            "customer search: cannot create the pg_trgm extension (%s); the search indexes are "
            "left out and search reads the whole customers table. To add them: CREATE "
            "EXTENSION pg_trgm; as a role that may, then %s",
            " ".join(str(exc.orig).split()),
            statements,
        )
        return None
    return str(connection.exec_driver_sql(installed).scalar())


# --- the backfill: frozen copies of kehu.customers.normalize and kehu.customers.pinyin ---------

_SPACES = re.compile(r"\s+")
_HAN_RUN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
_PINYIN_WORD = re.compile(r"^[a-z]+$")
MAX_VARIANTS = 8
MAX_KEY_SYLLABLES = 10


def _backfill(connection: sa.Connection) -> None:
    last = 0
    while True:
        rows = connection.execute(
            sa.select(
                customers.c.id,
                customers.c.external_id,
                customers.c.name,
                customers.c.family_name,
                customers.c.given_name,
                customers.c.search_text,
            )
            .where(customers.c.id > last)
            .order_by(customers.c.id)
            .limit(BATCH_ROWS)
        ).all()
        if not rows:
            return
        changes = []
        for row_id, external_id, *names, text in rows:
            keys = _pinyin_keys(names)
            if text is None or keys is not None:
                changes.append(
                    {
                        "row_id": row_id,
                        "text_value": _search_text(names, external_id) if text is None else text,
                        "pinyin_value": keys,
                    }
                )
        if changes:
            connection.execute(
                sa.update(customers)
                .where(customers.c.id == sa.bindparam("row_id"))
                .values(
                    search_text=sa.bindparam("text_value"),
                    search_pinyin=sa.bindparam("pinyin_value"),
                ),
                changes,
            )
        last = rows[-1][0]


def _normal(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().lower()


def _search_text(names: Iterable[str | None], external_id: str | None) -> str:
    """A customer's ``search_text`` without contacts (a row no use case wrote has none)."""
    parts = [_normal(value) for value in (*names, external_id) if value]
    return "\n".join(dict.fromkeys(parts))


def _pinyin_keys(names: Iterable[str | None]) -> str | None:
    keys: set[str] = set()
    for name in names:
        for run in _HAN_RUN.findall(unicodedata.normalize("NFKC", name or "")):
            for readings in _readable_stretches(run):
                for variant in _variants(readings):
                    keys.update(_keys_of(variant))
    if not keys:
        return None
    ordered = sorted(keys)
    kept = [
        k for k, after in zip(ordered, [*ordered[1:], ""], strict=True) if not after.startswith(k)
    ]
    return "".join(" " + key for key in kept)


def _readable_stretches(run: str) -> list[list[list[str]]]:
    stretches: list[list[list[str]]] = [[]]
    for readings in pinyin(run, style=Style.NORMAL, heteronym=True):
        spelt: list[str] = []
        for reading in (r.lower() for r in readings):
            if _PINYIN_WORD.match(reading):
                spelt += [reading, reading.replace("v", "u")] if "v" in reading else [reading]
        if spelt:
            stretches[-1].append(list(dict.fromkeys(spelt)))
        elif stretches[-1]:
            stretches.append([])
    return [stretch for stretch in stretches if stretch]


def _variants(readings: list[list[str]]) -> list[list[str]]:
    usual = [spelt[0] for spelt in readings]
    variants = [usual]
    for position, spelt in enumerate(readings):
        for other in spelt[1:]:
            if len(variants) == MAX_VARIANTS:
                return variants
            variants.append([*usual[:position], other, *usual[position + 1 :]])
    return variants


def _keys_of(syllables: list[str]) -> Iterator[str]:
    for start in range(len(syllables)):
        window = syllables[start : start + MAX_KEY_SYLLABLES]
        yield "".join(window)
        yield "".join(syllable[0] for syllable in window)

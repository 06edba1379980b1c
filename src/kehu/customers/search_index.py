"""How the words of a customer search are matched, through an index on each database.

A word matches a customer when it is a substring of ``search_text`` (names, external id, emails,
phones: :func:`kehu.customers.normalize.build_search_text`) or, when the word can be pinyin, the
start of one of the pinyin keys in ``search_pinyin`` (:mod:`kehu.customers.pinyin`). Every word
must match. The same condition is written for each database so that it uses that database's
index:

- **SQLite**: the FTS5 table ``customer_search`` (trigram tokenizer; its content is the two
  columns of ``customers``, kept up to date by triggers, so raw SQL writes are indexed too). All
  words of three characters or more are one ``MATCH`` query, each word a quoted phrase: an exact
  substring, with no wildcards to escape. A trigram index cannot look up shorter words (a
  ``MATCH`` or ``LIKE`` on the table finds nothing for them), so a word of one or two characters
  (张伟, 李娜) is a ``LIKE`` on ``customers``' own columns, checked on the rows the longer words
  left, or on every row when the query has no longer word: a scan, as before the index, which is
  still quick at the size of a customer list (benchmarks/search).
- **PostgreSQL** (and any other database): ``LIKE`` on the columns, which the trigram (pg_trgm)
  GIN indexes serve when migration 0005 could create the extension; without it the same query
  reads the whole table.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ColumnElement, and_, column, literal_column, or_, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from kehu.customers.normalize import escape_like
from kehu.customers.pinyin import pinyin_query
from kehu.customers.tables import SEARCH_INDEX_TABLE, Customer

#: the shortest word the trigram index can look up
SHORTEST_INDEXED_WORD = 3

_fts = table(SEARCH_INDEX_TABLE, column("rowid"))


def matching(words: list[str]) -> ColumnElement[bool] | None:
    """The condition that every one of ``words`` (normalised search terms) matches; ``None``
    for no words."""
    if not words:
        return None
    indexed = [word for word in words if _indexable(word)]
    short = [word for word in words if not _indexable(word)]
    conditions = [_like(word) for word in short]
    if indexed:
        conditions.insert(0, _Indexed(_fts_match(indexed), and_(*map(_like, indexed))))
    return and_(*conditions)


def _indexable(word: str) -> bool:
    """Whether the trigram index can look ``word`` up: three characters at least, and so is its
    pinyin phrase (a space and the word without tone marks or apostrophes)."""
    pinyin = pinyin_query(word)
    shortest = len(word) if pinyin is None else min(len(word), len(pinyin) + 1)
    return shortest >= SHORTEST_INDEXED_WORD


def _like(word: str) -> ColumnElement[bool]:
    literal = Customer.search_text.like(f"%{escape_like(word)}%", escape="\\")
    pinyin = pinyin_query(word)
    if pinyin is None:
        return literal
    return or_(literal, Customer.search_pinyin.like(f"% {pinyin}%"))


def _fts_match(words: list[str]) -> ColumnElement[bool]:
    """``customers.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH ...)``
    with every word a phrase on ``search_text``, or on ``search_pinyin`` after a space."""
    parts = []
    for word in words:
        either = [f"search_text : {_phrase(word)}"]
        pinyin = pinyin_query(word)
        if pinyin is not None:
            either.append(f"search_pinyin : {_phrase(' ' + pinyin)}")
        parts.append("(" + " OR ".join(either) + ")")
    query = " AND ".join(parts)
    rowids = select(_fts.c.rowid).where(literal_column(SEARCH_INDEX_TABLE).op("MATCH")(query))
    return Customer.id.in_(rowids)


def _phrase(text: str) -> str:
    """An FTS5 string: in double quotes, a double quote doubled; everything inside is literal."""
    return '"' + text.replace('"', '""') + '"'


class _Indexed(ColumnElement[bool]):
    """One condition written two ways: for SQLite through its full-text table, for any other
    database on the columns. Both are children of the construct, so the statement's cache key
    holds the values of both and a cached statement is reused with new words."""

    inherit_cache = True
    type = Boolean()
    # a condition in itself: without this, databases with no boolean type get "(...) = 1",
    # which hides the IN list from SQLite's planner
    _is_implicitly_boolean = True
    _traverse_internals = [  # noqa: RUF012 - SQLAlchemy's traversal protocol
        ("on_sqlite", InternalTraversal.dp_clauseelement),
        ("on_columns", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, on_sqlite: ColumnElement[bool], on_columns: ColumnElement[bool]) -> None:
        self.on_sqlite = on_sqlite
        self.on_columns = on_columns


# in parentheses: the compiler does not know what a custom construct holds ("a OR b AND c")
@compiles(_Indexed)
def _on_columns(element: _Indexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.on_columns, **kw)})"


@compiles(_Indexed, "sqlite")
def _on_sqlite(element: _Indexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.on_sqlite, **kw)})"

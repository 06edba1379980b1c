"""Customer search and lists, through the permission layer.

Matching is a case-insensitive substring match on ``customers.search_text`` (kept on every write,
see :func:`kehu.customers.normalize.build_search_text`), so it behaves the same on SQLite and
PostgreSQL and needs no tokenizer for Chinese: "张" finds "张伟". A phone-like query ("138 0013",
"+86 138-0013") is reduced to its digits and matched against the digits-only phones; any other
query is split on whitespace and every word must match. LIKE wildcards typed by the user are
escaped, so "100%" looks for a literal percent sign.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import Session

from kehu.auth.principal import Principal
from kehu.auth.scoping import scoped
from kehu.customers.normalize import escape_like, search_terms
from kehu.customers.schemas import CustomerOut, CustomerPage
from kehu.customers.tables import CUSTOMER_KINDS, Customer, CustomerTag, Tag
from kehu.errors import InputError

MAX_LIMIT = 500


def _searchable() -> ColumnElement[Any]:
    # customers added by a transaction import have no search_text until first edited
    return func.coalesce(Customer.search_text, func.lower(Customer.external_id))


def customer_filter(query: str) -> ColumnElement[bool] | None:
    """The WHERE condition for ``query`` (``None`` for an empty query)."""
    conditions = [
        _searchable().like(f"%{escape_like(term)}%", escape="\\") for term in search_terms(query)
    ]
    if not conditions:
        return None
    return and_(*conditions)


def search_statement(
    principal: Principal,
    query: str = "",
    *,
    kind: str | None = None,
    tag: str | None = None,
    owner_user_id: int | None = None,
    include_merged: bool = False,
) -> Select[Any]:
    """The scoped ``select(Customer)`` of a search (for lists, exports and the API's sorting)."""
    if kind is not None and kind not in CUSTOMER_KINDS:
        raise InputError(f"kind is one of {', '.join(CUSTOMER_KINDS)}", column="kind", value=kind)
    statement: Select[Any] = select(Customer)
    condition = customer_filter(query)
    if condition is not None:
        statement = statement.where(condition)
    if kind is not None:
        statement = statement.where(Customer.kind == kind)
    if owner_user_id is not None:
        statement = statement.where(Customer.owner_user_id == owner_user_id)
    if tag is not None:
        statement = statement.where(
            Customer.id.in_(
                select(CustomerTag.customer_id)
                .join(Tag, Tag.id == CustomerTag.tag_id)
                .where(Tag.name == tag.strip())
            )
        )
    if not include_merged:
        statement = statement.where(Customer.merged_into_id.is_(None))
    return scoped(statement, principal, Customer)


def search_customers(
    session: Session,
    principal: Principal,
    query: str = "",
    *,
    kind: str | None = None,
    tag: str | None = None,
    owner_user_id: int | None = None,
    include_merged: bool = False,
    limit: int = 50,
    offset: int = 0,
) -> CustomerPage:
    """Customers matching ``query`` (names, external id, emails, phone fragments), ordered by
    name then id; merged customers are left out unless ``include_merged``."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit is between 1 and {MAX_LIMIT}", column="limit", value=limit)
    if offset < 0:
        raise InputError("offset cannot be negative", column="offset", value=offset)
    statement = search_statement(
        principal,
        query,
        kind=kind,
        tag=tag,
        owner_user_id=owner_user_id,
        include_merged=include_merged,
    )
    total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    rows = session.scalars(
        statement.order_by(Customer.name.nulls_last(), Customer.id).limit(limit).offset(offset)
    ).all()
    return CustomerPage(
        items=[CustomerOut.model_validate(row) for row in rows],
        total=total,
        limit=limit,
        offset=offset,
    )

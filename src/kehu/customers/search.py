"""Customer search and lists, through the permission layer.

A query is split into words (:func:`kehu.customers.normalize.search_terms`): a phone-like query
("138 0013", "+86 138-0013") is one word of its digits, matched against the digits-only phones;
any other query is its whitespace-separated words, lower-cased, and every word must match, in any
order. A word matches a customer when it is a substring of the names, external id, emails or
phones ("明远" finds 上海明远贸易有限公司, "ZHANG.WEI@ex" an email; characters typed as they are,
so "100%" looks for a literal percent sign), or when it is pinyin that begins one of the pinyin
keys of the names ("zhang wei", "zhangwei", "zhangw" and "zw" find 张伟; see
:mod:`kehu.customers.pinyin` for what is and is not matched). How each database looks the words up
in an index is :mod:`kehu.customers.search_index`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal
from kehu.core.auth.scoping import scoped
from kehu.customers.normalize import search_terms
from kehu.customers.schemas import CustomerOut, CustomerPage
from kehu.customers.search_index import matching
from kehu.customers.tables import CUSTOMER_KINDS, Customer, CustomerTag, Tag
from kehu.errors import InputError

MAX_LIMIT = 500


def customer_filter(query: str) -> ColumnElement[bool] | None:
    """The WHERE condition for ``query`` (``None`` for an empty query)."""
    return matching(search_terms(query))


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


def matching_customer_ids(principal: Principal, query: str = "", *, tag: str | None = None) -> Any:
    """The scoped ``select(Customer.id)`` of the customers ``query`` and ``tag`` find, merged
    ones included (another domain's rows may still point at them): for a subquery such as the
    ticket queue's "customer" words and tag filter."""
    statement = search_statement(principal, query, tag=tag, include_merged=True)
    return statement.with_only_columns(Customer.id)


def tag_names(session: Session, principal: Principal) -> list[str]:
    """The names of the tags on customers the principal may see, in name order."""
    statement = scoped(
        select(Tag.name)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .join(Customer, Customer.id == CustomerTag.customer_id)
        .distinct(),
        principal,
        Customer,
    )
    return list(session.scalars(statement.order_by(Tag.name)))

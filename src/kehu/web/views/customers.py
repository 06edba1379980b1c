"""The customer pages: the list (search, filters, pages) and the 360 page (profile, contacts,
tags, consent per channel, the value card, the timeline with "load more", open tickets).

Everything is read through the customers and service use cases, which apply the permission
layer: a customer outside the caller's scope is "not found", like an unknown id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_NAMES
from kehu.auth.scoping import scoped
from kehu.customers import timeline as customer_timeline
from kehu.customers.search import search_customers
from kehu.customers.service import get_customer
from kehu.customers.tables import (
    CHANNELS,
    CUSTOMER_KINDS,
    CustomerContact,
    CustomerTag,
    Tag,
)
from kehu.errors import InputError, NotFoundError
from kehu.service.tickets import list_tickets
from kehu.service.workflow import ACTIVE_CATEGORIES
from kehu.value.tables import CustomerScore, ValueRun
from kehu.web.deps import get_session
from kehu.web.labels import namer
from kehu.web.rendering import Page, StaffPage
from kehu.web.views.value import latest_run

router = APIRouter()

PAGE_SIZE = 25
TIMELINE_PAGE = 20
SessionDep = Annotated[Session, Depends(get_session)]


def not_found(page: Page) -> HTMLResponse:
    """The one page for unknown ids and ids outside the caller's scope."""
    _ = page._
    return page.render(
        "error.html",
        {
            "title": _("Not found"),
            "message": _("There is no such record, or you may not see it."),
        },
        status_code=404,
    )


def _names(page: Page) -> dict[str, Any]:
    translator = page.translator
    return {
        "name": namer(translator.lookup),
        "tier_name": lambda code: translator.display_name(TIER_NAMES.get(code), code or ""),
        "segment_name": lambda code: translator.display_name(SEGMENT_NAMES.get(code), code or ""),
    }


# -- the list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerRow:
    id: int
    name: str
    external_id: str
    kind: str
    tags: list[str]
    email: str | None
    phone: str | None


def _rows(session: Session, items: list[Any]) -> list[CustomerRow]:
    """The page's customers with their tags and first email and phone (the customers come from
    the scoped search; these lookups only add detail to them)."""
    ids = [item.id for item in items]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    contacts: dict[tuple[int, str], str] = {}
    if ids:
        for customer_id, tag in session.execute(
            select(CustomerTag.customer_id, Tag.name)
            .join(Tag, Tag.id == CustomerTag.tag_id)
            .where(CustomerTag.customer_id.in_(ids))
            .order_by(Tag.name)
        ):
            tags[customer_id].append(tag)
        for customer_id, kind, value in session.execute(
            select(CustomerContact.customer_id, CustomerContact.type, CustomerContact.value)
            .where(CustomerContact.customer_id.in_(ids))
            .where(CustomerContact.type.in_(("email", "phone")))
            .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)
        ):
            contacts.setdefault((customer_id, kind), value)
    return [
        CustomerRow(
            id=item.id,
            name=item.name or item.external_id,
            external_id=item.external_id,
            kind=item.kind,
            tags=tags[item.id],
            email=contacts.get((item.id, "email")),
            phone=contacts.get((item.id, "phone")),
        )
        for item in items
    ]


@router.get("/customers", name="web_customers")
def customer_list(
    page: StaffPage,
    session: SessionDep,
    q: Annotated[str, Query(max_length=200)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    tag: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    if not principal.can("customers:read"):
        return page.forbidden()
    kind_filter = kind if kind in CUSTOMER_KINDS else None
    found = search_customers(
        session,
        principal,
        q,
        kind=kind_filter,
        tag=tag.strip() or None,
        limit=PAGE_SIZE,
        offset=offset,
    )
    filters = {"q": q or None, "kind": kind_filter, "tag": tag.strip() or None}
    previous_offset = max(offset - PAGE_SIZE, 0) if offset > 0 else None
    next_offset = offset + PAGE_SIZE if offset + PAGE_SIZE < found.total else None
    return page.render(
        "customers/list.html",
        {
            "customers": _rows(session, list(found.items)),
            "total": found.total,
            "first": offset + 1 if found.total else 0,
            "last": offset + len(found.items),
            "q": q,
            "kind": kind_filter or "",
            "tag": tag.strip(),
            "kinds": CUSTOMER_KINDS,
            "filters": filters,
            "previous_offset": previous_offset,
            "next_offset": next_offset,
            **_names(page),
        },
        active="customers",
    )


# -- the 360 page ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueCard:
    run: ValueRun
    score: CustomerScore
    currency: str
    minor_units: int


def value_card(session: Session, page: Page, customer_id: int) -> ValueCard | None:
    """The customer's score in the latest value run (``None`` without ``value:read``, without
    a run, or when the run did not score the customer)."""
    principal = page.principal
    assert principal is not None
    if not principal.can("value:read"):
        return None
    run = latest_run(session, principal)
    if run is None:
        return None
    statement = scoped(
        select(CustomerScore).where(
            CustomerScore.run_id == run.id, CustomerScore.customer_id == customer_id
        ),
        principal,
        CustomerScore,
    )
    score = session.scalars(statement).first()
    if score is None:
        return None
    settings = run.settings or {}
    return ValueCard(
        run=run,
        score=score,
        currency=str(settings.get("currency") or page.settings.currency),
        minor_units=int(settings.get("minor_units", page.settings.currency_minor_units)),
    )


@dataclass(frozen=True)
class TimelineItem:
    at: Any
    kind: str  # css class: purchase, value, customer, ticket
    title: str
    detail: str
    ticket_id: int | None = None


def _timeline_item(page: Page, entry: customer_timeline.TimelineEntry) -> TimelineItem:
    _ = page._
    translator = page.translator
    name = namer(translator.lookup)
    detail = entry.detail
    money = page.settings.currency
    units = page.settings.currency_minor_units
    if entry.kind in ("purchase", "return"):
        amount = translator.format_money(abs(int(detail.get("amount_minor") or 0)), money, units)
        title = _("Purchase") if entry.kind == "purchase" else _("Return")
        return TimelineItem(entry.at, "purchase", title, _("Amount %(amount)s", amount=amount))
    if entry.kind == "value_score":
        settings_currency = money
        text = _(
            "%(tier)s, lifetime value %(clv)s, probability alive %(p)s",
            tier=translator.display_name(
                TIER_NAMES.get(str(detail.get("value_tier"))), str(detail.get("value_tier"))
            ),
            clv=translator.format_money(detail.get("clv_minor"), settings_currency, units),
            p=translator.format_percent(detail.get("probability_alive")),
        )
        return TimelineItem(entry.at, "value", _("Value scored"), text)
    if entry.source == "tickets" and entry.kind.startswith("ticket_"):
        ticket_id = int(detail.get("ticket_id") or 0)
        return TimelineItem(
            entry.at,
            "ticket",
            name("ticket_event", entry.kind.removeprefix("ticket_")),
            _("Ticket #%(id)s", id=ticket_id),
            ticket_id,
        )
    text = ""
    if entry.kind in ("tagged", "untagged") and detail.get("tag"):
        text = str(detail["tag"])
    elif entry.kind == "preference_changed" and detail.get("channel"):
        text = name("message_channel", str(detail["channel"]))
    return TimelineItem(entry.at, "customer", name("customer_event", entry.kind), text)


def _timeline_context(
    page: Page, session: Session, customer_id: int, before: str | None
) -> dict[str, Any]:
    principal = page.principal
    assert principal is not None
    timeline = customer_timeline.customer_timeline(
        session, principal, customer_id, before=before, limit=TIMELINE_PAGE
    )
    return {
        "customer_id": customer_id,
        "timeline": [_timeline_item(page, entry) for entry in timeline.entries],
        "next_cursor": timeline.next_cursor,
    }


@router.get("/customers/{customer_id}", name="web_customer")
def customer_page(page: StaffPage, session: SessionDep, customer_id: int) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    if not principal.can("customers:read"):
        return page.forbidden()
    try:
        customer = get_customer(session, principal, customer_id)
    except NotFoundError:
        return not_found(page)
    preferences = {p.channel: p for p in customer.preferences}
    tickets = []
    if principal.can("tickets:read"):
        tickets = [
            t
            for t in list_tickets(session, principal, customer_id=customer.id, limit=200)
            if t.status_category in ACTIVE_CATEGORIES and t.merged_into_id is None
        ]
    owner = None
    if customer.owner_user_id is not None:
        owner = (
            principal.display_name
            if customer.owner_user_id == principal.user_id and principal.display_name
            else page._("User %(id)s", id=customer.owner_user_id)
        )
    return page.render(
        "customers/detail.html",
        {
            "customer": customer,
            "owner": owner,
            "channels": CHANNELS,
            "preferences": preferences,
            "card": value_card(session, page, customer.id),
            "can_see_value": principal.can("value:read"),
            "open_tickets": tickets,
            "can_see_tickets": principal.can("tickets:read"),
            **_timeline_context(page, session, customer.id, None),
            **_names(page),
        },
        active="customers",
    )


@router.get("/customers/{customer_id}/timeline", name="web_customer_timeline")
def timeline_fragment(
    page: StaffPage,
    session: SessionDep,
    customer_id: int,
    before: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """More of the timeline (htmx swaps it in place of the "load more" button)."""
    principal = page.principal
    assert principal is not None
    if not principal.can("customers:read"):
        return page.forbidden()
    try:
        context = _timeline_context(page, session, customer_id, before)
    except NotFoundError:
        return not_found(page)
    except InputError:
        _ = page._
        return page.render(
            "error.html",
            {"title": _("Not found"), "message": _("This part of the timeline does not exist.")},
            status_code=422,
        )
    return page.render("customers/_timeline.html", context)

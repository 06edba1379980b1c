"""The customer pages: the list (search, filters, pages) and the 360 page (profile, contacts,
tags, consent per channel, the value card, the timeline with "load more", open tickets, likely
duplicates).

Everything is read through the customers and service use cases, which apply the permission
layer: a customer outside the caller's scope is "not found", like an unknown id.

The 360 page's forms (edit the profile, add or remove a tag, set consent and preference on a
channel, merge a duplicate in) post with the session's CSRF token and are refused (403) without
``customers:write`` (``customers:merge`` for a merge). A profile edit carries the version the
user saw: a change made by someone else meanwhile answers 409 with a "changed by someone else"
message and the latest version. After a change the browser goes back to the page (post,
redirect, get).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_NAMES
from kehu.core.auth.principal import Principal
from kehu.core.money import Money
from kehu.customers import timeline as customer_timeline
from kehu.customers.duplicate_flags import open_flags
from kehu.customers.duplicates import find_duplicates
from kehu.customers.merge import merge_customers
from kehu.customers.queries import contacts_of, customer_names, tags_of
from kehu.customers.schemas import CustomerUpdate, PreferenceIn
from kehu.customers.search import search_customers
from kehu.customers.service import (
    edit_customer,
    get_customer,
    load_customer,
    set_contact_preference,
    tag_customer,
    untag_customer,
)
from kehu.customers.vocabulary import CHANNELS, CONSENTS, CONTACT_PREFERENCES, CUSTOMER_KINDS
from kehu.desk.ticket_queries import list_tickets
from kehu.desk.workflow import ACTIVE_CATEGORIES
from kehu.errors import ConflictError, InputError
from kehu.store.bounds import INT32_MAX, MAX_ID, Id
from kehu.value.queries import ValueCard, first_purchase_at
from kehu.value.queries import value_card as latest_value_card
from kehu.web.deps import SessionDep
from kehu.web.labels import LANGUAGES, horizon_words, namer, sla_event_title
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

PAGE_SIZE = 25
TIMELINE_PAGE = 20
#: After a change, the notice shown on the 360 page.
DONE = ("edit", "tag", "untag", "preference", "merge", "duplicate_dismissed", "duplicate_merged")


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


def _rows(session: Session, principal: Principal, items: list[Any]) -> list[CustomerRow]:
    """The page's customers with their tags and first email and phone (the customers come from
    the scoped search; these lookups only add detail to them)."""
    ids = [item.id for item in items]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    contacts: dict[tuple[int, str], str] = {}
    if ids:
        for customer_id, tag in tags_of(session, principal, ids):
            tags[customer_id].append(tag)
        for customer_id, kind, value in contacts_of(
            session, principal, ids, types=("email", "phone"), primary_first=True
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
            "customers": _rows(session, principal, list(found.items)),
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


def _card_horizon(page: Page, card: ValueCard) -> str:
    """The horizon of the card's expected purchases, the run's (``52 weeks``)."""
    settings = card.run.settings or {}
    return horizon_words(
        page.translator, str(settings.get("unit", "week")), int(settings.get("horizon", 52))
    )


def value_card(session: Session, page: Page, customer_id: int) -> ValueCard | None:
    """The customer's score in the latest value run (``None`` without ``value:read``, without
    a run, or when the run did not score the customer)."""
    principal = page.principal
    assert principal is not None
    if not principal.can("value:read"):
        return None
    return latest_value_card(session, principal, customer_id)


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
    if entry.kind in ("purchase", "return"):
        # the transaction's own currency and the run's: what was stored, not today's setting
        paid = Money(abs(int(detail.get("amount_minor") or 0)), str(detail["currency"]))
        amount = translator.format_money(paid)
        title = _("Purchase") if entry.kind == "purchase" else _("Return")
        return TimelineItem(entry.at, "purchase", title, _("Amount %(amount)s", amount=amount))
    if entry.kind == "value_score":
        clv = detail.get("clv_minor")
        text = _(
            "%(tier)s, lifetime value %(clv)s, probability alive %(p)s",
            tier=translator.display_name(
                TIER_NAMES.get(str(detail.get("value_tier"))), str(detail.get("value_tier"))
            ),
            clv=translator.format_money(
                None if clv is None else Money(int(clv), str(detail["currency"]))
            ),
            p=translator.format_percent(detail.get("probability_alive")),
        )
        return TimelineItem(entry.at, "value", _("Value scored"), text)
    if entry.source == "tickets" and entry.kind.startswith("ticket_"):
        ticket_id = int(detail.get("ticket_id") or 0)
        kind = entry.kind.removeprefix("ticket_")
        return TimelineItem(
            entry.at,
            "ticket",
            sla_event_title(translator, kind, detail) or name("ticket_event", kind),
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


@dataclass(frozen=True)
class DuplicateView:
    id: int
    name: str
    reasons: list[str]


def _duplicate_reason(page: Page, reason: str) -> str:
    """A reason of :func:`kehu.customers.duplicates.find_duplicates`, in the page's language."""
    _ = page._
    if reason.startswith("same email "):
        return _("Same email %(value)s", value=reason.removeprefix("same email "))
    if reason.startswith("same phone "):
        return _("Same phone %(value)s", value=reason.removeprefix("same phone "))
    if reason.startswith("similar names in "):
        where = reason.removeprefix("similar names in ")
        return _("Similar names in %(organisation)s", organisation=where)
    if reason == "similar organisation names":
        return _("Similar organisation names")
    return reason


def _duplicates(
    page: Page, session: Session, principal: Principal, customer: Any
) -> list[DuplicateView]:
    """Likely duplicates of an active customer, among the customers the principal may see."""
    if customer.merged_into_id is not None:
        return []
    pairs = find_duplicates(session, principal, customer.id)
    others = {
        (pair.customer_ids[1] if pair.customer_ids[0] == customer.id else pair.customer_ids[0]): [
            _duplicate_reason(page, reason) for reason in pair.reasons
        ]
        for pair in pairs
    }
    if not others:
        return []
    names = customer_names(session, principal, others)
    return [
        DuplicateView(id=i, name=names[i], reasons=reasons)
        for i, reasons in sorted(others.items())
        if i in names
    ]


@dataclass(frozen=True)
class FlagView:
    """A stored possible duplicate (:mod:`kehu.customers.duplicate_flags`) as the notice shows
    it: ``id`` and ``name`` are the other customer's, ``customer_id`` the one it was raised on
    (the new customer), ``merge_into`` the one a confirmation merges it into."""

    flag_id: int
    version: int
    id: int
    name: str
    customer_id: int
    merge_into: int
    reasons: list[str]
    can_dismiss: bool
    can_confirm: bool


def possible_duplicates(
    page: Page, session: Session, principal: Principal, customer_id: int
) -> list[FlagView]:
    """The notice beside a ticket and on the 360 page (``customers/_possible_duplicate.html``):
    the open possible-duplicate flags naming the customer (a complaint from a new email address
    with a known phone is filed for a new customer and flagged), with the confirm (merge) and
    dismiss forms the principal may use. Offered only to those who may read customers."""
    if not principal.can("customers:read"):
        return []
    _ = page._
    flags = open_flags(session, principal, customer_id)
    others = {
        f.id: f.duplicate_of_id if f.customer_id == customer_id else f.customer_id for f in flags
    }
    names = customer_names(session, principal, set(others.values()))
    reasons = {"same_phone": _("Same phone number")}
    return [
        FlagView(
            flag_id=f.id,
            version=f.version,
            id=others[f.id],
            name=names.get(others[f.id], f"#{others[f.id]}"),
            customer_id=f.customer_id,
            merge_into=f.duplicate_of_id,
            reasons=[reasons.get(f.reason, f.reason)],
            can_dismiss=principal.can("customers:write"),
            can_confirm=principal.can("customers:merge"),
        )
        for f in flags
    ]


def _render_customer(
    page: Page,
    session: Session,
    customer_id: int,
    *,
    done: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    _ = page._
    customer = get_customer(session, principal, customer_id)
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
            else _("User %(id)s", id=customer.owner_user_id)
        )
    notices = {
        "edit": _("The profile was saved."),
        "tag": _("The tag was added."),
        "untag": _("The tag was removed."),
        "preference": _("The consent and preference were recorded."),
        "merge": _("The duplicate was merged into this customer."),
        "duplicate_dismissed": _("The possible duplicate was dismissed."),
        "duplicate_merged": _("The possible duplicate was confirmed and merged."),
    }
    active = customer.merged_into_id is None
    card = value_card(session, page, customer.id)
    return page.render(
        "customers/detail.html",
        {
            "customer": customer,
            "owner": owner,
            "channels": CHANNELS,
            "consents": CONSENTS,
            "contact_preferences": CONTACT_PREFERENCES,
            "languages": LANGUAGES,
            "preferences": preferences,
            # "customer since": the first purchase, else (the template says so) the date recorded
            "first_purchase": first_purchase_at(session, principal, customer.id),
            "card": card,
            "card_horizon": None if card is None else _card_horizon(page, card),
            "can_see_value": principal.can("value:read"),
            "open_tickets": tickets,
            "can_see_tickets": principal.can("tickets:read"),
            "can_write": active and principal.can("customers:write"),
            "can_merge": active and principal.can("customers:merge"),
            "duplicates": _duplicates(page, session, principal, customer),
            "possible_duplicates": possible_duplicates(page, session, principal, customer.id),
            "notice": notices.get(done or ""),
            "error": error,
            **_timeline_context(page, session, customer.id, None),
            **_names(page),
        },
        active="customers",
        status_code=status_code,
    )


@router.get("/customers/{customer_id}", name="web_customer")
def customer_page(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    return _render_customer(page, session, customer_id, done=done if done in DONE else None)


@router.get("/customers/{customer_id}/timeline", name="web_customer_timeline")
def timeline_fragment(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    before: Annotated[str | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    """More of the timeline (htmx swaps it in place of the "load more" button)."""
    principal = page.principal
    assert principal is not None
    try:
        context = _timeline_context(page, session, customer_id, before)
    except InputError:
        _ = page._
        return page.render(
            "error.html",
            {"title": _("Not found"), "message": _("This part of the timeline does not exist.")},
            status_code=422,
        )
    return page.render("customers/_timeline.html", context)


# -- changes -----------------------------------------------------------------------------------


Csrf = Annotated[str | None, Form(max_length=200)]


def _field_name(page: Page, field: str | None) -> str:
    _ = page._
    fields = {
        "name": _("Name"),
        "given_name": _("Given name"),
        "family_name": _("Family name"),
        "preferred_language": _("Preferred language"),
        "notes": _("Notes"),
        "tag": _("Tag"),
        "channel": _("Channel"),
        "consent": _("Marketing consent"),
        "preference": _("Service messages"),
        "source": _("How you learnt it"),
    }
    return fields.get(field or "", field or "–")


def _conflict(
    page: Page, session: Session, principal: Principal, customer_id: int, action: str, version: int
) -> str:
    """Why the change was refused (409), in the page's language."""
    _ = page._
    customer = load_customer(session, principal, customer_id)
    if customer.merged_into_id is not None:
        return _("This customer was merged into another one; change that customer instead.")
    if action == "edit" and customer.version != version:
        return _(
            "Someone else changed this customer after you opened the page. The page now shows "
            "the latest version: check it and make your change again."
        )
    if action == "merge":
        return _(
            "These two customers cannot be merged: only two active customers of the same kind "
            "can be."
        )
    return _("This change is not allowed now. Open the page again and repeat your change.")


def _act(
    page: Page,
    session: Session,
    customer_id: int,
    action: str,
    csrf_token: str | None,
    change: Callable[[Session, Principal], Any],
    *,
    version: int = 0,
) -> Response:
    """Run ``change`` in a savepoint of the request's transaction; on success back to the 360
    page; a conflict (409) or refused input (422) shows the page again with the reason, in the
    form's place. A missing record or a refused permission is left to the one error map (its 404
    or 403 page)."""
    _ = page._
    principal = page.principal
    assert principal is not None
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    problem: str | None = None
    status_code = 200
    try:
        with session.begin_nested():
            change(session, principal)
    except ConflictError:
        status_code = 409
        problem = _conflict(page, session, principal, customer_id, action, version)
    except ValidationError as error:
        status_code = 422
        fields = [str(e["loc"][0]) for e in error.errors() if e.get("loc")]
        problem = _("Check the field %(field)s.", field=_field_name(page, (fields or [""])[0]))
    except InputError as error:
        status_code = 422
        if error.column == "name":
            problem = _("A customer needs a name.")
        elif error.column == "consent":
            problem = _("Choose a consent, a preference or both.")
        elif error.column == "tag":
            problem = _("Write a tag of at most 100 characters.")
        else:
            problem = _("Check the field %(field)s.", field=_field_name(page, error.column))
    if problem is None:
        target = page.request.url_for("web_customer", customer_id=customer_id).path
        return RedirectResponse(f"{target}?done={action}", status_code=303)
    return _render_customer(page, session, customer_id, error=problem, status_code=status_code)


def _blank(value: str) -> str | None:
    return value.strip() or None


@router.post("/customers/{customer_id}/edit", name="web_customer_edit")
def post_edit(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    version: Annotated[int, Form(ge=0, le=INT32_MAX)],
    name: Annotated[str, Form(max_length=300)] = "",
    given_name: Annotated[str, Form(max_length=200)] = "",
    family_name: Annotated[str, Form(max_length=200)] = "",
    preferred_language: Annotated[str, Form(max_length=20)] = "",
    notes: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        if version < 1:
            raise ConflictError("no version")
        data = CustomerUpdate(
            version=version,
            name=_blank(name),
            given_name=_blank(given_name),
            family_name=_blank(family_name),
            preferred_language=_blank(preferred_language),
            notes=_blank(notes),
        )
        return edit_customer(session, principal, customer_id, data)

    return _act(page, session, customer_id, "edit", csrf_token, change, version=version)


@router.post("/customers/{customer_id}/tags", name="web_customer_tags")
def post_tag(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    tag: Annotated[str, Form(max_length=200)] = "",
    remove: Annotated[str, Form(max_length=5)] = "",
    csrf_token: Csrf = None,
) -> Response:
    removing = remove in ("1", "on", "true")

    def change(session: Session, principal: Principal) -> Any:
        if removing:
            return untag_customer(session, principal, customer_id, tag)
        return tag_customer(session, principal, customer_id, tag)

    action = "untag" if removing else "tag"
    return _act(page, session, customer_id, action, csrf_token, change)


@router.post("/customers/{customer_id}/preferences", name="web_customer_preference")
def post_preference(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    channel: Annotated[str, Form(max_length=20)] = "",
    consent: Annotated[str, Form(max_length=20)] = "",
    preference: Annotated[str, Form(max_length=20)] = "",
    source: Annotated[str, Form(max_length=200)] = "",
    csrf_token: Csrf = None,
) -> Response:
    def change(session: Session, principal: Principal) -> Any:
        data = PreferenceIn.model_validate(
            {
                "channel": channel,
                "consent": consent or None,
                "preference": preference or None,
                "source": source,
            }
        )
        return set_contact_preference(session, principal, customer_id, data)

    return _act(page, session, customer_id, "preference", csrf_token, change)


@router.post("/customers/{customer_id}/merge", name="web_customer_merge")
def post_merge(
    page: StaffPage,
    session: SessionDep,
    customer_id: Id,
    duplicate_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    csrf_token: Csrf = None,
) -> Response:
    """Fold ``duplicate_id`` into this customer (it keeps every record of both)."""
    return _act(
        page,
        session,
        customer_id,
        "merge",
        csrf_token,
        lambda session, principal: merge_customers(session, principal, customer_id, duplicate_id),
    )

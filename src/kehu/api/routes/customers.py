"""Customers: list and search, the 360 detail, edits, tags, owners, contacts, memberships,
contact preferences, CSV import and export, duplicates, merges and the timeline.

Every read goes through the permission layer (``kehu.core.auth.scoped``) inside the customer use
cases; an id outside the caller's scope is a 404 with the same message as an unknown id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.core.auth import Principal, require
from kehu.csv_safety import spreadsheet_csv, text_cell, value_cell
from kehu.customers import service as customers
from kehu.customers.duplicates import DuplicateCandidate, find_duplicates
from kehu.customers.importing import import_customers_csv
from kehu.customers.merge import MergeOut, get_merge, list_merges, merge_customers, undo_merge
from kehu.customers.queries import SORT_FIELDS, SORT_TIEBREAK, contacts_of, tags_of
from kehu.customers.schemas import (
    ContactIn,
    CustomerCreate,
    CustomerDetail,
    CustomerOut,
    CustomerUpdate,
    ImportSummary,
    PreferenceIn,
)
from kehu.customers.search import search_statement
from kehu.customers.timeline import MAX_LIMIT as TIMELINE_MAX
from kehu.customers.timeline import customer_timeline
from kehu.desk.ticket_queries import count_active_tickets
from kehu.errors import InputError
from kehu.http.deps import AppSettings, CurrentPrincipal, DbSession, Page, Pagination, page_of
from kehu.http.deps import sort_by as order_by
from kehu.http.downloads import content_disposition
from kehu.store.bounds import Id, UtcInstant, Version, parse_positive

router = APIRouter(tags=["customers"])

SORT_HELP = f"comma-separated, '-' for descending; one of {', '.join(SORT_FIELDS)}"
EXPORT_MAX_ROWS = 100_000


# --- request and response bodies ---------------------------------------------------------------


class TagIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tag: str = Field(min_length=1, max_length=100)


class OwnerIn(BaseModel):
    """The account manager (``null``: nobody); ``version``, when given, must be current."""

    model_config = ConfigDict(extra="forbid")

    owner_user_id: Id | None
    version: Version | None = None


class MembershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: Id
    role: str | None = Field(default=None, max_length=200)


class MergeIn(BaseModel):
    """Fold ``merged_id`` into the customer of the path (the survivor)."""

    model_config = ConfigDict(extra="forbid")

    merged_id: Id
    reason: str | None = Field(default=None, max_length=2000)


class TimelineEntryOut(BaseModel):
    at: datetime
    kind: str
    title: str
    source: str
    ref: str
    detail: dict[str, Any]


class TimelineOut(BaseModel):
    """One page, newest first; ``next_cursor`` is the ``before`` of the next page (``null``
    on the last page)."""

    entries: list[TimelineEntryOut]
    next_cursor: str | None


# --- helpers -----------------------------------------------------------------------------------


def _owner(owner: str | None, principal: Principal) -> int | None:
    """The ``owner`` filter: a user id, or ``me``."""
    if owner is None or owner == "":
        return None
    if owner == "me":
        if principal.user_id is None:
            raise InputError("'me' needs a signed-in user", column="owner")
        return principal.user_id
    user_id = parse_positive(owner)
    if user_id is None:
        raise InputError("a user id or 'me'", column="owner", value=owner)
    return user_id


def _search(
    principal: Principal,
    q: str,
    kind: str | None,
    tag: str | None,
    owner: str | None,
    include_merged: bool,
) -> Any:
    return search_statement(
        principal,
        q,
        kind=kind,
        tag=tag,
        owner_user_id=_owner(owner, principal),
        include_merged=include_merged,
    )


Q = Annotated[str, Query(max_length=200, description="names, external id, email, phone fragment")]
Kind = Annotated[str | None, Query(description="person or organisation")]
TagFilter = Annotated[str | None, Query(max_length=100, description="customers with this tag")]
Owner = Annotated[str | None, Query(description="account manager: a user id, or 'me'")]


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# --- lists, search, export ---------------------------------------------------------------------


@router.get("/api/customers", summary="List and search customers")
def list_customers(
    session: DbSession,
    principal: CurrentPrincipal,
    paging: Pagination,
    q: Q = "",
    kind: Kind = None,
    tag: TagFilter = None,
    owner: Owner = None,
    include_merged: Annotated[bool, Query(description="include merged customers")] = False,
    sort: Annotated[str, Query(description=SORT_HELP)] = "name",
) -> Page[CustomerOut]:
    statement = _search(principal, q, kind, tag, owner, include_merged)
    order = order_by(sort, SORT_FIELDS, default="name", tiebreak=SORT_TIEBREAK)
    return page_of(session, statement, paging, order, CustomerOut.model_validate)


EXPORT_COLUMNS = (
    "id",
    "external_id",
    "kind",
    "name",
    "given_name",
    "family_name",
    "email",
    "phone",
    "wechat",
    "tags",
    "owner_user_id",
    "preferred_language",
    "open_tickets",
    "created_at",
    "updated_at",
)


@router.get(
    "/api/customers/export.csv",
    summary="Export the customers of a search as CSV (the same filters as the list)",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_customers(
    session: DbSession,
    principal: CurrentPrincipal,
    q: Q = "",
    kind: Kind = None,
    tag: TagFilter = None,
    owner: Owner = None,
    sort: Annotated[str, Query(description=SORT_HELP)] = "name",
) -> Response:
    """Contacts and tags are joined with ``;``. ``open_tickets`` counts the open tickets the
    caller may see (the ticket scope applies: an agent counts their teams' tickets only)."""
    statement = _search(principal, q, kind, tag, owner, include_merged=False)
    order = order_by(sort, SORT_FIELDS, default="name", tiebreak=SORT_TIEBREAK)
    rows = session.scalars(statement.order_by(*order).limit(EXPORT_MAX_ROWS + 1)).all()
    if len(rows) > EXPORT_MAX_ROWS:
        raise InputError(
            f"more than {EXPORT_MAX_ROWS} customers match; narrow the search", column="q"
        )
    ids = [row.id for row in rows]
    contacts: dict[tuple[int, str], list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = defaultdict(list)
    open_tickets: dict[int, int] = {}
    for chunk in _chunks(ids):
        for customer_id, type_, value in contacts_of(session, principal, chunk):
            contacts[(customer_id, type_)].append(value)
        for customer_id, name in tags_of(session, principal, chunk):
            tags[customer_id].append(name)
        if principal.can("tickets:read"):
            open_tickets.update(count_active_tickets(session, principal, chunk))
    counts_tickets = principal.can("tickets:read")
    # text_cell for what people typed (escaped for spreadsheets), value_cell for ids, counts and
    # timestamps kehu formats itself: decided by column (kehu.csv_safety)
    content = spreadsheet_csv(
        EXPORT_COLUMNS,
        (
            [
                value_cell(row.id),
                text_cell(row.external_id),
                text_cell(row.kind),
                text_cell(row.name),
                text_cell(row.given_name),
                text_cell(row.family_name),
                text_cell(";".join(contacts[(row.id, "email")])),
                text_cell(";".join(contacts[(row.id, "phone")])),
                text_cell(";".join(contacts[(row.id, "wechat")])),
                text_cell(";".join(tags[row.id])),
                value_cell(row.owner_user_id),
                text_cell(row.preferred_language),
                value_cell(open_tickets.get(row.id, 0) if counts_tickets else None),
                value_cell(row.created_at),
                value_cell(row.updated_at),
            ]
            for row in rows
        ),
    )
    return Response(
        content=content,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition("customers.csv")},
    )


@router.post(
    "/api/customers/import",
    summary="Import customers from a CSV file (all or nothing)",
)
def import_customers(
    session: DbSession,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="UTF-8 CSV; see the user guide for columns")],
) -> ImportSummary:
    """Nothing is written unless every row is valid; the first problem is a 422 naming the
    row (``row``, 1-based, header excluded) and the column (``field``)."""
    require(principal, "customers:write")
    return import_customers_csv(session, principal, file.file, source=file.filename or "upload")


@router.get("/api/customers/duplicates", summary="Candidate duplicate customers, with reasons")
def duplicates(
    session: DbSession,
    principal: CurrentPrincipal,
    customer_id: Annotated[Id | None, Query(description="only pairs with it")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DuplicateCandidate]:
    return find_duplicates(session, principal, customer_id, limit=limit)


# --- one customer ------------------------------------------------------------------------------


@router.post("/api/customers", status_code=status.HTTP_201_CREATED, summary="Add a customer")
def create_customer(
    body: CustomerCreate, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.create_customer(session, principal, body)


@router.get("/api/customers/{customer_id}", summary="A customer with contacts, tags, memberships")
def get_customer(
    customer_id: Id, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.get_customer(session, principal, customer_id)


@router.patch(
    "/api/customers/{customer_id}",
    summary="Edit a customer (send the version you loaded; 409 when it is stale)",
)
def edit_customer(
    customer_id: Id, body: CustomerUpdate, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.edit_customer(session, principal, customer_id, body)


@router.post("/api/customers/{customer_id}/tags", summary="Tag a customer")
def tag_customer(
    customer_id: Id, body: TagIn, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.tag_customer(session, principal, customer_id, body.tag)


@router.delete("/api/customers/{customer_id}/tags/{tag}", summary="Remove a tag")
def untag_customer(
    customer_id: Id, tag: str, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.untag_customer(session, principal, customer_id, tag)


@router.put("/api/customers/{customer_id}/owner", summary="Assign the account manager")
def assign_owner(
    customer_id: Id, body: OwnerIn, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.assign_owner(
        session, principal, customer_id, body.owner_user_id, version=body.version
    )


@router.post("/api/customers/{customer_id}/contacts", summary="Add a contact")
def add_contact(
    customer_id: Id, body: ContactIn, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.add_contact(session, principal, customer_id, body)


@router.delete("/api/customers/{customer_id}/contacts/{contact_id}", summary="Remove a contact")
def remove_contact(
    customer_id: Id, contact_id: Id, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.remove_contact(session, principal, customer_id, contact_id)


@router.post(
    "/api/customers/{customer_id}/memberships",
    summary="Make the person a member of an organisation (with a role)",
)
def add_membership(
    customer_id: Id, body: MembershipIn, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.add_membership(
        session, principal, customer_id, body.organisation_id, body.role
    )


@router.delete(
    "/api/customers/{customer_id}/memberships/{organisation_id}",
    summary="End the person's membership of an organisation",
)
def remove_membership(
    customer_id: Id, organisation_id: Id, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.remove_membership(session, principal, customer_id, organisation_id)


@router.put(
    "/api/customers/{customer_id}/preferences",
    summary="Record marketing consent and/or a service preference on one channel",
)
def set_preference(
    customer_id: Id, body: PreferenceIn, session: DbSession, principal: CurrentPrincipal
) -> CustomerDetail:
    return customers.set_contact_preference(session, principal, customer_id, body)


@router.get("/api/customers/{customer_id}/timeline", summary="The customer's 360 timeline")
def timeline(
    customer_id: Id,
    session: DbSession,
    principal: CurrentPrincipal,
    before: Annotated[
        str | None, Query(max_length=500, description="next_cursor of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=TIMELINE_MAX)] = 50,
    since: Annotated[
        UtcInstant | None, Query(description="only entries from then; naive = UTC")
    ] = None,
) -> TimelineOut:
    page = customer_timeline(
        session, principal, customer_id, before=before, limit=limit, since=_utc(since)
    )
    return TimelineOut(
        entries=[
            TimelineEntryOut(
                at=e.at, kind=e.kind, title=e.title, source=e.source, ref=e.ref, detail=e.detail
            )
            for e in page.entries
        ],
        next_cursor=page.next_cursor,
    )


# --- merges ------------------------------------------------------------------------------------


@router.post(
    "/api/customers/{customer_id}/merge",
    status_code=status.HTTP_201_CREATED,
    summary="Merge another customer into this one (which survives)",
)
def merge(
    customer_id: Id, body: MergeIn, session: DbSession, principal: CurrentPrincipal
) -> MergeOut:
    return merge_customers(session, principal, customer_id, body.merged_id, reason=body.reason)


@router.get("/api/customers/{customer_id}/merges", summary="Merges the customer took part in")
def customer_merges(
    customer_id: Id, session: DbSession, principal: CurrentPrincipal
) -> list[MergeOut]:
    return list_merges(session, principal, customer_id)


@router.get("/api/merges/{merge_id}", summary="One merge")
def one_merge(merge_id: Id, session: DbSession, principal: CurrentPrincipal) -> MergeOut:
    return get_merge(session, principal, merge_id)


@router.post(
    "/api/merges/{merge_id}/undo",
    summary="Undo a merge (admins, within the undo window; 409 with the reason when it cannot)",
)
def undo(
    merge_id: Id, session: DbSession, principal: CurrentPrincipal, settings: AppSettings
) -> MergeOut:
    return undo_merge(session, principal, merge_id, window=timedelta(days=settings.merge_undo_days))

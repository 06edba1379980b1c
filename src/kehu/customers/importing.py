"""Import customers from CSV: all or nothing, idempotent by ``external_id``.

Columns (header names; only ``external_id`` is required, unknown columns are refused)::

    external_id, kind (person | organisation), name, given_name, family_name,
    email, phone, wechat, address     several values separated by ";"
    tags                              separated by ";"
    organisation, role                a person's organisation (its external_id) and role there
    owner_user_id, preferred_language, notes

Every row is checked before anything is written; the first problem raises ``InputError`` naming
the file, the row (1-based, header excluded), the column and the value. A customer already in the
store (same ``external_id``) is updated: non-empty cells replace the stored values, contacts and
tags are added, never removed, so importing the same file twice changes nothing the second time.
An external id of a customer that was merged into another updates the surviving customer.
Organisations in the file are imported before people, so a person may name an organisation
further down.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth.principal import Principal, require
from kehu.core.users.assignees import check_assignable
from kehu.customers.events import record_event
from kehu.customers.normalize import normalize_contact
from kehu.customers.schemas import ContactIn, CustomerCreate, ImportSummary
from kehu.customers.service import (
    _add_contact_row,
    _tag,
    _tag_name,
    _touch,
    display_name,
    link_tag,
    new_customer,
)
from kehu.customers.tables import CUSTOMER_KINDS, Customer, Membership
from kehu.errors import ColumnsError, EmptyInputError, EncodingError, InputError

CONTACT_COLUMNS = ("email", "phone", "wechat", "address")
TEXT_COLUMNS = ("name", "given_name", "family_name", "preferred_language", "notes")
COLUMNS = (
    "external_id",
    "kind",
    *TEXT_COLUMNS,
    *CONTACT_COLUMNS,
    "tags",
    "organisation",
    "role",
    "owner_user_id",
)
MAX_LENGTHS = {
    "external_id": 200,
    "name": 300,
    "given_name": 200,
    "family_name": 200,
    "preferred_language": 20,
    "notes": 10_000,
    "role": 200,
    "organisation": 200,
}


@dataclass
class _Row:
    #: the file line the row starts on (the header is line 1)
    line: int
    external_id: str
    kind: str
    fields: dict[str, Any]
    contacts: list[ContactIn] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    organisation: str | None = None
    role: str | None = None


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _read(file: Path | IO[bytes] | IO[str], source: str) -> list[tuple[int, dict[str, str]]]:
    """The data rows with the file line each starts on."""
    try:
        if isinstance(file, Path):
            text = file.read_bytes().decode("utf-8-sig")
        else:
            content = file.read()
            text = content.decode("utf-8-sig") if isinstance(content, bytes) else content
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"not UTF-8 text (byte {exc.start}); save the file as UTF-8 (Excel: CSV UTF-8), "
            "or convert it from GB18030",
            file=source,
        ) from exc
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise EmptyInputError("the file is empty", file=source)
    unknown = [h for h in header if h not in COLUMNS]
    if "external_id" not in header or unknown:
        problem = f"unknown column(s) {', '.join(unknown)}" if unknown else "no external_id column"
        raise ColumnsError(
            f"{problem}; found {', '.join(header)}; expected external_id and any of "
            f"{', '.join(COLUMNS[1:])}",
            file=source,
        )
    reader.fieldnames = header
    rows = []
    for raw in reader:
        # the file line the record starts on, as an editor numbers it (the header is line 1):
        # the reader has read up to its last line, after any line breaks in quoted cells
        cells = [*raw.values()]
        breaks = sum(v.count("\n") for v in cells if isinstance(v, str))
        line = reader.line_num - breaks
        if None in raw:
            raise InputError(
                f"more cells than the {len(header)} columns of the header",
                file=source,
                line=line,
                value=raw[None],
            )
        rows.append((line, {k: (v or "").strip() for k, v in raw.items()}))
    if not rows:
        raise EmptyInputError("no data rows after the header", file=source)
    return rows


def _parse(raw: dict[str, str], line: int, source: str) -> _Row:
    def fail(message: str, column: str, value: object) -> InputError:
        return InputError(message, file=source, line=line, column=column, value=value)

    for column, most in MAX_LENGTHS.items():
        if len(raw.get(column, "")) > most:
            raise fail(f"at most {most} characters", column, raw[column])
    external_id = raw.get("external_id", "")
    if not external_id:
        raise fail("every customer needs an external id", "external_id", external_id)
    kind = raw.get("kind") or "person"
    if kind not in CUSTOMER_KINDS:
        raise fail(f"kind is one of {', '.join(CUSTOMER_KINDS)}", "kind", kind)
    fields: dict[str, Any] = {c: raw[c] for c in TEXT_COLUMNS if raw.get(c)}
    if raw.get("owner_user_id"):
        try:
            owner = int(raw["owner_user_id"])
        except ValueError:
            owner = 0
        if owner <= 0:
            raise fail(
                "a user id is a positive whole number", "owner_user_id", raw["owner_user_id"]
            )
        fields["owner_user_id"] = owner
    row = _Row(line, external_id, kind, fields)
    for column in CONTACT_COLUMNS:
        for value in _split(raw.get(column, "")):
            try:
                row.contacts.append(ContactIn(type=column, value=value))  # type: ignore[arg-type]
            except ValidationError as exc:
                raise fail(exc.errors()[0]["msg"], column, value) from exc
    for tag in _split(raw.get("tags", "")):
        try:
            row.tags.append(_tag_name(tag))
        except InputError as exc:
            raise fail(exc.reason, "tags", tag) from exc
    row.organisation = raw.get("organisation") or None
    row.role = raw.get("role") or None
    if row.organisation and kind != "person":
        raise fail("only a person belongs to an organisation", "organisation", row.organisation)
    if row.role and not row.organisation:
        raise fail("a role needs an organisation", "role", row.role)
    return row


def _check_owner(session: Session, row: _Row, source: str) -> None:
    owner = row.fields.get("owner_user_id")
    try:
        check_assignable(session, owner, column="owner_user_id")
    except InputError as exc:
        raise InputError(
            exc.reason, file=source, line=row.line, column="owner_user_id", value=owner
        ) from None


def _resolve(session: Session, external_id: str) -> Customer | None:
    """The stored customer with this external id, following merges to the survivor."""
    customer = session.scalars(
        select(Customer).where(Customer.external_id == external_id)
    ).one_or_none()
    seen: set[int] = set()
    while customer is not None and customer.merged_into_id is not None:
        if customer.id in seen:
            break
        seen.add(customer.id)
        customer = session.get(Customer, customer.merged_into_id)
    return customer


def import_customers_csv(
    session: Session,
    principal: Principal,
    file: Path | IO[bytes] | IO[str],
    *,
    source: str | None = None,
) -> ImportSummary:
    """Import the CSV ``file`` (see the module documentation) in the caller's transaction."""
    require(principal, "customers:write")
    name = source or (str(file) if isinstance(file, Path) else str(getattr(file, "name", "upload")))
    raws = _read(file, name)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for line, raw in raws:
        row = _parse(raw, line, name)
        if row.external_id in seen:
            raise InputError(
                f"external id repeated (first on line {seen[row.external_id]})",
                file=name,
                line=line,
                column="external_id",
                value=row.external_id,
            )
        seen[row.external_id] = line
        rows.append(row)

    # check against the store before writing anything
    in_file_kinds = {r.external_id: r.kind for r in rows}
    existing: dict[str, Customer | None] = {
        r.external_id: _resolve(session, r.external_id) for r in rows
    }
    for row in rows:
        _check_owner(session, row, name)
        stored = existing[row.external_id]
        if stored is not None and stored.kind != row.kind:
            raise InputError(
                f"customer {row.external_id} is stored as a {stored.kind}",
                file=name,
                line=row.line,
                column="kind",
                value=row.kind,
            )
        if stored is None and not display_name(
            row.fields.get("name"), row.fields.get("given_name"), row.fields.get("family_name")
        ):
            raise InputError(
                f"a new {row.kind} needs a name",
                file=name,
                line=row.line,
                column="name",
                value="",
            )
        if row.organisation:
            kind = in_file_kinds.get(row.organisation)
            if kind is None:
                organisation = _resolve(session, row.organisation)
                kind = None if organisation is None else organisation.kind
            if kind != "organisation":
                raise InputError(
                    "no organisation with this external id, in the file or the store",
                    file=name,
                    line=row.line,
                    column="organisation",
                    value=row.organisation,
                )

    created = updated = unchanged = 0
    ordered = sorted(rows, key=lambda r: (r.kind != "organisation", r.line))
    for row in ordered:
        stored = existing[row.external_id]
        if stored is None:
            customer = new_customer(
                session,
                principal,
                CustomerCreate(
                    kind=row.kind,  # type: ignore[arg-type]
                    external_id=row.external_id,
                    contacts=row.contacts,
                    tags=row.tags,
                    **row.fields,
                ),
            )
            existing[row.external_id] = customer
            created += 1
            changed = _link_organisation(session, principal, customer, row, existing)
            if changed:
                _touch(session, customer)
            continue
        if _update(session, principal, stored, row, existing):
            updated += 1
        else:
            unchanged += 1
    session.flush()
    return ImportSummary(
        source=name, rows=len(rows), created=created, updated=updated, unchanged=unchanged
    )


def _link_organisation(
    session: Session,
    principal: Principal,
    person: Customer,
    row: _Row,
    existing: dict[str, Customer | None],
) -> bool:
    if not row.organisation:
        return False
    organisation = existing.get(row.organisation) or _resolve(session, row.organisation)
    assert organisation is not None  # checked before writing
    membership = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id, Membership.organisation_id == organisation.id
        )
    ).one_or_none()
    if membership is not None and (row.role is None or membership.role == row.role):
        return False
    if membership is None:
        session.add(Membership(person_id=person.id, organisation_id=organisation.id, role=row.role))
    else:
        membership.role = row.role
    data = {"organisation_id": organisation.id, "person_id": person.id, "role": row.role}
    record_event(session, person.id, "membership_added", principal, data)
    record_event(session, organisation.id, "membership_added", principal, data)
    _touch(session, organisation)
    return True


def _update(
    session: Session,
    principal: Principal,
    customer: Customer,
    row: _Row,
    existing: dict[str, Customer | None],
) -> bool:
    """Apply a row to a stored customer; whether anything changed."""
    wanted = dict(row.fields)
    if "name" not in wanted and ("given_name" in wanted or "family_name" in wanted):
        derived = display_name(
            None,
            wanted.get("given_name", customer.given_name),
            wanted.get("family_name", customer.family_name),
        )
        current = display_name(None, customer.given_name, customer.family_name)
        if customer.name == current and derived:
            wanted["name"] = derived  # the name followed the name parts; keep it so
    changes = {k: v for k, v in wanted.items() if getattr(customer, k) != v}
    before = {k: getattr(customer, k) for k in changes}
    added_contacts = []
    for contact in row.contacts:
        contact_row, added = _add_contact_row(session, customer, contact)
        if added:
            added_contacts.append({"type": contact_row.type, "value": contact_row.value})
    added_tags = []
    for tag in row.tags:
        if link_tag(session, customer.id, _tag(session, tag).id):
            added_tags.append(tag)
    linked_org = _link_organisation(session, principal, customer, row, existing)
    if not (changes or added_contacts or added_tags or linked_org):
        return False
    for key, value in changes.items():  # set last: one flush, one new version
        setattr(customer, key, value)
    _touch(session, customer)
    record_event(
        session,
        customer.id,
        "imported",
        principal,
        {
            "before": before,
            "after": changes,
            "contacts_added": added_contacts,
            "tags_added": added_tags,
            "external_id": row.external_id,
        },
    )
    return True


__all__ = ["COLUMNS", "import_customers_csv", "normalize_contact"]

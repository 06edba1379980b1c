"""Customer use cases: create, read, edit (optimistic locking), tag, assign an owner, contacts,
memberships, contact preferences and consent, and the rule every message honours
(:func:`may_contact`).

Every use case takes a ``Session`` and the acting ``Principal``; reads go through the permission
layer (``kehu.core.auth.scoped``), so an id outside the caller's scope is "not found" exactly like
an
unknown id. Every change bumps the customer's ``version``, refreshes its ``search_text`` and
appends a ``customer_events`` row.

Concurrent changes: a use case that changes a customer holds its row from the moment it loads it
(:func:`holding`) until the transaction ends. Changes that commute (tags, contacts, consent,
memberships, an owner without a version, merges into one survivor) therefore run one after the
other and all succeed; an edit that names the version it was made on is refused (409) when another
change got in first, with the version the editor loaded and the one the customer is at.
"""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from kehu.core.auth.principal import SYSTEM, Principal, require
from kehu.core.auth.scoping import scoped
from kehu.core.users.assignees import check_assignable
from kehu.customers.events import record_event
from kehu.customers.normalize import build_search_text, normalize_contact
from kehu.customers.schemas import (
    Channel,
    ContactIn,
    ContactOut,
    CustomerCreate,
    CustomerDetail,
    CustomerUpdate,
    MembershipOut,
    PreferenceIn,
    PreferenceOut,
    Purpose,
)
from kehu.customers.search_keys import search_keys
from kehu.customers.tables import (
    CHANNELS,
    ContactPreference,
    Customer,
    CustomerContact,
    CustomerTag,
    Membership,
    Tag,
)
from kehu.errors import ConflictError, InputError, NotFoundError
from kehu.store.base import utc_now

#: fields an edit may change, in the order they are reported
EDITABLE_FIELDS = (
    "name",
    "given_name",
    "family_name",
    "external_id",
    "preferred_language",
    "notes",
)


def not_found(customer_id: int) -> NotFoundError:
    """The one message for unknown ids and ids outside the caller's scope."""
    return NotFoundError(f"customer {customer_id} not found")


def stale(customer: Customer, loaded_version: int) -> ConflictError:
    """The reason an edit made on ``loaded_version`` is refused (``customer`` is as stored)."""
    return ConflictError(
        f"customer {customer.id} was changed by someone else since you loaded it (you loaded "
        f"version {loaded_version}; it is at version {customer.version} now); reload it and "
        "make your change again"
    )


def holding(statement: Select[Customer]) -> Select[Customer]:
    """``statement`` holding the customer rows it reads until the transaction ends, read afresh
    (a concurrent change to them waits, and this sees it once committed).

    PostgreSQL takes ``FOR NO KEY UPDATE``, the lock an UPDATE takes anyway (rows that only point
    at the customer, such as a new ticket, are not held up); SQLite renders no lock clause, and
    needs none: a transaction that may write holds SQLite's one write lock from its BEGIN."""
    return statement.with_for_update(of=Customer, key_share=True).execution_options(
        populate_existing=True
    )


def load_customer(
    session: Session,
    principal: Principal,
    customer_id: int,
    *,
    active: bool = False,
    hold: bool = False,
) -> Customer:
    """The customer row, if ``principal`` may read it; with ``active`` a merged customer is
    refused (it lives on only as a pointer to the customer it was merged into); with ``hold``
    the row is held for a change (:func:`holding`)."""
    statement = scoped(select(Customer).where(Customer.id == customer_id), principal, Customer)
    if hold:
        statement = holding(statement)
    customer = session.scalars(statement).one_or_none()
    if customer is None:
        raise not_found(customer_id)
    if active and customer.merged_into_id is not None:
        raise ConflictError(
            f"customer {customer_id} was merged into customer {customer.merged_into_id}; "
            "change that customer instead"
        )
    return customer


def _writable(session: Session, principal: Principal, customer_id: int) -> Customer:
    require(principal, "customers:write")
    return load_customer(session, principal, customer_id, active=True, hold=True)


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") for ch in text)


def display_name(name: str | None, given_name: str | None, family_name: str | None) -> str | None:
    """``name`` if given; else family name then given name, joined without a space for Chinese
    names (张 + 伟 -> 张伟) and as "given family" otherwise."""
    if name:
        return name
    parts = [p for p in (family_name, given_name) if p]
    if not parts:
        return None
    if any(_has_cjk(p) for p in parts):
        return "".join(parts)
    return " ".join(p for p in (given_name, family_name) if p)


def refresh_search_text(session: Session, customer: Customer) -> None:
    """Recompute ``search_text`` and ``search_pinyin`` from the names, external id and contacts
    (call on every write)."""
    _flush(session, customer)
    contacts = session.execute(
        select(CustomerContact.type, CustomerContact.value)
        .where(CustomerContact.customer_id == customer.id)
        .order_by(CustomerContact.id)
    ).all()
    keys = search_keys(
        names=(customer.name, customer.family_name, customer.given_name),
        external_id=customer.external_id,
        contacts=[(t, v) for t, v in contacts],
    )
    if (customer.search_text, customer.search_pinyin) != keys:
        # derived columns: written beside the ORM so they never count as a second version
        session.execute(
            update(Customer)
            .where(Customer.id == customer.id)
            .values(search_text=keys.text, search_pinyin=keys.pinyin),
            execution_options={"synchronize_session": False},
        )
        set_committed_value(customer, "search_text", keys.text)
        set_committed_value(customer, "search_pinyin", keys.pinyin)


def _touch(session: Session, customer: Customer) -> None:
    """Mark the customer changed: a new version and ``updated_at``, and ``search_text``
    refreshed, flushed."""
    customer.updated_at = utc_now()
    refresh_search_text(session, customer)
    _flush(session, customer)


def _flush(session: Session, customer: Customer) -> None:
    """Flush; the versioned UPDATE of a customer that was not held (:func:`holding`) misses when
    another change got in first, which is a conflict with the version this one was made on."""
    with session.no_autoflush:  # reading an expired attribute would flush first
        customer_id, loaded_version = customer.id, customer.version
    try:
        session.flush()
    except StaleDataError as exc:
        # the failed flush ended the transaction: the version stored now cannot be read here
        raise ConflictError(
            f"customer {customer_id} was changed by someone else since you loaded it (you "
            f"loaded version {loaded_version}); reload it and make your change again"
        ) from exc


# --- reading ----------------------------------------------------------------------------------


def get_customer(session: Session, principal: Principal, customer_id: int) -> CustomerDetail:
    """The customer with contacts, tags, memberships and contact preferences."""
    customer = load_customer(session, principal, customer_id)
    return describe(session, customer)


def describe(session: Session, customer: Customer) -> CustomerDetail:
    contacts = session.scalars(
        select(CustomerContact)
        .where(CustomerContact.customer_id == customer.id)
        .order_by(CustomerContact.type, CustomerContact.id)
    ).all()
    tags = session.scalars(
        select(Tag.name)
        .join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(CustomerTag.customer_id == customer.id)
        .order_by(Tag.name)
    ).all()
    person = Customer.__table__.alias("person")
    organisation = Customer.__table__.alias("organisation")
    memberships = session.execute(
        select(
            Membership.id,
            Membership.person_id,
            Membership.organisation_id,
            Membership.role,
            person.c.name,
            organisation.c.name,
        )
        .join(person, person.c.id == Membership.person_id)
        .join(organisation, organisation.c.id == Membership.organisation_id)
        .where((Membership.person_id == customer.id) | (Membership.organisation_id == customer.id))
        .order_by(Membership.id)
    ).all()
    preferences = session.scalars(
        select(ContactPreference)
        .where(ContactPreference.customer_id == customer.id)
        .order_by(ContactPreference.channel)
    ).all()
    detail = CustomerDetail.model_validate(customer)
    detail.contacts = [ContactOut.model_validate(c) for c in contacts]
    detail.tags = list(tags)
    detail.memberships = [
        MembershipOut(
            id=m[0],
            person_id=m[1],
            organisation_id=m[2],
            role=m[3],
            person_name=m[4],
            organisation_name=m[5],
        )
        for m in memberships
    ]
    detail.preferences = [PreferenceOut.model_validate(p) for p in preferences]
    return detail


# --- creating and editing ---------------------------------------------------------------------


def _external_id_taken(session: Session, external_id: str, except_id: int | None = None) -> bool:
    statement = select(Customer.id).where(Customer.external_id == external_id)
    if except_id is not None:
        statement = statement.where(Customer.id != except_id)
    return session.scalar(statement) is not None


def create_customer(session: Session, principal: Principal, data: CustomerCreate) -> CustomerDetail:
    """Add a person or an organisation, with contacts and tags."""
    require(principal, "customers:write")
    customer = new_customer(session, principal, data)
    return describe(session, customer)


def new_customer(session: Session, principal: Principal, data: CustomerCreate) -> Customer:
    """Create the row (shared by :func:`create_customer` and the CSV import)."""
    name = display_name(data.name, data.given_name, data.family_name)
    if not name:
        field = "name" if data.kind == "organisation" else "name, family_name or given_name"
        raise InputError(f"a {data.kind} needs a name", column=field)
    check_assignable(session, data.owner_user_id, column="owner_user_id")
    external_id = data.external_id or f"K-{uuid.uuid4().hex[:16]}"
    if _external_id_taken(session, external_id):
        raise ConflictError(f"external id {external_id!r} belongs to another customer")
    now = utc_now()
    customer = Customer(
        external_id=external_id,
        kind=data.kind,
        name=name,
        given_name=data.given_name,
        family_name=data.family_name,
        owner_user_id=data.owner_user_id,
        preferred_language=data.preferred_language,
        notes=data.notes,
        created_at=now,
        updated_at=now,
        search_text=build_search_text(
            names=(name, data.family_name, data.given_name),
            external_id=external_id,
            contacts=[(c.type, c.value) for c in data.contacts],
        ),
    )
    session.add(customer)
    session.flush()
    for contact in data.contacts:
        _add_contact_row(session, customer, contact)
    for tag in dict.fromkeys(_tag_name(t) for t in data.tags):
        link_tag(session, customer.id, _tag(session, tag).id)
    refresh_search_text(session, customer)
    session.flush()
    record_event(
        session,
        customer.id,
        "created",
        principal,
        {
            "after": _snapshot(customer),
            "contacts": [c.model_dump() for c in data.contacts],
            "tags": sorted({_tag_name(t) for t in data.tags}),
        },
    )
    return customer


def _snapshot(customer: Customer) -> dict[str, Any]:
    fields = ("kind", *EDITABLE_FIELDS, "owner_user_id")
    return {field: getattr(customer, field) for field in fields}


def edit_customer(
    session: Session, principal: Principal, customer_id: int, data: CustomerUpdate
) -> CustomerDetail:
    """Change the given fields. ``data.version`` must be the current version, else
    ``ConflictError`` (someone else changed the customer since the editor loaded it)."""
    customer = _writable(session, principal, customer_id)
    if customer.version != data.version:
        raise stale(customer, data.version)
    wanted = {field: getattr(customer, field) for field in EDITABLE_FIELDS}
    wanted.update({field: getattr(data, field) for field in data.model_fields_set - {"version"}})
    wanted["name"] = display_name(wanted["name"], wanted["given_name"], wanted["family_name"])
    if not wanted["name"]:
        raise InputError(f"a {customer.kind} needs a name", column="name")
    if not wanted["external_id"]:
        raise InputError("the external id cannot be removed", column="external_id")
    changes = {f: v for f, v in wanted.items() if v != getattr(customer, f)}
    new_external_id = changes.get("external_id")
    if new_external_id and _external_id_taken(session, new_external_id, customer.id):
        raise ConflictError(f"external id {new_external_id!r} belongs to another customer")
    if not changes:
        return describe(session, customer)
    before = {field: getattr(customer, field) for field in changes}
    for field, value in changes.items():
        setattr(customer, field, value)
    _touch(session, customer)
    record_event(session, customer.id, "edited", principal, {"before": before, "after": changes})
    return describe(session, customer)


def assign_owner(
    session: Session,
    principal: Principal,
    customer_id: int,
    owner_user_id: int | None,
    *,
    version: int | None = None,
) -> CustomerDetail:
    """Make ``owner_user_id``, an active user, the account manager (``None``: nobody).
    ``version``, when given, is checked like an edit's."""
    customer = _writable(session, principal, customer_id)
    if version is not None and customer.version != version:
        raise stale(customer, version)
    check_assignable(session, owner_user_id, column="owner_user_id")
    if customer.owner_user_id != owner_user_id:
        before = customer.owner_user_id
        customer.owner_user_id = owner_user_id
        _touch(session, customer)
        record_event(
            session,
            customer.id,
            "owner_assigned",
            principal,
            {"before": {"owner_user_id": before}, "after": {"owner_user_id": owner_user_id}},
        )
    return describe(session, customer)


# --- tags -------------------------------------------------------------------------------------


def _tag_name(name: str) -> str:
    cleaned = unicodedata.normalize("NFKC", name).strip()
    if not cleaned:
        raise InputError("a tag needs a name", column="tag", value=name)
    if len(cleaned) > 100:
        raise InputError("a tag name has at most 100 characters", column="tag", value=name)
    return cleaned


def _tag(session: Session, name: str) -> Tag:
    """The tag row, created on first use. Tags are shared by every customer, so two changes may
    create the same new tag at once: the one that loses the race re-reads the winner's row."""
    statement = select(Tag).where(Tag.name == name)
    tag = session.scalars(statement).one_or_none()
    if tag is not None:
        return tag
    try:
        with session.begin_nested():
            tag = Tag(name=name)
            session.add(tag)
    except IntegrityError:
        return session.scalars(statement).one()
    return tag


def link_tag(session: Session, customer_id: int, tag_id: int) -> bool:
    """Give the customer the tag; whether it is new (a link made meanwhile by a change that did
    not hold the customer, such as an import, counts as there already)."""
    linked = select(CustomerTag.id).where(
        CustomerTag.customer_id == customer_id, CustomerTag.tag_id == tag_id
    )
    if session.scalar(linked) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(CustomerTag(customer_id=customer_id, tag_id=tag_id))
    except IntegrityError:
        return False
    return True


def tag_customer(
    session: Session, principal: Principal, customer_id: int, tag: str
) -> CustomerDetail:
    """Add ``tag`` (created on first use); tagging twice changes nothing."""
    customer = _writable(session, principal, customer_id)
    name = _tag_name(tag)
    if link_tag(session, customer.id, _tag(session, name).id):
        _touch(session, customer)
        record_event(session, customer.id, "tagged", principal, {"tag": name})
    return describe(session, customer)


def untag_customer(
    session: Session, principal: Principal, customer_id: int, tag: str
) -> CustomerDetail:
    """Remove ``tag``; removing a tag the customer does not have changes nothing."""
    customer = _writable(session, principal, customer_id)
    name = _tag_name(tag)
    removed = session.execute(
        delete(CustomerTag)
        .where(CustomerTag.customer_id == customer.id)
        .where(CustomerTag.tag_id.in_(select(Tag.id).where(Tag.name == name)))
    )
    if getattr(removed, "rowcount", 0):
        _touch(session, customer)
        record_event(session, customer.id, "untagged", principal, {"tag": name})
    return describe(session, customer)


# --- contacts ---------------------------------------------------------------------------------


def _add_contact_row(
    session: Session, customer: Customer, contact: ContactIn
) -> tuple[CustomerContact, bool]:
    """The contact row, and whether it is new (a contact already known is kept once)."""
    normalized = normalize_contact(contact.type, contact.value)
    existing = session.scalars(
        select(CustomerContact).where(
            CustomerContact.customer_id == customer.id,
            CustomerContact.type == contact.type,
            CustomerContact.normalized == normalized,
        )
    ).first()
    if existing is not None:
        return existing, False
    row = CustomerContact(
        customer_id=customer.id,
        type=contact.type,
        value=contact.value,
        normalized=normalized,
        label=contact.label,
        is_primary=contact.is_primary,
    )
    session.add(row)
    session.flush()
    return row, True


def add_contact(
    session: Session, principal: Principal, customer_id: int, contact: ContactIn
) -> CustomerDetail:
    """Add an email, phone, WeChat id, address...; the same contact twice is kept once."""
    customer = _writable(session, principal, customer_id)
    row, added = _add_contact_row(session, customer, contact)
    if added:
        _touch(session, customer)
        record_event(
            session,
            customer.id,
            "contact_added",
            principal,
            {"contact_id": row.id, "type": row.type, "value": row.value},
        )
    return describe(session, customer)


def remove_contact(
    session: Session, principal: Principal, customer_id: int, contact_id: int
) -> CustomerDetail:
    customer = _writable(session, principal, customer_id)
    row = session.scalars(
        select(CustomerContact).where(
            CustomerContact.id == contact_id, CustomerContact.customer_id == customer.id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"contact {contact_id} of customer {customer_id} not found")
    data = {"contact_id": row.id, "type": row.type, "value": row.value}
    session.delete(row)
    _touch(session, customer)
    record_event(session, customer.id, "contact_removed", principal, data)
    return describe(session, customer)


# --- memberships ------------------------------------------------------------------------------


def add_membership(
    session: Session,
    principal: Principal,
    person_id: int,
    organisation_id: int,
    role: str | None = None,
) -> CustomerDetail:
    """Make a person a member of an organisation, with a role there (an existing membership gets
    the new role). Returns the person."""
    person = _writable(session, principal, person_id)
    organisation = _writable(session, principal, organisation_id)
    if person.kind != "person":
        raise InputError("only a person can be a member", column="person_id", value=person_id)
    if organisation.kind != "organisation":
        raise InputError(
            "a person can only be a member of an organisation",
            column="organisation_id",
            value=organisation_id,
        )
    role = role.strip() if role and role.strip() else None
    row = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id, Membership.organisation_id == organisation.id
        )
    ).one_or_none()
    if row is not None and row.role == role:
        return describe(session, person)
    if row is None:
        row = Membership(person_id=person.id, organisation_id=organisation.id, role=role)
        session.add(row)
    else:
        row.role = role
    _touch(session, person)
    _touch(session, organisation)
    data = {"organisation_id": organisation.id, "person_id": person.id, "role": role}
    record_event(session, person.id, "membership_added", principal, data)
    record_event(session, organisation.id, "membership_added", principal, data)
    return describe(session, person)


def remove_membership(
    session: Session, principal: Principal, person_id: int, organisation_id: int
) -> CustomerDetail:
    person = _writable(session, principal, person_id)
    organisation = _writable(session, principal, organisation_id)
    row = session.scalars(
        select(Membership).where(
            Membership.person_id == person.id, Membership.organisation_id == organisation.id
        )
    ).one_or_none()
    if row is None:
        raise NotFoundError(
            f"customer {person_id} is not a member of organisation {organisation_id}"
        )
    session.delete(row)
    _touch(session, person)
    _touch(session, organisation)
    data = {"organisation_id": organisation.id, "person_id": person.id}
    record_event(session, person.id, "membership_removed", principal, data)
    record_event(session, organisation.id, "membership_removed", principal, data)
    return describe(session, person)


# --- contact preferences and consent ----------------------------------------------------------


def set_contact_preference(
    session: Session, principal: Principal, customer_id: int, data: PreferenceIn
) -> CustomerDetail:
    """Record the customer's marketing consent and/or service preference on one channel, with
    when and how we learnt it (``source``: "web form", "phone call 2026-05-01", ...)."""
    customer = _writable(session, principal, customer_id)
    if data.consent is None and data.preference is None:
        raise InputError("give a consent, a preference or both", column="consent")
    row = session.scalars(
        select(ContactPreference).where(
            ContactPreference.customer_id == customer.id,
            ContactPreference.channel == data.channel,
        )
    ).one_or_none()
    before = None if row is None else {"consent": row.consent, "preference": row.preference}
    if row is None:
        row = ContactPreference(
            customer_id=customer.id,
            channel=data.channel,
            consent="unknown",
            preference="allowed",
            source=data.source,
        )
        session.add(row)
    if data.consent is not None:
        row.consent = data.consent
    if data.preference is not None:
        row.preference = data.preference
    row.source = data.source
    row.recorded_at = data.recorded_at or utc_now()
    after = {"consent": row.consent, "preference": row.preference}
    if before != after:
        _touch(session, customer)
        record_event(
            session,
            customer.id,
            "preference_changed",
            principal,
            {"channel": data.channel, "before": before, "after": after, "source": data.source},
        )
    else:
        session.flush()
    return describe(session, customer)


def may_contact(
    session: Session, customer_id: int, channel: Channel | str, purpose: Purpose | str = "service"
) -> bool:
    """May a message for ``purpose`` go to the customer on ``channel``?

    - marketing needs explicit consent on the channel (``granted``) and the channel not refused;
    - a service message (acknowledgement, reply, escalation) needs only the channel not refused.

    A merged customer's wishes are those of the customer it was merged into (its preferences
    moved there). Unknown customers raise ``NotFoundError``.
    """
    if channel not in CHANNELS:
        raise InputError(f"channels are {', '.join(CHANNELS)}", column="channel", value=channel)
    if purpose not in ("service", "marketing"):
        raise InputError("purpose is service or marketing", column="purpose", value=purpose)
    seen: set[int] = set()
    current: int | None = customer_id
    while current is not None and current not in seen:
        seen.add(current)
        merged_into = session.execute(
            select(Customer.merged_into_id).where(Customer.id == current)
        ).one_or_none()
        if merged_into is None:
            raise not_found(customer_id)
        if merged_into[0] is None:
            break
        current = merged_into[0]
    row = session.execute(
        select(ContactPreference.consent, ContactPreference.preference).where(
            ContactPreference.customer_id == current, ContactPreference.channel == channel
        )
    ).one_or_none()
    if row is not None and row.preference == "refused":
        return False
    if purpose == "marketing":
        return row is not None and row.consent == "granted"
    return True


def marketing_consent(session: Session, customer_id: int, channel: Channel | str) -> str:
    """The customer's marketing consent on ``channel`` (``granted``, ``withdrawn`` or
    ``unknown``), a merged customer's being its survivor's."""
    current = customer_id
    seen: set[int] = set()
    while current not in seen:
        seen.add(current)
        merged_into = session.scalar(select(Customer.merged_into_id).where(Customer.id == current))
        if merged_into is None:
            break
        current = merged_into
    consent = session.scalar(
        select(ContactPreference.consent).where(
            ContactPreference.customer_id == current, ContactPreference.channel == channel
        )
    )
    return consent or "unknown"


def record_unsubscribe(
    session: Session, customer_id: int, channel: Channel | str, *, source: str
) -> CustomerDetail:
    """The public use case of an unsubscribe link: the customer withdrew their consent to
    anything but service messages on ``channel`` (recorded as the system, with ``source``:
    "survey unsubscribe link"). Survey invitations and marketing stop; replies to their own
    tickets still go."""
    return set_contact_preference(
        session,
        SYSTEM,
        customer_id,
        PreferenceIn(channel=channel, consent="withdrawn", source=source),  # type: ignore[arg-type]
    )


def primary_address(session: Session, customer_id: int, channel: str) -> str | None:
    """The customer's address for ``channel``: their primary contact of that type, else the
    first one; ``None`` if they have none (the outbox's address book)."""
    return session.scalar(
        select(CustomerContact.value)
        .where(CustomerContact.customer_id == customer_id, CustomerContact.type == channel)
        .order_by(CustomerContact.is_primary.desc(), CustomerContact.id)
        .limit(1)
    )

"""Tables owned by the customers domain.

``customers`` is shared with the value domain (transactions and scores point at it), whose import
inserts rows with raw SQL naming only ``external_id``, ``created_at`` and ``updated_at`` (and then
fills their search keys with :func:`kehu.customers.search_keys.fill_missing_search_keys`): every
column added here is therefore nullable or has a server default.

``owner_user_id`` (the account manager), ``actor_user_id``, ``merged_by_user_id`` and
``undone_by_user_id`` are staff user ids with a foreign key to ``users.id`` and no ``ondelete``:
users are deactivated, never deleted (``kehu.core.users.service``), so deleting one still
referenced is refused (migration 0009).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kehu.customers.normalize import build_search_text
from kehu.customers.pinyin import pinyin_keys
from kehu.customers.vocabulary import (  # noqa: F401  (the tables' vocabulary, named here too)
    CHANNELS,
    CONSENTS,
    CONTACT_PREFERENCES,
    CONTACT_TYPES,
    CUSTOMER_KINDS,
)
from kehu.store.base import Base, UTCDateTime, not_modelled, utc_now

ID = BigInteger().with_variant(Integer, "sqlite")

#: SQLite's full-text index of the search columns (FTS5, trigram tokenizer) and the tables it
#: keeps its index in; made by migration 0005 with the triggers that keep it up to date
SEARCH_INDEX_TABLE = "customer_search"
#: PostgreSQL's trigram indexes of the search columns (pg_trgm), also made by migration 0005
SEARCH_TRIGRAM_INDEXES = ("ix_customers_search_text_trgm", "ix_customers_search_pinyin_trgm")
not_modelled(
    SEARCH_INDEX_TABLE,
    *(f"{SEARCH_INDEX_TABLE}_{shadow}" for shadow in ("config", "data", "docsize", "idx")),
    *SEARCH_TRIGRAM_INDEXES,
)


def _names_of_new_row(context: Any) -> tuple[str | None, ...]:
    row = context.get_current_parameters()
    return (row.get("name"), row.get("family_name"), row.get("given_name"))


def _search_text_of_new_row(context: Any) -> str:
    row = context.get_current_parameters()
    external_id = row.get("external_id")
    return build_search_text(names=_names_of_new_row(context), external_id=external_id, contacts=())


def _search_pinyin_of_new_row(context: Any) -> str | None:
    return pinyin_keys(_names_of_new_row(context))


class Customer(Base):
    """A person or an organisation. ``version`` grows on every change (optimistic locking)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    # The business's own identifier, as it appears in its exports.
    external_id: Mapped[str] = mapped_column(String(200), unique=True)
    # The display name (a person's full name, or the organisation's name).
    name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)
    kind: Mapped[str] = mapped_column(String(20), server_default="person")
    given_name: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str | None] = mapped_column(String(200))
    # Account manager: a staff user.
    owner_user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)
    preferred_language: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    # Lower-cased names, ids, emails and digits-only phones: what search matches as substrings.
    # Both search columns are derived (kehu.customers.search_keys); a row inserted without them
    # gets them from its names and external id.
    search_text: Mapped[str | None] = mapped_column(Text, default=_search_text_of_new_row)
    # The pinyin keys of the names (kehu.customers.pinyin): what "zhang wei" and "zw" match.
    search_pinyin: Mapped[str | None] = mapped_column(Text, default=_search_pinyin_of_new_row)
    # Set when this customer was merged into another (the row stays as a tombstone).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)

    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


class CustomerContact(Base):
    """One way to reach a customer. ``normalized``: lower-cased email, national phone digits."""

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    normalized: Mapped[str] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(100))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (Index("ix_customer_contacts_type_normalized", "type", "normalized"),)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class CustomerTag(Base):
    __tablename__ = "customer_tags"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (UniqueConstraint("customer_id", "tag_id"),)


class Membership(Base):
    """A person's place in an organisation, with their role there (e.g. 采购经理)."""

    __tablename__ = "customer_memberships"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (UniqueConstraint("person_id", "organisation_id"),)


class ContactPreference(Base):
    """Per channel: may we send marketing (``consent``), and does the customer refuse the channel
    altogether (``preference``)? ``recorded_at`` and ``source`` say when and how we learnt it."""

    __tablename__ = "customer_contact_preferences"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    consent: Mapped[str] = mapped_column(String(20), default="unknown")
    preference: Mapped[str] = mapped_column(String(20), default="allowed")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    source: Mapped[str] = mapped_column(String(200))

    __table_args__ = (UniqueConstraint("customer_id", "channel"),)


class CustomerEvent(Base):
    """Append-only log of what happened to a customer (created, edited with before/after, tagged,
    merged, unmerged, ...). Rows are never updated or deleted."""

    __tablename__ = "customer_events"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    actor_user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_customer_events_customer_at", "customer_id", "at"),)


class CustomerMerge(Base):
    """One merge: ``merged_id`` folded into ``survivor_id``. ``steps`` records, per registered
    customer reference, the rows moved (keys and digests), the survivor's rows at the time and the
    rows set aside (archived whole), so that the merge can be undone or refused with a reason."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    survivor_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    merged_by_user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    undone_by_user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)


class DuplicateFlag(Base):
    """A stored "possible duplicate": ``customer_id`` may be the same as ``duplicate_of_id``,
    raised by a weak match (a public complaint from a new email address with a known phone,
    ``reason`` ``same_phone``), until an agent confirms it (the customers are merged,
    ``merge_id``) or dismisses it (``status`` ``dismissed``; it stays dismissed). One flag per
    pair of customers. ``version`` grows on every change (optimistic locking)."""

    __tablename__ = "customer_duplicate_flags"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    duplicate_of_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), server_default="open")
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_user_id: Mapped[int | None] = mapped_column(ID, ForeignKey("users.id"), index=True)
    merge_id: Mapped[int | None] = mapped_column(ForeignKey("customer_merges.id"), index=True)
    version: Mapped[int] = mapped_column(Integer, server_default=text("1"))

    __table_args__ = (UniqueConstraint("customer_id", "duplicate_of_id"),)
    __mapper_args__: dict[str, Any] = {"version_id_col": version}  # noqa: RUF012


@event.listens_for(CustomerEvent, "before_update")
@event.listens_for(CustomerEvent, "before_delete")
def _append_only(_mapper: Any, _connection: Any, target: CustomerEvent) -> None:
    raise RuntimeError(f"customer events are append-only (event {target.id})")

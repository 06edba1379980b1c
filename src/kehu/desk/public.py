"""The public door: anyone may file a complaint (or an inquiry, request or praise) without an
account, is told the service promise that applies, and follows the ticket through a status link.

Use cases (the caller owns the transaction, as everywhere in kehu):

- :func:`file_complaint` -- rate-limit the sender, check the form (honeypot, signed form token,
  minimum fill time), find the customer by email, or by phone when no email is given (normalised;
  a new email with a known phone is a new customer, stored as a possible duplicate for an agent
  to confirm or dismiss) or create them, file the
  ticket (channel ``web_form``), work out the promise (the SLA policy version and its due times,
  told in the customer's time zone), issue a status link and queue the acknowledgement (with the
  link) in the outbox when the customer asked for email and their preferences allow it. Links
  are built on ``public_base_url`` (:func:`status_url`), never on the request's Host header.
- :func:`status_for_token` -- the ticket as its customer may see it: status, promise and the
  public conversation; never internal notes, never another ticket. An unknown, expired or
  revoked token is one and the same :class:`~kehu.errors.NotFoundError`.
- :func:`reply_with_token` -- the customer writes again (:func:`kehu.desk.ticket_messages.
  add_customer_reply`: a ticket waiting on the customer resumes its SLA clock).
- :func:`revoke_status_links` / :func:`issue_status_link` -- staff end a ticket's links, or give
  the customer a new one.

Status links are the platform's signed links (:mod:`kehu.core.links`, purpose
``ticket_status``): 256 random bits, only their SHA-256 digest stored, expiring after
``public_status_link_days``, revocable. Inside the use cases the public acts as
:data:`kehu.core.auth.SYSTEM`, but a token grants exactly one ticket and only its public view.

Flood safety: sliding-window limits per client address, per email address (as a digest) and per
status link, counted by the platform's rate limiter (:mod:`kehu.core.ratelimit`;
:class:`~kehu.errors.RateLimitedError` with ``retry_after``); :func:`record_refused_attempt` lets a
front door count a refused request too (its own transaction, as the request's is rolled back).
Concurrent requests may overshoot a limit by the few that are counted at the same instant. Every
field has a length limit; control characters are refused (NUL would even break PostgreSQL); text is
stored as typed and every page escapes it.

The form token of the web form is ``<issued unix time>.<HMAC-SHA256>`` over the purpose, the
time and a binding (a random value the browser holds in a cookie: an anonymous CSRF defence),
keyed with :func:`kehu.core.config.signing_key`.

Contact preferences: a new customer's email preference is recorded from the form's consent box
(allowed or refused, source "web form"). An existing customer's preferences are never changed by
an unauthenticated form; their acknowledgement is queued only when they ticked the box and
``may_contact`` allows service email (delivery asks again).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core import outbox
from kehu.core.audit.service import record_audit
from kehu.core.auth import SYSTEM, Principal, require
from kehu.core.config import Settings, public_url, signing_key
from kehu.core.i18n import format_instant
from kehu.core.links import SignedLink, issue_link, resolve_link, revoke_links, token_digest
from kehu.core.ratelimit import check_limit, count_hits, throttle
from kehu.customers.duplicate_flags import raise_flag
from kehu.customers.normalize import normalize_email, normalize_phone, phone_digits
from kehu.customers.queries import customers_with_contact, survivor_of
from kehu.customers.schemas import ContactIn, CustomerCreate, PreferenceIn
from kehu.customers.service import may_contact, new_customer, set_contact_preference
from kehu.desk.messages import acknowledgement_message
from kehu.desk.schemas import TicketCreate
from kehu.desk.sla_store import promise_zone
from kehu.desk.tables import SlaPolicyVersion, Ticket, TicketMessage
from kehu.desk.ticket_commands import create_ticket
from kehu.desk.ticket_messages import add_customer_reply
from kehu.desk.ticket_queries import get_ticket
from kehu.errors import InputError, NotFoundError
from kehu.store.base import utc_now
from kehu.store.db import Database

__all__ = [
    "KINDS",
    "LANGUAGES",
    "Acknowledgement",
    "ComplaintForm",
    "FormRefusedError",
    "Promise",
    "PublicMessage",
    "PublicStatus",
    "ReplyForm",
    "check_form_token",
    "file_complaint",
    "format_instant",  # kehu.core.i18n.format_instant: the promise told in words
    "issue_form_token",
    "issue_status_link",
    "record_refused_attempt",
    "reply_with_token",
    "revoke_status_links",
    "status_for_token",
    "status_path",
    "status_url",
    "throttle",
    "token_digest",
]

KINDS = ("complaint", "inquiry", "request", "praise")
LANGUAGES = ("en", "zh-Hans")
Kind = Literal["complaint", "inquiry", "request", "praise"]
Language = Literal["en", "zh-Hans"]

MAX_NAME = 200
MAX_EMAIL = 254
MAX_PHONE = 40
MAX_SUBJECT = 200
MAX_DESCRIPTION = 5000
MAX_REPLY = 5000

#: The one answer for a token that is unknown, expired or revoked.
LINK_NOT_FOUND = "this status link is not valid: it may have expired or been revoked"
_EMAIL_SHAPE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: Control characters refused in one-line fields, and (less tab and newlines) in text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = ("\u2028", "\u2029", "\x85")


class FormRefusedError(InputError):
    """The form was refused as likely sent by a program: ``reason`` is ``honeypot``,
    ``too_fast``, ``expired`` or ``invalid`` (a missing or forged form token)."""

    def __init__(self, reason: str, message: str, *, column: str = "form_token") -> None:
        self.refusal = reason
        super().__init__(message, column=column)


# -- input ------------------------------------------------------------------------------------


def _one_line(value: str) -> str:
    if _CONTROL.search(value) or any(ch in value for ch in _LINE_BREAKS):
        raise ValueError("must be one line without control characters")
    return value


def _text(value: str) -> str:
    if _TEXT_CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


class ComplaintForm(BaseModel):
    """What the public form and ``POST /api/public/complaints`` accept."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=MAX_NAME)
    email: str | None = Field(default=None, max_length=MAX_EMAIL)
    phone: str | None = Field(default=None, max_length=MAX_PHONE)
    kind: Kind = "complaint"
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    #: consent to be contacted by email about this ticket (acknowledgement, replies)
    contact_by_email: bool = False
    #: the language the customer used (the acknowledgement is written in it)
    language: Language = "en"
    #: the customer's IANA time zone (the web form's script fills it in); unknown: ignored
    timezone: str | None = Field(default=None, max_length=64)
    #: the honeypot: hidden from people, filled in by naive bots
    website: str = Field(default="", max_length=500)
    form_token: str | None = Field(default=None, max_length=300)

    @field_validator("name", "subject", "timezone", "website", "form_token")
    @classmethod
    def _single_line(cls, value: str | None) -> str | None:
        return None if value is None else _one_line(value)

    @field_validator("description")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return _text(value)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        _one_line(value)
        if not _EMAIL_SHAPE.match(value):
            raise ValueError("an email address looks like name@example.com")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        _one_line(value)
        digits = phone_digits(value)
        if not 5 <= len(digits) <= 20:
            raise ValueError("a phone number has 5 to 20 digits")
        if re.search(r"[^\d\s\-+().\uff10-\uff19]", unicodedata.normalize("NFKC", value)):
            raise ValueError("a phone number holds digits, spaces, +, -, ( and ) only")
        return value

    @model_validator(mode="after")
    def _reachable(self) -> ComplaintForm:
        if self.email is None and self.phone is None:
            raise ValueError("give an email address or a phone number so that we can answer")
        if self.contact_by_email and self.email is None:
            raise ValueError("give an email address to be contacted by email")
        return self


class ReplyForm(BaseModel):
    """A customer's reply through the status link."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    body: str = Field(min_length=1, max_length=MAX_REPLY)

    @field_validator("body")
    @classmethod
    def _plain_text(cls, value: str) -> str:
        return _text(value)


# -- output -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Promise:
    """The service promise as told to the customer: the policy version that applies and its
    running due times (UTC; ``None`` once met, while paused, or without a policy), to be shown in
    ``timezone``."""

    policy_name: str | None
    policy_version: int | None
    first_response_target: timedelta | None  # business time
    resolution_target: timedelta | None
    first_response_due: datetime | None
    resolution_due: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused: bool
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, instant: datetime | None) -> datetime | None:
        return None if instant is None else instant.astimezone(self.zone)


@dataclass(frozen=True)
class Acknowledgement:
    """What the customer is told right after filing (the token is shown once, here)."""

    ticket_id: int
    kind: str
    subject: str
    created_at: datetime
    promise: Promise
    status_token: str
    status_path: str
    status_url: str
    status_expires_at: datetime
    #: the customer asked for email (the acknowledgement is queued when their preferences allow)
    email_requested: bool
    language: str


@dataclass(frozen=True)
class PublicMessage:
    author: Literal["customer", "service"]
    body: str
    at: datetime


@dataclass(frozen=True)
class PublicStatus:
    """One ticket as its customer sees it through the status link."""

    ticket_id: int
    kind: str
    subject: str
    description: str
    status: str
    status_category: str
    created_at: datetime
    updated_at: datetime
    promise: Promise
    messages: list[PublicMessage] = field(default_factory=list)
    link_expires_at: datetime | None = None

    @property
    def can_reply(self) -> bool:
        return self.status != "closed"


# -- tokens -----------------------------------------------------------------------------------


def _signature(key: bytes, purpose: str, issued: int, binding: str) -> str:
    mac = hmac.new(key, f"{purpose}\n{issued}\n{binding}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def issue_form_token(
    settings: Settings, now: datetime, *, purpose: str = "complaint", binding: str = ""
) -> str:
    """A signed timestamp for a form shown at ``now`` (``binding``: the browser's form cookie)."""
    issued = int(now.timestamp())
    return f"{issued}.{_signature(signing_key(settings), purpose, issued, binding)}"


def check_form_token(
    token: str | None,
    settings: Settings,
    now: datetime,
    *,
    purpose: str = "complaint",
    binding: str = "",
) -> None:
    """Refuse (:class:`FormRefusedError`) a missing or forged token, a form sent sooner than
    ``public_min_fill_seconds`` after it was shown, or one older than
    ``public_form_max_age_hours``."""
    issued_text, _, sent = (token or "").partition(".")
    if not issued_text.isdigit() or not sent:
        raise FormRefusedError("invalid", "the form is incomplete; please load it and send again")
    issued = int(issued_text)
    expected = _signature(signing_key(settings), purpose, issued, binding)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise FormRefusedError("invalid", "the form is not valid; please load it and send again")
    age = now.timestamp() - issued
    if age < settings.public_min_fill_seconds:
        raise FormRefusedError("too_fast", "the form was sent too quickly; please send it again")
    if age > settings.public_form_max_age_hours * 3600:
        raise FormRefusedError("expired", "the form has expired; please send it again")


# -- rate limits ------------------------------------------------------------------------------


def _email_bucket(email: str) -> str:
    return "email:" + hashlib.sha256(normalize_email(email).encode("utf-8")).hexdigest()


def _address_bucket(client_address: str | None) -> str:
    return "address:" + (client_address or "unknown")[:64]


def _complaint_buckets(
    settings: Settings, client_address: str | None, email: str | None
) -> list[tuple[str, int]]:
    buckets = [(_address_bucket(client_address), settings.public_max_complaints_per_address)]
    if email:
        buckets.append((_email_bucket(email), settings.public_max_complaints_per_email))
    return buckets


def record_refused_attempt(
    database: Database,
    action: Literal["complaint", "reply", "lookup"],
    *,
    client_address: str | None,
    email: str | None = None,
    now: datetime | None = None,
    settings: Settings,
) -> None:
    """Count a refused request (bad form, honeypot, unknown link) in its own transaction, so that
    a flood of refused requests reaches the limits too."""
    now = now or utc_now()
    buckets = [_address_bucket(client_address)]
    if email and action == "complaint":
        buckets.append(_email_bucket(email))
    window = timedelta(seconds=settings.public_window_seconds)
    with database.session() as session:
        count_hits(session, action, buckets, now=now, window=window)


def check_lookups(
    session: Session, client_address: str | None, *, now: datetime, settings: Settings
) -> None:
    """Refuse an address that has tried too many unknown status links within the window."""
    check_limit(
        session,
        "lookup",
        _address_bucket(client_address),
        settings.public_max_failed_lookups_per_address,
        now=now,
        window=timedelta(seconds=settings.public_window_seconds),
    )


# -- customers --------------------------------------------------------------------------------


def find_customer(session: Session, email: str | None, phone: str | None) -> int | None:
    """The customer the form is from: the one with this email address (normalised; the
    earliest such customer, followed through merges); without an email address, the one with
    this phone number. An email address nobody has is a new customer even when the phone number
    is known (a phone is shared, passed on, mistyped): attaching the complaint to that customer
    would be a guess. The new customer then shares the phone with the known one, and the
    complaint stores a possible-duplicate flag (:func:`_flag_weak_match`), shown on the ticket
    and both customers' pages and in the API, for an agent to confirm (merge) or dismiss -- the
    way Zammad and Freshdesk treat a new sender address."""
    if email:
        found = customers_with_contact(session, "email", normalize_email(email))
        return survivor_of(session, found[0]) if found else None
    if phone:
        found = customers_with_contact(session, "phone", normalize_phone(phone))
        if found:
            return survivor_of(session, found[0])
    return None


def _flag_weak_match(session: Session, customer_id: int, phone: str | None, now: datetime) -> None:
    """A new customer (new email address) with a phone number another customer has: a weak
    match, stored as a possible duplicate of the earliest such customer (followed through
    merges) for an agent to confirm or dismiss (:mod:`kehu.customers.duplicate_flags`)."""
    if not phone:
        return
    others = [
        i
        for i in customers_with_contact(session, "phone", normalize_phone(phone))
        if i != customer_id
    ]
    if others:
        raise_flag(session, customer_id, survivor_of(session, others[0]), "same_phone", now=now)


def _create_customer(session: Session, form: ComplaintForm, now: datetime) -> int:
    contacts = []
    if form.email:
        contacts.append(ContactIn(type="email", value=form.email, is_primary=True))
    if form.phone:
        contacts.append(ContactIn(type="phone", value=form.phone, is_primary=True))
    customer = new_customer(
        session,
        SYSTEM,
        CustomerCreate(
            kind="person",
            name=form.name,
            preferred_language=form.language,
            contacts=contacts,
        ),
    )
    if form.email:
        set_contact_preference(
            session,
            SYSTEM,
            customer.id,
            PreferenceIn(
                channel="email",
                preference="allowed" if form.contact_by_email else "refused",
                source="web form",
                recorded_at=now,
            ),
        )
    return customer.id


# -- the promise ------------------------------------------------------------------------------


def promise_for(
    session: Session, ticket: Ticket, *, timezone: str | None = None, settings: Settings
) -> Promise:
    """The promise of ``ticket`` in ``timezone`` (else the policy calendar's zone, else the
    business time zone)."""
    version = (
        session.get(SlaPolicyVersion, ticket.sla_policy_version_id)
        if ticket.sla_policy_version_id is not None
        else None
    )
    zone = promise_zone(
        session, ticket.sla_policy_version_id, preferred=timezone, default=settings.timezone
    )
    return Promise(
        policy_name=version.name if version else None,
        policy_version=version.version if version else None,
        first_response_target=(
            timedelta(seconds=version.first_response_seconds) if version else None
        ),
        resolution_target=timedelta(seconds=version.resolution_seconds) if version else None,
        first_response_due=ticket.first_response_due_at,
        resolution_due=ticket.resolution_due_at,
        first_responded_at=ticket.first_responded_at,
        resolved_at=ticket.resolved_at,
        paused=ticket.status == "waiting_on_customer",
        timezone=zone,
    )


def _acknowledgement_message(
    ticket: Ticket, name: str, promise: Promise, url: str, expires: datetime, language: str
) -> tuple[str, str]:
    """Subject and body of the acknowledgement email, in the customer's language (the template
    :data:`kehu.desk.messages.ACKNOWLEDGEMENT`)."""
    message = acknowledgement_message(
        ticket_id=ticket.id,
        kind=ticket.kind,
        subject=ticket.subject,
        name=name,
        first_response_due=promise.first_response_due,
        resolution_due=promise.resolution_due,
        zone=promise.timezone,
        url=url,
        expires=expires,
        language=language,
    )
    return message.subject, message.body


# -- status links -----------------------------------------------------------------------------


#: The purpose of the desk's links in :mod:`kehu.core.links` (they open one ticket).
STATUS_LINK = "ticket_status"


def _new_link(
    session: Session, ticket_id: int, now: datetime, settings: Settings
) -> tuple[str, SignedLink]:
    issued = issue_link(
        session,
        STATUS_LINK,
        ("ticket", ticket_id),
        now=now,
        lifetime=timedelta(days=settings.public_status_link_days),
    )
    return issued.token, issued.link


def status_path(token: str) -> str:
    """Path of the status page of ``token`` (the web page the customer opens)."""
    return f"/status/{token}"


def status_url(token: str, settings: Settings) -> str:
    """The status link given to the customer: on ``public_base_url`` (never the Host header of
    the request that filed the ticket or asked for the link; see
    :func:`kehu.core.config.public_url`)."""
    return public_url(settings, status_path(token))


def issue_status_link(
    session: Session,
    principal: Principal,
    ticket_id: int,
    *,
    now: datetime | None = None,
    settings: Settings,
) -> tuple[str, SignedLink]:
    """A new status link for a ticket in the caller's scope (to give to the customer, e.g. after
    the old ones were revoked). Returns the token (shown once) and the link row."""
    require(principal, "tickets:write")
    now = now or utc_now()
    ticket = get_ticket(session, principal, ticket_id)
    token, link = _new_link(session, ticket.id, now, settings)
    record_audit(
        session,
        principal,
        "ticket.status_link_issued",
        "ticket",
        ticket.id,
        after={"link_id": link.id, "expires_at": link.expires_at},
    )
    return token, link


def revoke_status_links(
    session: Session, principal: Principal, ticket_id: int, *, now: datetime | None = None
) -> int:
    """End every live status link of a ticket in the caller's scope; returns how many."""
    require(principal, "tickets:write")
    now = now or utc_now()
    ticket = get_ticket(session, principal, ticket_id)
    revoked = revoke_links(
        session, STATUS_LINK, ("ticket", ticket.id), now=now, by=principal.user_id
    )
    if revoked:
        record_audit(
            session,
            principal,
            "ticket.status_links_revoked",
            "ticket",
            ticket.id,
            after={"revoked": revoked},
        )
    return revoked


def _link_for(session: Session, token: str, now: datetime) -> SignedLink:
    return resolve_link(session, STATUS_LINK, token, now=now, refusal=LINK_NOT_FOUND)


def _ticket_of(session: Session, link: SignedLink) -> Ticket:
    """The link's ticket; a ticket merged into another one leads to that one (same customer)."""
    ticket = session.get(Ticket, link.subject_id)
    seen: set[int] = set()
    while ticket is not None and ticket.merged_into_id is not None and ticket.id not in seen:
        seen.add(ticket.id)
        ticket = session.get(Ticket, ticket.merged_into_id)
    if ticket is None:
        raise NotFoundError(LINK_NOT_FOUND)
    return ticket


# -- use cases --------------------------------------------------------------------------------


def file_complaint(
    session: Session,
    form: ComplaintForm,
    *,
    now: datetime | None = None,
    client_address: str | None,
    settings: Settings,
    form_binding: str | None = None,
) -> Acknowledgement:
    """File a ticket from the public form (see the module docstring). ``form_binding`` given
    (the web form's cookie value): the signed form token is required and checked against it;
    ``None`` (the JSON API): a token is checked only when the form carries one."""
    now = now or utc_now()
    throttle(
        session,
        "complaint",
        _complaint_buckets(settings, client_address, form.email),
        now=now,
        window=timedelta(seconds=settings.public_window_seconds),
    )
    if form.website:
        raise FormRefusedError("honeypot", "the form could not be accepted", column="website")
    if form_binding is not None or form.form_token is not None:
        check_form_token(form.form_token, settings, now, binding=form_binding or "")

    customer_id = find_customer(session, form.email, form.phone)
    if customer_id is None:
        customer_id = _create_customer(session, form, now)
        _flag_weak_match(session, customer_id, form.phone, now)
    ticket = create_ticket(
        session,
        SYSTEM,
        TicketCreate(
            customer_id=customer_id,
            kind=form.kind,
            channel="web_form",
            subject=form.subject,
            description=form.description,
        ),
        now=now,
        settings=settings,
        acknowledge=False,
    )
    promise = promise_for(session, ticket, timezone=form.timezone, settings=settings)
    token, link = _new_link(session, ticket.id, now, settings)
    path = status_path(token)
    url = status_url(token, settings)
    if (
        form.contact_by_email
        and form.email
        and may_contact(session, customer_id, "email", "service")
    ):
        subject, body = _acknowledgement_message(
            ticket, form.name, promise, url, link.expires_at, form.language
        )
        outbox.enqueue(
            session,
            purpose="acknowledgement",
            customer_id=customer_id,
            regarding=("ticket", ticket.id),
            recipient=form.email,
            subject=subject,
            body=body,
            now=now,
            dedupe_key=f"ticket:{ticket.id}:acknowledgement",
        )
    return Acknowledgement(
        ticket_id=ticket.id,
        kind=ticket.kind,
        subject=ticket.subject,
        created_at=ticket.created_at,
        promise=promise,
        status_token=token,
        status_path=path,
        status_url=url,
        status_expires_at=link.expires_at,
        email_requested=form.contact_by_email,
        language=form.language,
    )


def _public_view(
    session: Session,
    ticket: Ticket,
    link: SignedLink,
    *,
    timezone: str | None,
    settings: Settings,
) -> PublicStatus:
    rows = session.scalars(
        select(TicketMessage)
        .where(
            TicketMessage.ticket_id == ticket.id,
            TicketMessage.internal.is_(False),
            TicketMessage.kind.in_(("reply", "customer")),
        )
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    messages = [
        PublicMessage(
            author="customer" if row.kind == "customer" else "service",
            body=row.body,
            at=row.created_at,
        )
        for row in rows
    ]
    return PublicStatus(
        ticket_id=ticket.id,
        kind=ticket.kind,
        subject=ticket.subject,
        description=ticket.description,
        status=ticket.status,
        status_category=ticket.status_category,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        promise=promise_for(session, ticket, timezone=timezone, settings=settings),
        messages=messages,
        link_expires_at=link.expires_at,
    )


def status_for_token(
    session: Session,
    token: str,
    now: datetime | None = None,
    *,
    timezone: str | None = None,
    settings: Settings,
) -> PublicStatus:
    """The public view of the one ticket ``token`` grants (``NotFoundError`` with the same
    message for an unknown, expired or revoked token)."""
    now = now or utc_now()
    link = _link_for(session, token, now)
    ticket = _ticket_of(session, link)
    return _public_view(session, ticket, link, timezone=timezone, settings=settings)


def reply_with_token(
    session: Session,
    token: str,
    reply: ReplyForm,
    *,
    now: datetime | None = None,
    client_address: str | None,
    timezone: str | None = None,
    settings: Settings,
) -> PublicStatus:
    """The customer replies through their link: rate-limited per address and per link, then
    :func:`~kehu.desk.ticket_messages.add_customer_reply` (a ticket waiting on the customer resumes,
    a resolved one reopens, a closed one refuses with ``ConflictError``)."""
    now = now or utc_now()
    link = _link_for(session, token, now)
    throttle(
        session,
        "reply",
        [
            (_address_bucket(client_address), settings.public_max_replies_per_address),
            (f"link:{link.id}", settings.public_max_replies_per_link),
        ],
        now=now,
        window=timedelta(seconds=settings.public_window_seconds),
    )
    ticket = _ticket_of(session, link)
    add_customer_reply(session, SYSTEM, ticket.id, reply.body, now=now, settings=settings)
    return _public_view(session, ticket, link, timezone=timezone, settings=settings)

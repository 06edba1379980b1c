"""The public door's use cases: file a complaint without an account, be told the promise, follow
the ticket through a hashed, expiring, revocable status link; rate limits and bot traps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from desk import Desk, b, make_settings
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import DEVELOPMENT_BASE_URL, Settings, signing_key
from kehu.core.links import SignedLink
from kehu.core.outbox import OutboxMessage
from kehu.core.ratelimit import RateLimitHit
from kehu.customers.duplicates import find_duplicates
from kehu.customers.schemas import ContactIn, PreferenceIn
from kehu.customers.service import add_contact, set_contact_preference
from kehu.customers.tables import ContactPreference, Customer, CustomerContact
from kehu.desk import public, ticket_commands, ticket_merge, ticket_messages
from kehu.desk.public import ComplaintForm, FormRefusedError, ReplyForm
from kehu.desk.tables import Ticket, TicketEvent
from kehu.errors import (
    ConfigurationError,
    ConflictError,
    InputError,
    NotFoundError,
    RateLimitedError,
)

ADDRESS = "203.0.113.7"
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def settings(desk: Desk, tmp_path: Path) -> Settings:
    """The desk's settings with the public forms' own: one settings object, as the app has."""
    return make_settings(
        tmp_path,
        secret_key="a-test-secret-that-is-long-enough",
        data_dir=tmp_path / "data",
        timezone="Asia/Shanghai",
        public_base_url="https://service.example.com/",
        public_max_complaints_per_address=4,
        public_max_complaints_per_email=2,
        public_max_replies_per_address=50,
        public_max_replies_per_link=3,
        public_window_seconds=3600,
    )


def form(**fields: Any) -> ComplaintForm:
    data: dict[str, Any] = {
        "name": "Erika Mustermann",
        "email": "Erika@Example.com ",
        "subject": "The parcel arrived broken",
        "description": "The box was crushed and the vase inside is in pieces.",
        "contact_by_email": True,
        **fields,
    }
    return ComplaintForm(**data)


def file(desk: Desk, settings: Settings, complaint: ComplaintForm, now: datetime, **kw: Any):  # type: ignore[no-untyped-def]
    with desk.database.session() as session:
        return public.file_complaint(
            session,
            complaint,
            now=now,
            client_address=kw.pop("client_address", ADDRESS),
            settings=settings,
            **kw,
        )


def status(desk: Desk, settings: Settings, token: str, now: datetime) -> public.PublicStatus:
    with desk.database.session() as session:
        return public.status_for_token(session, token, now, settings=settings)


# -- filing -----------------------------------------------------------------------------------


def test_a_new_customer_files_a_complaint_and_is_told_the_promise(
    desk: Desk, settings: Settings
) -> None:
    now = b(3, 23, 10)  # Monday 10:00 in Berlin, the policy calendar's zone
    ack = file(desk, settings, form(timezone="Asia/Shanghai"), now)
    with desk.database.session() as session:
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None
        assert (ticket.kind, ticket.channel, ticket.status) == ("complaint", "web_form", "new")
        customer = session.get(Customer, ticket.customer_id)
        assert customer is not None and customer.name == "Erika Mustermann"
        assert customer.preferred_language == "en"
        contacts = session.scalars(
            select(CustomerContact.normalized).where(CustomerContact.customer_id == customer.id)
        ).all()
        assert contacts == ["erika@example.com"]
        preference = session.scalar(
            select(ContactPreference).where(ContactPreference.customer_id == customer.id)
        )
        assert preference is not None
        assert (preference.channel, preference.preference, preference.source) == (
            "email",
            "allowed",
            "web form",
        )
        assert preference.consent == "unknown"  # the form asks for service email, not marketing
    promise = ack.promise
    assert (promise.policy_name, promise.policy_version) == ("standard", 1)
    assert promise.first_response_target == timedelta(hours=4)
    assert promise.first_response_due == b(3, 23, 14)
    assert promise.resolution_due == b(3, 25, 10)  # 7 h Monday, 8 h Tuesday, 1 h Wednesday
    # told in the customer's own time zone
    assert promise.timezone == "Asia/Shanghai"
    local = promise.local(promise.first_response_due)
    assert local is not None and (local.hour, local.minute) == (21, 0)
    assert ack.status_url == f"https://service.example.com/status/{ack.status_token}"
    assert ack.status_expires_at == now + timedelta(days=90)


def test_the_acknowledgement_goes_through_the_outbox_with_the_link(
    desk: Desk, settings: Settings
) -> None:
    ack = file(desk, settings, form(language="zh-Hans", timezone="Asia/Shanghai"), b(3, 23, 10))
    with desk.database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None
        assert message.purpose == "acknowledgement"
        assert message.status == "pending"
        assert (message.regarding_type, message.regarding_id) == ("ticket", ack.ticket_id)
        assert message.recipient == "Erika@Example.com"
        assert (
            message.subject == f"[#{ack.ticket_id}] 我们已收到您的投诉：The parcel arrived broken"
        )
        assert ack.status_url in message.body
        assert "2026年3月23日周一 21:00 中国标准时间" in message.body


def test_english_acknowledgement_names_the_due_times(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(kind="inquiry"), b(3, 23, 10))
    with desk.database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None
        assert message.subject.startswith(f"[#{ack.ticket_id}] We received your inquiry:")
        # no time zone from the browser: the policy calendar's zone
        assert "we will reply by Mon, Mar 23, 2026 14:00 Central European Standard Time" in (
            message.body
        )
        assert ack.status_url in message.body


def test_links_are_on_the_configured_address_with_one_slash(desk: Desk, settings: Settings) -> None:
    # the trailing slash of KEHU_PUBLIC_BASE_URL is dropped: one slash before the path
    ack = file(desk, settings, form(), b(3, 23, 10))
    assert ack.status_url == f"https://service.example.com/status/{ack.status_token}"
    with desk.database.session() as session:
        token, _link = public.issue_status_link(
            session, desk.front_agent, ack.ticket_id, settings=settings
        )
    assert public.status_url(token, settings) == f"https://service.example.com/status/{token}"


def test_in_development_links_are_on_the_listening_address(desk: Desk, settings: Settings) -> None:
    development = settings.model_copy(update={"public_base_url": None})
    ack = file(desk, development, form(), b(3, 23, 10))
    assert ack.status_url == f"{DEVELOPMENT_BASE_URL}/status/{ack.status_token}"
    with desk.database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None and ack.status_url in message.body


def test_in_production_no_link_is_made_up_without_the_public_address(
    desk: Desk, settings: Settings
) -> None:
    production = settings.model_copy(update={"environment": "production", "public_base_url": None})
    with pytest.raises(ConfigurationError, match="KEHU_PUBLIC_BASE_URL"):
        file(desk, production, form(), b(3, 23, 10))
    with desk.database.session() as session:  # the refused complaint left nothing behind
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert session.scalar(select(func.count()).select_from(SignedLink)) == 0
        with pytest.raises(ConfigurationError, match="KEHU_PUBLIC_BASE_URL"):
            public.status_url("A" * 43, production)


def test_no_consent_no_email_and_the_refusal_is_recorded(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(contact_by_email=False), b(3, 23, 10))
    with desk.database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None
        preference = session.scalar(
            select(ContactPreference.preference).where(
                ContactPreference.customer_id == ticket.customer_id
            )
        )
        assert preference == "refused"
    assert ack.email_requested is False


def test_an_existing_customer_is_found_by_normalised_email_or_phone(
    desk: Desk, settings: Settings
) -> None:
    with desk.database.session() as session:
        add_contact(
            session, SYSTEM, desk.customer, ContactIn(type="email", value="xiaoming@example.cn")
        )
        add_contact(
            session, SYSTEM, desk.other_customer, ContactIn(type="phone", value="138 0013 8000")
        )
    by_email = file(desk, settings, form(email=" XiaoMing@Example.CN"), b(3, 23, 10))
    by_phone = file(
        desk,
        settings,
        form(email=None, phone="+86 138-0013-8000", contact_by_email=False),
        b(3, 23, 11),
    )
    with desk.database.session() as session:
        assert session.get(Ticket, by_email.ticket_id).customer_id == desk.customer  # type: ignore[union-attr]
        assert session.get(Ticket, by_phone.ticket_id).customer_id == desk.other_customer  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Customer)) == 2  # nobody new
        # an unauthenticated form never changes a known customer's preferences
        assert session.scalar(select(func.count()).select_from(ContactPreference)) == 0


def test_a_new_email_with_a_known_phone_is_a_new_customer_flagged_as_a_possible_duplicate(
    desk: Desk, settings: Settings
) -> None:
    """Only an exact email match is the same customer. A form with an email address nobody has
    and a phone number a customer has is a new customer (like a new sender in Zammad or
    Freshdesk), never silently attached to the other one: the shared phone flags the two as
    possible duplicates for an agent to merge (the 360 page and ``/api/customers/duplicates``)."""
    with desk.database.session() as session:
        add_contact(
            session, SYSTEM, desk.other_customer, ContactIn(type="phone", value="138 0013 8000")
        )
    ack = file(
        desk,
        settings,
        form(email="new.person@example.cn", phone="+86 138-0013-8000"),
        b(3, 23, 10),
    )
    with desk.database.session() as session:
        ticket = session.get(Ticket, ack.ticket_id)
        assert ticket is not None and ticket.customer_id not in (desk.customer, desk.other_customer)
        new = ticket.customer_id
        assert session.scalar(select(func.count()).select_from(Customer)) == 3
        pairs = find_duplicates(session, desk.manager, new)
    assert [(p.customer_ids, p.reasons) for p in pairs] == [
        ((desk.other_customer, new), ["same phone 138 0013 8000"])
    ]
    # the same email again is the same (new) customer, no third one
    again = file(
        desk, settings, form(email="New.Person@example.cn", phone="13800138000"), b(3, 23, 11)
    )
    with desk.database.session() as session:
        assert session.get(Ticket, again.ticket_id).customer_id == new  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Customer)) == 3


def test_an_existing_customers_refusal_of_email_is_honoured(desk: Desk, settings: Settings) -> None:
    with desk.database.session() as session:
        add_contact(
            session, SYSTEM, desk.customer, ContactIn(type="email", value="xiaoming@example.cn")
        )
        set_contact_preference(
            session,
            SYSTEM,
            desk.customer,
            PreferenceIn(channel="email", preference="refused", source="phone call"),
        )
    file(desk, settings, form(email="xiaoming@example.cn"), b(3, 23, 10))
    with desk.database.session() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_merged_customer_leads_to_the_customer_it_was_merged_into(
    desk: Desk, settings: Settings
) -> None:
    with desk.database.session() as session:
        add_contact(
            session, SYSTEM, desk.other_customer, ContactIn(type="email", value="old@example.com")
        )
        other = session.get(Customer, desk.other_customer)
        assert other is not None
        other.merged_into_id = desk.customer
    ack = file(desk, settings, form(email="old@example.com"), b(3, 23, 10))
    with desk.database.session() as session:
        assert session.get(Ticket, ack.ticket_id).customer_id == desk.customer  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", ["inquiry", "request", "praise"])
def test_other_kinds_may_be_chosen(desk: Desk, settings: Settings, kind: str) -> None:
    ack = file(desk, settings, form(kind=kind), b(3, 23, 10))
    assert ack.kind == kind


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"subject": "x" * 201}, "subject"),
        ({"subject": "two\nlines"}, "subject"),
        ({"description": "x" * 5001}, "description"),
        ({"description": "nul \x00 byte"}, "description"),
        ({"email": "not an email"}, "email"),
        ({"email": "a@b.c" + "x" * 260}, "email"),
        ({"phone": "12"}, "phone"),
        ({"phone": "call me maybe"}, "phone"),
        ({"kind": "threat"}, "kind"),
        ({"email": None, "phone": None, "contact_by_email": False}, None),
        ({"email": None, "phone": "13800138000", "contact_by_email": True}, None),
        ({"unexpected": "field"}, "unexpected"),
    ],
)
def test_every_field_is_checked(fields: dict[str, Any], field: str | None) -> None:
    from kehu.desk.schemas import parse

    with pytest.raises(InputError) as caught:
        parse(ComplaintForm, {"name": "N", "email": "n@example.com", "subject": "S", **fields})
    assert caught.value.column == field


def test_script_is_stored_as_typed(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(subject=SCRIPT, description=SCRIPT), b(3, 23, 10))
    view = status(desk, settings, ack.status_token, b(3, 23, 11))
    assert view.subject == SCRIPT and view.description == SCRIPT


# -- the status link --------------------------------------------------------------------------


def test_only_the_digest_of_the_token_is_stored(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))
    assert len(ack.status_token) >= 43  # 32 random bytes
    with desk.database.session() as session:
        link = session.scalar(select(SignedLink))
        assert link is not None
        assert link.digest == hashlib.sha256(ack.status_token.encode()).hexdigest()
        assert (link.purpose, link.subject_type, link.subject_id) == (
            "ticket_status",
            "ticket",
            ack.ticket_id,
        )
        stored = [str(v) for v in session.execute(select(SignedLink.__table__)).one()]
        assert ack.status_token not in " ".join(stored)


def test_status_shows_the_ticket_the_promise_and_public_messages_only(
    desk: Desk, settings: Settings
) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))
    other = file(desk, settings, form(subject="Another matter"), b(3, 23, 10, 5))
    with desk.database.session() as session:
        ticket_messages.add_note(
            session,
            desk.manager,
            ack.ticket_id,
            "Internal: she is a VIP",
            now=b(3, 23, 11),
            settings=settings,
        )
        ticket_messages.reply(
            session,
            desk.manager,
            ack.ticket_id,
            "We are sorry; a new vase is on its way.",
            now=b(3, 23, 12),
            settings=settings,
        )
        ticket_messages.reply(
            session,
            desk.manager,
            other.ticket_id,
            "Other ticket's reply",
            now=b(3, 23, 12),
            settings=settings,
        )
    view = status(desk, settings, ack.status_token, b(3, 23, 13))
    assert view.ticket_id == ack.ticket_id
    assert view.subject == "The parcel arrived broken"
    assert view.status == "in_progress"
    assert [(m.author, m.body) for m in view.messages] == [
        ("service", "We are sorry; a new vase is on its way.")
    ]
    assert view.promise.first_responded_at == b(3, 23, 12)
    assert view.promise.first_response_due is None  # met
    assert view.promise.resolution_due == b(3, 25, 10)
    assert view.can_reply


def test_unknown_expired_and_revoked_tokens_get_the_same_answer(
    desk: Desk, settings: Settings
) -> None:
    now = b(3, 23, 10)
    revoked = file(desk, settings, form(), now)
    expiring = file(desk, settings, form(subject="Second"), now)
    with desk.database.session() as session:
        assert public.revoke_status_links(session, desk.manager, revoked.ticket_id, now=now) == 1
    messages = set()
    for token, at in (
        (revoked.status_token, now + timedelta(minutes=1)),
        (expiring.status_token, now + timedelta(days=90)),
        ("A" * 43, now),
        ("not a token!", now),
        ("", now),
        (revoked.status_token[:-1], now),
    ):
        with pytest.raises(NotFoundError) as caught:
            status(desk, settings, token, at)
        messages.add(str(caught.value))
    assert messages == {public.LINK_NOT_FOUND}
    # a day before expiry it still works
    assert (
        status(desk, settings, expiring.status_token, now + timedelta(days=89)).subject == "Second"
    )


def test_revoking_is_for_staff_in_scope_and_audited(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))
    # Billing's agent does not see Front's ticket
    with desk.database.session() as session, pytest.raises(NotFoundError):
        public.revoke_status_links(session, desk.billing_agent, ack.ticket_id)
    with desk.database.session() as session:
        from kehu.errors import PermissionDeniedError

        with pytest.raises(PermissionDeniedError):
            public.revoke_status_links(session, desk.reader, ack.ticket_id)
    with desk.database.session() as session:
        assert public.revoke_status_links(session, desk.front_agent, ack.ticket_id) == 1
        assert public.revoke_status_links(session, desk.front_agent, ack.ticket_id) == 0
        token, _link = public.issue_status_link(
            session, desk.front_agent, ack.ticket_id, settings=settings
        )
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["ticket.status_links_revoked", "ticket.status_link_issued"]
    assert status(desk, settings, token, utc_soon()).ticket_id == ack.ticket_id


def utc_soon() -> datetime:
    return datetime.now(UTC) + timedelta(minutes=1)


def test_a_reply_through_the_link_resumes_the_clock(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))
    with desk.database.session() as session:
        ticket_messages.reply(
            session,
            desk.manager,
            ack.ticket_id,
            "Which order number was it?",
            wait_for_customer=True,
            now=b(3, 23, 11),
            settings=settings,
        )
    paused = status(desk, settings, ack.status_token, b(3, 23, 12))
    assert paused.status == "waiting_on_customer" and paused.promise.paused
    assert paused.promise.resolution_due is None
    with desk.database.session() as session:
        view = public.reply_with_token(
            session,
            ack.status_token,
            ReplyForm(body="Order 4711. " + SCRIPT),
            now=b(3, 23, 15),
            client_address=ADDRESS,
            settings=settings,
        )
    assert view.status == "in_progress" and not view.promise.paused
    assert [(m.author, m.body) for m in view.messages][-1] == ("customer", "Order 4711. " + SCRIPT)
    # 10-11 ran (1 h), 11-15 paused: 15 h of business time left from 15:00 Monday
    assert view.promise.resolution_due == b(3, 25, 14)
    with desk.database.session() as session:
        kinds = session.scalars(
            select(TicketEvent.kind)
            .where(TicketEvent.ticket_id == ack.ticket_id)
            .order_by(TicketEvent.id)
        ).all()
        assert kinds[-2:] == ["customer_replied", "resumed"]


def test_a_closed_ticket_refuses_replies(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))
    with desk.database.session() as session:
        ticket_commands.close(
            session, desk.manager, ack.ticket_id, now=b(3, 23, 11), settings=settings
        )
    view = status(desk, settings, ack.status_token, b(3, 23, 12))
    assert not view.can_reply
    with desk.database.session() as session, pytest.raises(ConflictError):
        public.reply_with_token(
            session,
            ack.status_token,
            ReplyForm(body="Hello?"),
            now=b(3, 23, 12),
            client_address=ADDRESS,
            settings=settings,
        )


def test_a_merged_ticket_link_follows_to_the_surviving_ticket(
    desk: Desk, settings: Settings
) -> None:
    first = file(desk, settings, form(), b(3, 23, 10))
    second = file(desk, settings, form(subject="Same matter again"), b(3, 23, 10, 30))
    with desk.database.session() as session:
        ticket_merge.merge_tickets(
            session,
            desk.manager,
            second.ticket_id,
            first.ticket_id,
            now=b(3, 23, 11),
            settings=settings,
        )
    assert status(desk, settings, second.status_token, b(3, 23, 12)).ticket_id == first.ticket_id


# -- floods and bots --------------------------------------------------------------------------


def test_complaints_are_rate_limited_per_email_and_per_address(
    desk: Desk, settings: Settings
) -> None:
    now = b(3, 23, 10)
    file(desk, settings, form(), now)
    file(desk, settings, form(email="ERIKA@example.com"), now + timedelta(minutes=1))
    with pytest.raises(RateLimitedError) as caught:
        file(desk, settings, form(), now + timedelta(minutes=2))
    assert caught.value.retry_after == 58 * 60  # the oldest hit leaves the window then
    file(desk, settings, form(email="someone@example.com"), now + timedelta(minutes=3))
    file(desk, settings, form(email="third@example.com"), now + timedelta(minutes=4))
    with pytest.raises(RateLimitedError):  # four from this address within the hour
        file(desk, settings, form(email="fourth@example.com"), now + timedelta(minutes=5))
    file(
        desk,
        settings,
        form(email="fourth@example.com"),
        now + timedelta(minutes=5),
        client_address="198.51.100.1",
    )
    # the window slides: an hour after the first, this address may file again
    file(desk, settings, form(email="fifth@example.com"), now + timedelta(minutes=61))
    with desk.database.session() as session:
        buckets = session.scalars(select(RateLimitHit.bucket)).all()
        assert not any("@" in bucket for bucket in buckets)  # emails only as digests


def test_replies_are_rate_limited_per_link(desk: Desk, settings: Settings) -> None:
    ack = file(desk, settings, form(), b(3, 23, 10))

    def send(minute: int) -> None:
        with desk.database.session() as session:
            public.reply_with_token(
                session,
                ack.status_token,
                ReplyForm(body=f"reply {minute}"),
                now=b(3, 23, 11, minute),
                client_address=f"192.0.2.{minute}",
                settings=settings,
            )

    for minute in range(3):
        send(minute)
    with pytest.raises(RateLimitedError):
        send(3)


def test_refused_attempts_count_too(desk: Desk, settings: Settings) -> None:
    now = b(3, 23, 10)
    for _ in range(4):
        public.record_refused_attempt(
            desk.database, "complaint", client_address=ADDRESS, now=now, settings=settings
        )
    with pytest.raises(RateLimitedError):
        file(desk, settings, form(), now + timedelta(seconds=1))


def test_a_filled_honeypot_is_refused(desk: Desk, settings: Settings) -> None:
    with pytest.raises(FormRefusedError) as caught:
        file(desk, settings, form(website="http://spam.example"), b(3, 23, 10))
    assert caught.value.refusal == "honeypot"
    with desk.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_the_signed_form_token_sets_a_minimum_fill_time(desk: Desk, settings: Settings) -> None:
    shown = b(3, 23, 10)
    token = public.issue_form_token(settings, shown, binding="cookie-1")

    def send(at: datetime, token: str | None = token, binding: str = "cookie-1") -> None:
        file(desk, settings, form(form_token=token), at, form_binding=binding)

    for at, sent, binding, reason in (
        (shown + timedelta(seconds=1), token, "cookie-1", "too_fast"),
        (shown + timedelta(hours=25), token, "cookie-1", "expired"),
        (shown + timedelta(seconds=30), token, "cookie-2", "invalid"),  # another browser
        (shown + timedelta(seconds=30), None, "cookie-1", "invalid"),
        (shown + timedelta(seconds=30), token.replace(".", "0."), "cookie-1", "invalid"),
    ):
        with pytest.raises(FormRefusedError) as caught:
            send(at, sent, binding)
        assert caught.value.refusal == reason
    send(shown + timedelta(seconds=30))


def test_the_secret_key_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "d")  # type: ignore[call-arg]
    first = signing_key(settings)
    assert len(first) >= 48
    assert (tmp_path / "d" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert signing_key(settings) == first
    assert signing_key(Settings(_env_file=None, data_dir=tmp_path / "e")) != first  # type: ignore[call-arg]


def test_principal_of_the_public_is_never_a_user() -> None:
    assert isinstance(SYSTEM, Principal) and SYSTEM.user_id is None

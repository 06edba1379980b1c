"""Customer use cases: create, edit with optimistic locking, tags, owner, contacts, memberships,
preferences and consent, permissions and scopes, the append-only event log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from customer_helpers import ADMIN, AGENT, NOBODY, READER
from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.auth.scoping import _SCOPES
from kehu.customers.schemas import (
    ContactIn,
    CustomerCreate,
    CustomerUpdate,
    PreferenceIn,
    parse,
)
from kehu.customers.service import (
    add_contact,
    add_membership,
    assign_owner,
    create_customer,
    edit_customer,
    get_customer,
    may_contact,
    remove_contact,
    remove_membership,
    set_contact_preference,
    tag_customer,
    untag_customer,
)
from kehu.customers.tables import Customer, CustomerEvent
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError
from staff_support import add_staff


def _events(session: Session, customer_id: int) -> list[str]:
    return list(
        session.scalars(
            select(CustomerEvent.kind)
            .where(CustomerEvent.customer_id == customer_id)
            .order_by(CustomerEvent.id)
        )
    )


def test_create_a_person_and_an_organisation(session: Session) -> None:
    person = create_customer(
        session,
        AGENT,
        CustomerCreate(
            family_name="张",
            given_name="伟",
            contacts=[
                ContactIn(type="email", value="Zhang.Wei@Example.com", is_primary=True),
                ContactIn(type="phone", value="+86 138-0013-8000"),
            ],
            tags=["VIP", " VIP "],
        ),
    )
    assert person.name == "张伟"
    assert person.kind == "person"
    assert person.version == 1
    assert person.external_id.startswith("K-")
    assert [c.type for c in person.contacts] == ["email", "phone"]
    assert person.tags == ["VIP"]
    organisation = create_customer(
        session, AGENT, CustomerCreate(kind="organisation", name="Acme Trading", external_id="O1")
    )
    assert organisation.external_id == "O1"
    western = create_customer(
        session, AGENT, CustomerCreate(given_name="Ada", family_name="Lovelace")
    )
    assert western.name == "Ada Lovelace"
    assert _events(session, person.id) == ["created"]


def test_create_refuses_bad_input_naming_the_field(session: Session) -> None:
    with pytest.raises(InputError) as missing:
        create_customer(session, AGENT, CustomerCreate(kind="organisation"))
    assert missing.value.column == "name"
    with pytest.raises(InputError) as email:
        parse(
            CustomerCreate, {"name": "A", "contacts": [{"type": "email", "value": "not an email"}]}
        )
    assert email.value.column == "contacts.0.value"
    assert "not an email" in str(email.value)
    with pytest.raises(InputError) as kind:
        parse(CustomerCreate, {"name": "A", "kind": "robot"})
    assert kind.value.column == "kind"
    create_customer(session, AGENT, CustomerCreate(name="A", external_id="X1"))
    with pytest.raises(ConflictError, match="X1"):
        create_customer(session, AGENT, CustomerCreate(name="B", external_id="X1"))


def test_edit_bumps_the_version_and_logs_before_and_after(session: Session) -> None:
    customer = create_customer(session, AGENT, CustomerCreate(name="李娜"))
    edited = edit_customer(
        session, AGENT, customer.id, CustomerUpdate(version=1, name="李娜娜", notes="prefers calls")
    )
    assert edited.version == 2
    assert edited.name == "李娜娜"
    event = session.scalars(select(CustomerEvent).where(CustomerEvent.kind == "edited")).one()
    assert event.data["before"] == {"name": "李娜", "notes": None}
    assert event.data["after"] == {"name": "李娜娜", "notes": "prefers calls"}
    assert event.actor_user_id == AGENT.user_id
    # nothing changed: no new version, no event
    same = edit_customer(session, AGENT, customer.id, CustomerUpdate(version=2, name="李娜娜"))
    assert same.version == 2


def test_a_stale_edit_is_a_conflict(session: Session) -> None:
    customer = create_customer(session, AGENT, CustomerCreate(name="王芳"))
    edit_customer(session, AGENT, customer.id, CustomerUpdate(version=1, notes="first"))
    with pytest.raises(ConflictError, match="changed by someone else since you loaded it"):
        edit_customer(session, ADMIN, customer.id, CustomerUpdate(version=1, notes="second"))
    assert get_customer(session, AGENT, customer.id).notes == "first"
    # any change counts, tagging included
    tag_customer(session, AGENT, customer.id, "投诉")
    with pytest.raises(ConflictError):
        edit_customer(session, AGENT, customer.id, CustomerUpdate(version=2, notes="third"))


def test_tags_and_owner(session: Session) -> None:
    customer = create_customer(session, AGENT, CustomerCreate(name="Bo"))
    tagged = tag_customer(session, AGENT, customer.id, "key account")
    again = tag_customer(session, AGENT, customer.id, "key account")
    assert tagged.tags == again.tags == ["key account"]
    assert again.version == tagged.version == 2
    untagged = untag_customer(session, AGENT, customer.id, "key account")
    assert untagged.tags == []
    assert untag_customer(session, AGENT, customer.id, "key account").version == untagged.version
    add_staff(session, 42, 43)
    owned = assign_owner(session, AGENT, customer.id, 42, version=untagged.version)
    assert owned.owner_user_id == 42
    with pytest.raises(ConflictError):
        assign_owner(session, AGENT, customer.id, 43, version=untagged.version)
    with pytest.raises(InputError) as blank:
        tag_customer(session, AGENT, customer.id, "  ")
    assert blank.value.column == "tag"
    assert _events(session, customer.id) == [
        "created",
        "tagged",
        "untagged",
        "owner_assigned",
    ]


def test_contacts_are_kept_once_and_removable(session: Session) -> None:
    customer = create_customer(session, AGENT, CustomerCreate(name="Cai"))
    add_contact(session, AGENT, customer.id, ContactIn(type="phone", value="138 0013 8000"))
    detail = add_contact(
        session, AGENT, customer.id, ContactIn(type="phone", value="+8613800138000")
    )
    assert len(detail.contacts) == 1
    assert detail.version == 2
    detail = remove_contact(session, AGENT, customer.id, detail.contacts[0].id)
    assert detail.contacts == []
    with pytest.raises(NotFoundError):
        remove_contact(session, AGENT, customer.id, 999)


def test_a_person_belongs_to_an_organisation_with_a_role(session: Session) -> None:
    person = create_customer(session, AGENT, CustomerCreate(name="赵敏"))
    organisation = create_customer(session, AGENT, CustomerCreate(kind="organisation", name="华为"))
    detail = add_membership(session, AGENT, person.id, organisation.id, "采购经理")
    assert [(m.organisation_name, m.role) for m in detail.memberships] == [("华为", "采购经理")]
    assert get_customer(session, AGENT, organisation.id).memberships[0].person_name == "赵敏"
    with pytest.raises(InputError):
        add_membership(session, AGENT, organisation.id, person.id)
    detail = remove_membership(session, AGENT, person.id, organisation.id)
    assert detail.memberships == []


def test_permissions(session: Session, person: Callable[..., int]) -> None:
    customer_id = person("Dai")
    with pytest.raises(PermissionDeniedError):
        get_customer(session, NOBODY, customer_id)
    with pytest.raises(PermissionDeniedError):
        create_customer(session, READER, CustomerCreate(name="E"))
    with pytest.raises(PermissionDeniedError):
        tag_customer(session, READER, customer_id, "x")
    assert get_customer(session, READER, customer_id).name == "Dai"


def test_out_of_scope_is_not_found_like_an_unknown_id(
    session: Session, person: Callable[..., int], monkeypatch: pytest.MonkeyPatch
) -> None:
    add_staff(session, AGENT.user_id, 99)  # type: ignore[arg-type]
    mine = person("Mine", owner_user_id=AGENT.user_id)
    theirs = person("Theirs", owner_user_id=99)
    monkeypatch.setitem(
        _SCOPES,
        Customer,
        lambda statement, principal: statement.where(Customer.owner_user_id == principal.user_id),
    )
    assert get_customer(session, AGENT, mine).name == "Mine"
    with pytest.raises(NotFoundError) as hidden:
        get_customer(session, AGENT, theirs)
    with pytest.raises(NotFoundError) as unknown:
        get_customer(session, AGENT, 123456)
    assert str(hidden.value) == f"customer {theirs} not found"
    assert str(unknown.value) == "customer 123456 not found"
    with pytest.raises(NotFoundError):
        tag_customer(session, AGENT, theirs, "x")


def test_may_contact_honours_consent_and_refusal(
    session: Session, person: Callable[..., int]
) -> None:
    customer_id = person("Fu", ("email", "fu@example.com"))
    # nothing recorded: service yes, marketing no
    assert may_contact(session, customer_id, "email", "service")
    assert not may_contact(session, customer_id, "email", "marketing")
    set_contact_preference(
        session, AGENT, customer_id, PreferenceIn(channel="email", consent="granted", source="form")
    )
    assert may_contact(session, customer_id, "email", "marketing")
    assert not may_contact(session, customer_id, "sms", "marketing")
    set_contact_preference(
        session,
        AGENT,
        customer_id,
        PreferenceIn(channel="email", consent="withdrawn", source="unsubscribe link"),
    )
    assert not may_contact(session, customer_id, "email", "marketing")
    assert may_contact(session, customer_id, "email", "service")
    set_contact_preference(
        session,
        AGENT,
        customer_id,
        PreferenceIn(channel="phone", preference="refused", source="call"),
    )
    assert not may_contact(session, customer_id, "phone", "service")
    set_contact_preference(
        session,
        AGENT,
        customer_id,
        PreferenceIn(channel="wechat", consent="granted", preference="refused", source="call"),
    )
    assert not may_contact(session, customer_id, "wechat", "marketing")
    detail = get_customer(session, AGENT, customer_id)
    assert {(p.channel, p.consent, p.preference, p.source) for p in detail.preferences} == {
        ("email", "withdrawn", "allowed", "unsubscribe link"),
        ("phone", "unknown", "refused", "call"),
        ("wechat", "granted", "refused", "call"),
    }
    with pytest.raises(InputError) as channel:
        may_contact(session, customer_id, "pigeon")
    assert channel.value.column == "channel"
    with pytest.raises(NotFoundError):
        may_contact(session, 987654, "email")
    assert _events(session, customer_id).count("preference_changed") == 4


def test_the_event_log_is_append_only(session: Session, person: Callable[..., int]) -> None:
    customer_id = person("Gao")
    event = session.scalars(
        select(CustomerEvent).where(CustomerEvent.customer_id == customer_id)
    ).one()
    event.kind = "edited"
    with pytest.raises(RuntimeError, match="append-only"):
        session.flush()

"""The personal-data registry (kehu.core.personal_data): every text, JSON and binary column of
every table is either registered as personal or declared not personal; registrations are
checked; each erase mode does what it says."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)
from sqlalchemy.orm import Session

import kehu.domains  # noqa: F401  (every domain's tables and registrations)
from kehu.core import personal_data
from kehu.core.personal_data import MARKER, PersonalDataRegistry, redact_strings, through
from kehu.store.base import Base

NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)


# --- every column of every table is accounted for -----------------------------------------------


def test_every_text_json_and_binary_column_is_accounted_for() -> None:
    missing = personal_data.unaccounted_columns(Base.metadata)
    assert missing == [], (
        "neither registered as personal (register_personal_fields) nor declared not personal "
        "(declare_not_personal), in the owning domain's registrations module: " + ", ".join(missing)
    )


def test_no_column_is_both_personal_and_not_personal() -> None:
    both = set(personal_data.personal_columns()) & set(personal_data.not_personal_columns())
    assert both == set()


def test_registrations_name_existing_tables_and_columns() -> None:
    tables = Base.metadata.tables
    for name in [*personal_data.personal_columns(), *personal_data.not_personal_columns()]:
        table, column = name.split(".")
        assert table in tables and column in tables[table].c, name


def test_the_registrations_cover_what_the_erasure_promises() -> None:
    personal = personal_data.personal_columns()
    for column in (
        "customers.name",
        "customers.notes",
        "customer_contacts.value",
        "customer_events.data",
        "customer_merges.steps",
        "tickets.subject",
        "tickets.description",
        "ticket_messages.body",
        "ticket_events.before",
        "ticket_events.after",
        "ticket_attachments.filename",
        "ticket_attachments.content",
        "outbox_messages.recipient",
        "outbox_messages.subject",
        "outbox_messages.body",
        "audit_events.before",
        "audit_events.after",
    ):
        assert column in personal, column
    names = [r.name for r in personal_data.registrations()]
    assert "audit:customer" in names and "audit:ticket" in names
    for reason in personal_data.not_personal_columns().values():
        assert reason.strip()


def test_the_platform_registry_imports_no_domain() -> None:
    source = personal_data.__file__
    with open(source, encoding="utf-8") as file:
        text = file.read()
    for domain in ("customers", "desk", "value", "ticket"):
        assert f"kehu.{domain}" not in text, domain


# --- a registry of its own, on tables of its own ------------------------------------------------

metadata = MetaData()
people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100)),
    Column("nick", String(5)),
    Column("notes", Text, nullable=False, default=""),
    Column("profile", JSON),
    Column("photo", LargeBinary),
    Column("code", String(10)),
)
cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer),
    Column("subject", String(200), nullable=False),
    Column("history", JSON, nullable=False),
    Column("version", Integer, nullable=False, default=1),
)
notes = Table(
    "case_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", ForeignKey("cases.id")),
    Column("body", Text, nullable=False),
)
phones = Table(
    "phones",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", Integer),
    Column("number", String(30), nullable=False),
)


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    with Session(engine) as session:
        session.execute(
            insert(people),
            [
                {
                    "id": 1,
                    "name": "王小明",
                    "notes": "likes tea",
                    "profile": {"city": "上海", "age": 40, "tags": ["vip"]},
                    "photo": b"\x89PNG",
                    "code": "A",
                },
                {
                    "id": 2,
                    "name": "Erika",
                    "notes": "",
                    "profile": {"city": "Köln"},
                    "photo": None,
                    "code": "B",
                },
            ],
        )
        session.execute(
            insert(cases),
            [
                {
                    "id": 10,
                    "customer_id": 1,
                    "subject": "Parcel for 王",
                    "history": {"status": "open", "said": "call me"},
                },
                {
                    "id": 20,
                    "customer_id": 2,
                    "subject": "Erika's",
                    "history": {"said": "hi"},
                },
            ],
        )
        session.execute(
            insert(notes),
            [
                {"id": 100, "case_id": 10, "body": "王 called"},
                {"id": 200, "case_id": 20, "body": "Erika called"},
            ],
        )
        session.execute(
            insert(phones),
            [
                {"id": 1, "customer_id": 1, "number": "138"},
                {"id": 2, "customer_id": 1, "number": "139"},
                {"id": 3, "customer_id": 2, "number": "0221"},
            ],
        )
        yield session
    engine.dispose()


def _row(session: Session, table: Table, key: int) -> dict[str, Any]:
    return dict(session.execute(select(table).where(table.c.id == key)).mappings().one())


def test_unknown_columns_tables_and_modes_are_refused() -> None:
    registry = PersonalDataRegistry()
    with pytest.raises(ValueError, match="no column 'nmae'"):
        registry.register_personal_fields(people, ["nmae"], customer_column="id")
    with pytest.raises(ValueError, match="no column 'client_id'"):
        registry.register_personal_fields(people, ["name"], customer_column="client_id")
    with pytest.raises(ValueError, match="no column 'customer_id'"):
        registry.register_personal_fields(people, ["name"])  # the default customer column
    with pytest.raises(ValueError, match="no column 'colour'"):
        registry.declare_not_personal(people, ["colour"], "a code")
    with pytest.raises(ValueError, match="NOT NULL"):
        registry.register_personal_fields(people, ["notes"], customer_column="id", erase="null")
    with pytest.raises(ValueError, match="too short"):
        registry.register_personal_fields(people, ["nick"], customer_column="id", erase="redact")
    with pytest.raises(ValueError, match="text and JSON"):
        registry.register_personal_fields(people, ["photo"], customer_column="id", erase="blank")
    with pytest.raises(ValueError, match="one of"):
        registry.register_personal_fields(
            people,
            ["name"],
            customer_column="id",
            erase="shred",  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="cannot be mixed"):
        registry.register_personal_fields(
            phones, ["number", "id"], erase={"number": "delete_row", "id": "null"}
        )
    with pytest.raises(ValueError, match="name each column once"):
        registry.register_personal_fields(people, ["name"], customer_column="id", erase={})
    with pytest.raises(TypeError, match="not both"):
        registry.register_personal_fields(
            people, ["name"], customer_column="id", rows=lambda ids: people.c.id.in_(ids)
        )
    with pytest.raises(ValueError, match="say why"):
        registry.declare_not_personal(people, ["code"], " ")
    with pytest.raises(TypeError):
        registry.register_personal_fields(object, ["name"])
    assert registry.registrations() == []


def test_a_second_registration_under_the_same_name_is_refused() -> None:
    registry = PersonalDataRegistry()
    first = registry.register_personal_fields(people, ["name"], customer_column="id")
    assert registry.register_personal_fields(people, ["name"], customer_column="id") == first
    with pytest.raises(ValueError, match="registered already"):
        registry.register_personal_fields(people, ["notes"], customer_column="id", erase="blank")
    registry.register_personal_fields(
        people, ["notes"], customer_column="id", erase="blank", name="people:notes"
    )
    registry.register_audit_entity("person", people, customer_column="id")
    with pytest.raises(ValueError, match="registered already"):
        registry.register_audit_entity("person", cases)
    assert [r.name for r in registry.registrations()] == ["people", "people:notes", "audit:person"]


def test_personal_and_not_personal_exclude_each_other() -> None:
    registry = PersonalDataRegistry()
    registry.register_personal_fields(people, ["name"], customer_column="id")
    with pytest.raises(ValueError, match="registered as personal"):
        registry.declare_not_personal(people, ["name"], "it is only a name")
    registry.declare_not_personal(people, ["code"], "a code")
    registry.declare_not_personal(people, ["code"], "a code")  # the same declaration again
    with pytest.raises(ValueError, match="declared not personal already"):
        registry.declare_not_personal(people, ["code"], "another reason")
    with pytest.raises(ValueError, match="declared not personal"):
        registry.register_personal_fields(people, ["code"], customer_column="id", name="codes")
    assert registry.unaccounted_columns(metadata) == [
        "case_notes.body",
        "cases.history",
        "cases.subject",
        "people.nick",
        "people.notes",
        "people.photo",
        "people.profile",
        "phones.number",
    ]


def test_each_erase_mode(session: Session) -> None:
    registry = PersonalDataRegistry()
    registry.register_personal_fields(
        people,
        ["name", "notes", "profile", "photo"],
        customer_column="id",
        erase={"name": "null", "notes": "redact", "profile": "blank", "photo": "null"},
    )
    registry.register_personal_fields(
        cases,
        ["subject", "history"],
        erase={"subject": "redact", "history": redact_strings(keep=("status",))},
        version_column="version",
    )
    registry.register_personal_fields(
        notes, ["body"], rows=through(notes.c.case_id, cases), erase="redact"
    )
    registry.register_personal_fields(phones, ["number"], erase="delete_row")
    registry.declare_not_personal(people, ["code", "nick"], "codes")
    assert registry.unaccounted_columns(metadata) == []

    counts = registry.erase(session, [1], now=NOW)
    assert counts == {"people": 1, "cases": 1, "case_notes": 1, "phones": 2}
    person = _row(session, people, 1)
    assert person["name"] is None and person["photo"] is None
    assert person["notes"] == MARKER and person["profile"] == {}
    assert person["code"] == "A"
    case = _row(session, cases, 10)
    assert case["subject"] == MARKER
    assert case["history"] == {"status": "open", "said": MARKER}
    assert case["version"] == 2  # an edit begun before the erasure is refused
    assert _row(session, cases, 20)["version"] == 1
    assert _row(session, notes, 100)["body"] == MARKER
    assert session.scalars(select(phones.c.id).order_by(phones.c.id)).all() == [3]
    # the other customer is left alone
    assert _row(session, people, 2)["name"] == "Erika"
    assert _row(session, cases, 20)["history"] == {"said": "hi"}
    assert _row(session, notes, 200)["body"] == "Erika called"

    again = registry.erase(session, [1], now=NOW)
    assert again["phones"] == 0 and _row(session, cases, 10)["subject"] == MARKER
    assert registry.erase(session, [], now=NOW) == dict.fromkeys(counts, 0)


def test_redact_keeps_empty_text_and_blank_keeps_null(session: Session) -> None:
    registry = PersonalDataRegistry()
    registry.register_personal_fields(
        people, ["notes", "name"], customer_column="id", erase={"notes": "redact", "name": "blank"}
    )
    session.execute(people.update().where(people.c.id == 2).values(name=None))
    registry.erase(session, [2], now=NOW)
    erika = _row(session, people, 2)
    assert erika["notes"] == "" and erika["name"] is None


def test_blank_reaches_rows_through_another_table(session: Session) -> None:
    registry = PersonalDataRegistry()
    registry.register_personal_fields(
        notes, ["body"], rows=through(notes.c.case_id, cases), erase="blank"
    )
    assert registry.erase(session, [1], now=NOW) == {"case_notes": 1}
    assert _row(session, notes, 100)["body"] == ""
    assert _row(session, notes, 200)["body"] == "Erika called"


def test_custom_erasers_run_and_count(session: Session) -> None:
    registry = PersonalDataRegistry()
    seen: list[tuple[list[int], datetime]] = []

    def erase_photos(_session: Session, ids: Any, now: datetime) -> int:
        seen.append((list(ids), now))
        return 7

    registry.register_personal_eraser("photos", erase_photos, covers={people: ["photo"]})
    assert "people.photo" in registry.personal_columns()
    assert registry.erase(session, [2, 1, 2], now=NOW) == {"photos": 7}
    assert seen == [([1, 2], NOW)]


def test_a_row_copy_is_erased_as_its_table_says() -> None:
    registry = PersonalDataRegistry()
    registry.register_personal_fields(
        cases, ["subject", "history"], erase={"subject": "redact", "history": "redact"}
    )
    registry.register_personal_fields(phones, ["number"], erase="delete_row")
    copy = registry.erase_row_copy(
        "cases", {"id": 10, "customer_id": 1, "subject": "王", "history": {"a": "b", "n": 1}}
    )
    assert copy == {"id": 10, "customer_id": 1, "subject": MARKER, "history": {"a": MARKER, "n": 1}}
    assert registry.erase_row_copy(phones, {"id": 1, "number": "138"}) is None
    assert registry.erase_row_copy("tags", {"name": "vip"}) == {"name": "vip"}

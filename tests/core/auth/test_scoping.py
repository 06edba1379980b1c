"""The one row-scoping layer (kehu.core.auth.scoping): ``scoped`` requires the entity's read
permission, refuses an entity nobody registered, and narrows rows as the registered function
says. On a small table of the test's own (``parcels``), created for the test and dropped after
it, and on the desk's ticket scope."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import kehu.domains  # noqa: F401  (every domain's registrations, as in production)
from kehu.core.auth import SYSTEM, Principal, register_scope, scoped, scoping
from kehu.core.auth import permissions as permission_registry
from kehu.core.auth.permissions import register_permissions
from kehu.desk.tables import Ticket
from kehu.errors import PermissionDeniedError
from kehu.store.db import Database


class _TestBase(DeclarativeBase):
    """Not kehu's Base: the table is no part of kehu's schema or migrations."""


class Parcel(_TestBase):
    __tablename__ = "scoping_test_parcels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(20))


class Unregistered(_TestBase):
    __tablename__ = "scoping_test_unregistered"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def own_teams(statement: scoping.AnySelect, principal: Principal) -> scoping.AnySelect:
    if principal.is_system or principal.can("parcels:all_teams"):
        return statement
    return statement.where(Parcel.team_id.in_(sorted(principal.team_ids)))


@pytest.fixture(autouse=True)
def registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies of the permission and scope registries: what a test registers goes with it."""
    monkeypatch.setattr(permission_registry, "_PERMISSIONS", dict(permission_registry._PERMISSIONS))
    monkeypatch.setattr(
        permission_registry,
        "_GRANTS",
        {role: set(granted) for role, granted in permission_registry._GRANTS.items()},
    )
    monkeypatch.setattr(scoping, "_READ_PERMISSION", dict(scoping._READ_PERMISSION))
    monkeypatch.setattr(scoping, "_SCOPES", dict(scoping._SCOPES))
    register_permissions(
        "parcels",
        {"parcels:read": "see parcels", "parcels:all_teams": "see every team's parcels"},
        grants={
            "manager": ["parcels:read", "parcels:all_teams"],
            "agent": ["parcels:read"],
        },
    )


@pytest.fixture
def parcels(database: Database) -> Iterator[Database]:
    """The store with the test's own table: parcels 1-2 of team 1, 3 of team 2, 4 of team 3."""
    _TestBase.metadata.create_all(database.engine, tables=[Parcel.__table__])
    try:
        with database.session() as session:
            session.add_all(
                [
                    Parcel(id=1, team_id=1, label="a"),
                    Parcel(id=2, team_id=1, label="b"),
                    Parcel(id=3, team_id=2, label="c"),
                    Parcel(id=4, team_id=3, label="d"),
                ]
            )
        yield database
    finally:
        # dropped, so that the PostgreSQL template's schema is kehu's again for the next test
        _TestBase.metadata.drop_all(database.engine, tables=[Parcel.__table__])


def visible(database: Database, principal: Principal, statement: scoping.AnySelect) -> list[int]:
    with database.session(read_only=True) as session:
        return list(session.scalars(scoped(statement, principal, Parcel)))


def agent() -> Principal:
    """An agent of teams 1 and 3, built after the fixture granted agents ``parcels:read`` (a
    principal holds what its roles held when it was built)."""
    return Principal.for_user(5, ["agent"], [1, 3])


def test_rows_are_narrowed_to_the_principals_teams(parcels: Database) -> None:
    register_scope(Parcel, "parcels:read", own_teams)
    ids = select(Parcel.id).order_by(Parcel.id)
    manager = Principal.for_user(6, ["manager"], [1])
    assert visible(parcels, agent(), ids) == [1, 2, 4]
    assert visible(parcels, Principal.for_user(7, ["agent"], [2]), ids) == [3]
    assert visible(parcels, Principal.for_user(8, ["agent"]), ids) == []  # no team, no rows
    assert visible(parcels, manager, ids) == [1, 2, 3, 4]  # parcels:all_teams
    assert visible(parcels, SYSTEM, ids) == [1, 2, 3, 4]


def test_the_narrowing_keeps_the_statements_own_conditions(parcels: Database) -> None:
    register_scope(Parcel, "parcels:read", own_teams)
    labelled = select(Parcel.id).where(Parcel.label != "a").order_by(Parcel.id.desc())
    assert visible(parcels, agent(), labelled) == [4, 2]


def test_an_entity_registered_without_a_function_shows_every_row(parcels: Database) -> None:
    register_scope(Parcel, "parcels:read")
    assert visible(parcels, agent(), select(Parcel.id).order_by(Parcel.id)) == [1, 2, 3, 4]


def test_registering_again_replaces_the_scope_and_its_permission(parcels: Database) -> None:
    register_scope(Parcel, "parcels:read")
    register_scope(Parcel, "parcels:all_teams", own_teams)
    manager = Principal.for_user(6, ["manager"], [1])
    assert visible(parcels, manager, select(Parcel.id).order_by(Parcel.id)) == [1, 2, 3, 4]
    with pytest.raises(PermissionDeniedError, match="'parcels:all_teams'"):
        visible(parcels, agent(), select(Parcel.id))


def test_scoped_requires_the_read_permission() -> None:
    register_scope(Parcel, "parcels:read", own_teams)
    reader = Principal.for_user(9, ["read_only"], [1])  # read_only was granted nothing here
    with pytest.raises(PermissionDeniedError, match="'parcels:read'"):
        scoped(select(Parcel), reader, Parcel)
    token = agent().with_scopes(["tickets:read"], token_id=1)  # a token without the scope
    with pytest.raises(PermissionDeniedError, match="'parcels:read'"):
        scoped(select(Parcel), token, Parcel)
    scoped(select(Parcel), agent().with_scopes(["parcels:read"], token_id=2), Parcel)


def test_an_unregistered_entity_is_a_lookup_error_for_everyone() -> None:
    """Checked before the permission: a forgotten registration is a programming error, not a
    refusal that would look like a rights problem."""
    nobody = Principal.for_user(9, ["read_only"]).with_scopes([])
    for principal in (SYSTEM, agent(), nobody):
        with pytest.raises(LookupError, match="Unregistered has no registered scope"):
            scoped(select(Unregistered), principal, Unregistered)


def test_the_ticket_scope_needs_tickets_read_and_narrows_by_team() -> None:
    statement = select(Ticket.id)
    with pytest.raises(PermissionDeniedError, match="'tickets:read'"):
        scoped(statement, agent().with_scopes(["customers:read"]), Ticket)
    narrowed = scoped(statement, Principal.for_user(5, ["agent"], [3, 1]), Ticket)
    compiled = narrowed.compile(compile_kwargs={"literal_binds": True})
    assert "tickets.team_id IN (1, 3)" in str(compiled)
    manager = Principal.for_user(6, ["manager"], [1])  # tickets:all_teams
    assert scoped(statement, manager, Ticket).whereclause is None

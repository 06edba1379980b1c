"""Users, passwords and the ``kehu user`` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kehu.cli import _register, app
from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings, get_settings
from kehu.core.users import service as users
from kehu.core.users.tables import User
from kehu.errors import ConflictError, InputError, PermissionDeniedError
from kehu.store.db import Database

SETTINGS = Settings()


def test_passwords_are_argon2_hashes(database: Database) -> None:
    with database.session() as session:
        user = users.create_user(
            session,
            SYSTEM,
            email="A@Example.com",
            display_name="A",
            role="agent",
            password="long enough password",
            settings=SETTINGS,
        )
        assert user.email == "a@example.com"
        assert user.password_hash.startswith("$argon2id$")
        assert "long enough password" not in user.password_hash
        assert users.verify_password(user.password_hash, "long enough password")
        assert not users.verify_password(user.password_hash, "wrong")
        assert not users.verify_password("not a hash", "wrong")


def test_create_user_checks_its_input(database: Database) -> None:
    with database.session() as session:

        def create(**changes: str) -> User:
            fields = {
                "email": "b@example.com",
                "display_name": "B",
                "role": "agent",
                "password": "long enough password",
            } | changes
            return users.create_user(session, SYSTEM, settings=SETTINGS, **fields)

        create()
        with pytest.raises(ConflictError):
            create(email="B@example.com")
        for field, value in (
            ("email", "nope"),
            ("role", "boss"),
            ("password", "short"),
            ("locale", "fr"),
            ("display_name", " "),
        ):
            with pytest.raises(InputError) as raised:
                create(**({"email": "c@example.com"} | {field: value}))
            assert raised.value.column == field


def test_only_administrators_create_users(database: Database) -> None:
    manager = Principal.for_user(1, ["manager"])
    with database.session() as session, pytest.raises(PermissionDeniedError):
        users.create_user(
            session,
            manager,
            email="d@example.com",
            display_name="D",
            role="agent",
            password="long enough password",
            settings=SETTINGS,
        )


def test_team_membership_comes_from_the_service_desk(database: Database) -> None:
    from kehu.store.base import Base

    table = Base.metadata.tables.get("team_members")
    with database.session() as session:
        user = users.create_user(
            session,
            SYSTEM,
            email="t@example.com",
            display_name="T",
            role="agent",
            password="long enough password",
            settings=SETTINGS,
        )
        if table is None:
            assert users.principal_for(session, user).team_ids == frozenset()
            return
        teams = Base.metadata.tables["teams"]
        team_columns = {column.name for column in teams.columns}
        assert "name" in team_columns
        session.execute(teams.insert().values(id=41, name="Complaints"))
        session.execute(table.insert().values(team_id=41, user_id=user.id))
        assert users.principal_for(session, user).team_ids == frozenset({41})


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    database = Database(url)
    database.upgrade()
    import kehu.domains  # noqa: F401  (every domain's tables and registrations)
    from kehu.store.base import Base

    Base.metadata.create_all(database.engine, checkfirst=True)
    monkeypatch.setenv("KEHU_DATABASE_URL", url)
    get_settings.cache_clear()
    yield database
    get_settings.cache_clear()
    database.dispose()


def test_kehu_user_create_admin(cli_store: Database) -> None:
    _register([])
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "user",
            "create",
            "--admin",
            "--email",
            "root@example.com",
            "--name",
            "Root",
            "--password-stdin",
        ],
        input="a long admin password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created admin root@example.com" in result.output
    prompted = runner.invoke(
        app,
        ["user", "create", "--email", "agent@example.com", "--name", "Agent", "--role", "agent"],
        input="another long password\nanother long password\n",
    )
    assert prompted.exit_code == 0, prompted.output
    with cli_store.session() as session:
        roles = dict(session.execute(select(User.email, User.role)).all())
    assert roles == {"root@example.com": "admin", "agent@example.com": "agent"}
    listed = runner.invoke(app, ["user", "list"])
    assert "root@example.com" in listed.output
    off = runner.invoke(app, ["user", "deactivate", "agent@example.com"])
    assert off.exit_code == 0, off.output
    with cli_store.session() as session:
        agent = users.get_user_by_email(session, "agent@example.com")
        assert agent is not None and not agent.is_active


def test_display_names_of_staff_for_the_pages(database: Database) -> None:
    from kehu.core.users.directory import display_names

    with database.session() as session:
        made = {
            name: users.create_user(
                session,
                SYSTEM,
                email=f"{email}@example.com",
                display_name=name,
                role="agent",
                password="long enough password",
                settings=SETTINGS,
            ).id
            for email, name in (("wang", "王经理"), ("smith", "Agent Smith"), ("li", "李客服"))
        }
        users.deactivate_user(session, SYSTEM, made["李客服"])
        unknown = max(made.values()) + 100
        asked = [made["王经理"], made["李客服"], unknown, None, made["王经理"]]
        # a deactivated colleague keeps their name beside their work; unknown ids are left out
        assert display_names(session, asked) == {made["王经理"]: "王经理", made["李客服"]: "李客服"}
        assert display_names(session, []) == {} and display_names(session, [None]) == {}

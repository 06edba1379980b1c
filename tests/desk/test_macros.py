"""Canned replies (kehu.desk.macros): placeholders checked when saved (an unknown one named),
filled in for a ticket in the customer's language (else the other one), scoped by team, and
managed only with ``macros:write``."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from desk import Desk, b
from kehu.core.auth import Principal
from kehu.desk import macros
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError


def test_placeholders_are_found_filled_and_escaped() -> None:
    body = "Dear {customer_name}, {{literal}} #{ticket_number} {nope} {nope} {Team_Name}"
    assert macros.unknown_placeholders(body) == ["nope", "Team_Name"]
    assert macros.unknown_placeholders("{{customer_name}}") == []
    filled = macros.fill_placeholders(
        "Dear {customer_name}, #{ticket_number} {{x}} {agent_name}",
        {"customer_name": "王小明", "ticket_number": "7"},
    )
    assert filled == "Dear 王小明, #7 {x} "


def test_an_unknown_placeholder_is_refused_naming_it(desk: Desk) -> None:
    with desk.database.session() as session:
        with pytest.raises(InputError) as refused:
            macros.create_macro(
                session, desk.manager, name="Hi", body_zh="您好 {customer_name}，{order_id}"
            )
        assert refused.value.column == "body_zh" and refused.value.value == "order_id"
        assert "{order_id}" in str(refused.value)
        with pytest.raises(InputError) as empty:
            macros.create_macro(session, desk.manager, name="Hi", body_en=" ", body_zh="")
        assert empty.value.column == "body_en"
        with pytest.raises(InputError) as nameless:
            macros.create_macro(session, desk.manager, name=" ", body_en="x")
        assert nameless.value.column == "name"
        with pytest.raises(InputError) as team:
            macros.create_macro(session, desk.manager, name="Hi", team_id=999, body_en="x")
        assert team.value.column == "team_id"
        count = session.scalar(text("SELECT count(*) FROM macros"))
        assert count == 0


def test_only_managers_manage_macros_and_agents_see_their_teams(desk: Desk) -> None:
    with desk.database.session() as session:
        with pytest.raises(PermissionDeniedError):
            macros.create_macro(session, desk.front_agent, name="Hi", body_en="Hello")
        everyone = macros.create_macro(session, desk.manager, name="Thanks", body_en="Thank you")
        front = macros.create_macro(
            session, desk.manager, name="Front hello", team_id=desk.front, body_en="Hello"
        )
        billing = macros.create_macro(
            session, desk.manager, name="Refund", team_id=desk.billing, body_zh="退款已处理"
        )
        with pytest.raises(ConflictError):
            macros.create_macro(
                session, desk.manager, name="Refund", team_id=desk.billing, body_en="x"
            )
        seen = [m.id for m in macros.list_macros(session, desk.front_agent)]
        assert seen == [front.id, everyone.id]
        assert len(macros.list_macros(session, desk.manager)) == 3
        with pytest.raises(NotFoundError):
            macros.get_macro(session, desk.front_agent, billing.id)
        with pytest.raises(PermissionDeniedError):
            macros.delete_macro(session, desk.front_agent, front.id)


def test_update_checks_the_version_and_delete_removes(desk: Desk) -> None:
    with desk.database.session() as session:
        macro = macros.create_macro(session, desk.manager, name="Hi", body_en="Hello")
        version = macro.version
        macros.update_macro(
            session,
            desk.manager,
            macro.id,
            name="Hello",
            body_en="Hello {customer_name}",
            body_zh="您好",
            expected_version=version,
        )
        assert macro.version == version + 1 and macro.body_zh == "您好"
        with pytest.raises(ConflictError):
            macros.update_macro(
                session, desk.manager, macro.id, name="x", body_en="y", expected_version=version
            )
        with pytest.raises(InputError) as refused:
            macros.update_macro(session, desk.manager, macro.id, name="x", body_en="{due}")
        assert refused.value.value == "due"
        macros.delete_macro(session, desk.manager, macro.id, expected_version=version + 1)
        assert macros.list_macros(session, desk.manager) == []


def test_a_macro_is_filled_in_for_a_ticket_in_the_customers_language(desk: Desk) -> None:
    ticket_id = desk.new_ticket(b(3, 20, 10))
    agent = Principal.for_user(10, ["agent"], [desk.front], display_name="Anna")
    with desk.database.session() as session:
        both = macros.create_macro(
            session,
            desk.manager,
            name="Apology",
            team_id=desk.front,
            body_en="Dear {customer_name}, about #{ticket_number} ({team_name}): {agent_name}",
            body_zh="{customer_name}您好，工单 #{ticket_number}，{promise_due}前答复。{agent_name}",
        )
        english_only = macros.create_macro(
            session, desk.manager, name="English", body_en="Hi {customer_name}"
        )
        billing = macros.create_macro(
            session, desk.manager, name="Billing", team_id=desk.billing, body_en="x"
        )
        offered = [m.id for m in macros.macros_for_ticket(session, desk.manager, ticket_id)]
        assert offered == [both.id, english_only.id]  # not the other team's
        session.execute(
            text("UPDATE customers SET preferred_language = 'zh-CN' WHERE id = :id"),
            {"id": desk.customer},
        )
        chinese = macros.render_for_ticket(
            session, agent, both.id, ticket_id, settings=desk.settings
        )
        assert chinese.language == "zh-Hans"
        assert chinese.text.startswith(f"王小明您好，工单 #{ticket_id}，2026年3月20日")
        assert chinese.text.endswith("前答复。Anna")
        fallback = macros.render_for_ticket(
            session, agent, english_only.id, ticket_id, settings=desk.settings
        )
        assert (fallback.language, fallback.text) == ("en", "Hi 王小明")
        session.execute(
            text("UPDATE customers SET preferred_language = NULL WHERE id = :id"),
            {"id": desk.customer},
        )
        english = macros.render_for_ticket(
            session, agent, both.id, ticket_id, settings=desk.settings, default_language="en"
        )
        assert english.text == f"Dear 王小明, about #{ticket_id} (Front): Anna"
        with pytest.raises(NotFoundError):
            macros.render_for_ticket(
                session, desk.manager, billing.id, ticket_id, settings=desk.settings
            )

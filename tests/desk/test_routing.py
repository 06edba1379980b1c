"""Teams, the category tree and the routing rules (kehu.desk.routing): which rule routes a
ticket (position, then id; active ones; every condition; a category rule covers its
sub-categories), what a rule, a category and a team may be, and which teams a queue offers.
The desk of ``desk.py``: rules "billing" (position 1, category Billing) and "rest" (position 9)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from desk import Desk, b
from kehu.core.audit.tables import AuditEvent
from kehu.core.auth import SYSTEM
from kehu.desk import routing
from kehu.desk.routing import RoutingInput
from kehu.errors import ConflictError, InputError, NotFoundError, PermissionDeniedError


def routed(desk: Desk, **fields: object) -> int | None:
    """The team :func:`routing.route` gives a ticket (a normal e-mail complaint unless told)."""
    values: dict[str, object] = {
        "kind": "complaint",
        "channel": "email",
        "priority": "normal",
        "category_id": None,
        "value_tier": None,
        **fields,
    }
    with desk.database.session() as session:
        return routing.route(session, RoutingInput(**values))  # type: ignore[arg-type]


def add_rule(desk: Desk, name: str, team_id: int, **conditions: object) -> int:
    with desk.database.session() as session:
        return routing.create_routing_rule(
            session,
            SYSTEM,
            name=name,
            team_id=team_id,
            **conditions,  # type: ignore[arg-type]
        ).id


def set_active(desk: Desk, rule_id: int, active: bool) -> None:
    with desk.database.session() as session:
        routing.set_routing_rule_active(session, SYSTEM, rule_id, active)


def rule_id(desk: Desk, name: str) -> int:
    with desk.database.session() as session:
        return next(r.id for r in routing.list_routing_rules(session) if r.name == name)


# -- routing a new ticket ---------------------------------------------------------------------


def test_unrouted_ticket_goes_to_front(desk: Desk) -> None:
    ticket = desk.ticket(desk.new_ticket(b(3, 20, 10), category_id=desk.delivery_category))
    assert ticket.team_id == desk.front


def test_routing_rule_order_and_conditions(desk: Desk) -> None:
    with desk.database.session() as session:
        routing.create_routing_rule(
            session,
            SYSTEM,
            name="phone complaints",
            team_id=desk.billing,
            position=0,
            kinds=["complaint"],
            channels=["phone"],
        )
    assert desk.ticket(desk.new_ticket(b(3, 20, 10), channel="phone")).team_id == desk.billing
    assert desk.ticket(desk.new_ticket(b(3, 20, 10), channel="chat")).team_id == desk.front
    assert (
        desk.ticket(desk.new_ticket(b(3, 20, 10), channel="chat", kind="inquiry")).team_id
        == desk.front
    )


def test_explicit_team_overrides_routing(desk: Desk) -> None:
    ticket_id = desk.new_ticket(b(3, 20, 10), team_id=desk.billing)
    assert desk.ticket(ticket_id).team_id == desk.billing


def test_the_queue_offers_the_teams_the_ticket_scope_shows(desk: Desk) -> None:
    with desk.database.session() as session:
        every = routing.team_names(session)
        assert routing.ticket_teams(session, desk.manager) == every  # tickets:all_teams
        assert set(routing.ticket_teams(session, desk.front_agent)) == {desk.front}
        assert set(routing.ticket_teams(session, desk.reader)) == {desk.front}
        customers_only = desk.manager.with_scopes(["customers:read"])  # a token's scopes
        with pytest.raises(PermissionDeniedError):
            routing.ticket_teams(session, customers_only)


# -- which rule routes ------------------------------------------------------------------------


def test_a_lower_position_wins_over_an_earlier_rule(desk: Desk) -> None:
    # "billing" (position 1) was made first; a rule at position 0 made later is tried before it
    add_rule(desk, "refunds to front", desk.front, position=0, category_ids=[desk.refund_category])
    assert routed(desk, category_id=desk.refund_category) == desk.front
    assert routed(desk, category_id=desk.billing_category) == desk.billing


def test_at_the_same_position_the_earlier_rule_wins(desk: Desk) -> None:
    first = add_rule(desk, "phone to billing", desk.billing, position=5, channels=["phone"])
    add_rule(desk, "phone to front", desk.front, position=5, channels=["phone"])
    assert routed(desk, channel="phone") == desk.billing
    with desk.database.session() as session:
        order = [r.name for r in routing.list_routing_rules(session)]
    assert order == ["billing", "phone to billing", "phone to front", "rest"]
    set_active(desk, first, False)
    assert routed(desk, channel="phone") == desk.front


def test_an_inactive_rule_is_passed_over_until_switched_on(desk: Desk) -> None:
    billing = rule_id(desk, "billing")
    set_active(desk, billing, False)
    assert routed(desk, category_id=desk.refund_category) == desk.front  # "rest"
    set_active(desk, billing, True)
    assert routed(desk, category_id=desk.refund_category) == desk.billing


def test_no_rule_matching_leaves_the_ticket_without_a_team(desk: Desk) -> None:
    set_active(desk, rule_id(desk, "rest"), False)
    assert routed(desk, category_id=desk.delivery_category) is None
    assert routed(desk) is None
    ticket = desk.ticket(desk.new_ticket(b(3, 20, 10), category_id=desk.delivery_category))
    assert ticket.team_id is None


def test_every_condition_of_a_rule_must_hold(desk: Desk) -> None:
    add_rule(
        desk,
        "urgent phone inquiries",
        desk.billing,
        position=0,
        kinds=["inquiry"],
        channels=["phone", "chat"],
        priorities=["urgent", "high"],
    )
    match = {"kind": "inquiry", "channel": "chat", "priority": "urgent"}
    assert routed(desk, **match) == desk.billing
    assert routed(desk, **{**match, "channel": "email"}) == desk.front
    assert routed(desk, **{**match, "kind": "complaint"}) == desk.front
    assert routed(desk, **{**match, "priority": "normal"}) == desk.front


def test_a_category_rule_covers_the_categorys_descendants_only(desk: Desk) -> None:
    with desk.database.session() as session:
        partial = routing.create_category(session, SYSTEM, "Partial", desk.refund_category).id
    add_rule(desk, "refunds", desk.front, position=0, category_ids=[desk.refund_category])
    set_active(desk, rule_id(desk, "rest"), False)
    assert routed(desk, category_id=partial) == desk.front  # Billing > Refund > Partial
    assert routed(desk, category_id=desk.refund_category) == desk.front
    # the parent is not covered by a rule on its child: the "billing" rule takes it
    assert routed(desk, category_id=desk.billing_category) == desk.billing
    assert routed(desk, category_id=desk.delivery_category) is None


def test_a_customer_without_a_value_tier_matches_only_rules_without_one(desk: Desk) -> None:
    add_rule(desk, "valued", desk.billing, position=0, value_tiers=["high", "middle"])
    assert routed(desk, value_tier="middle") == desk.billing
    assert routed(desk, value_tier="low") == desk.front
    assert routed(desk, value_tier=None) == desk.front


# -- what a rule may be -----------------------------------------------------------------------


def test_a_rules_codes_are_checked_and_kept_sorted_once(desk: Desk) -> None:
    with desk.database.session() as session:
        rule = routing.create_routing_rule(
            session,
            SYSTEM,
            name="mixed",
            team_id=desk.front,
            channels=["phone", "chat", "phone"],
            category_ids=[desk.delivery_category, desk.refund_category, desk.delivery_category],
        )
        assert rule.channels == ["chat", "phone"]
        assert rule.category_ids == sorted({desk.delivery_category, desk.refund_category})
        assert (rule.kinds, rule.priorities, rule.value_tiers, rule.active) == ([], [], [], True)


@pytest.mark.parametrize(
    ("conditions", "column"),
    [
        ({"team_id": 999_999}, "team_id"),
        ({"category_ids": [999_999]}, "category_ids"),
        ({"kinds": ["rant"]}, "kinds"),
        ({"channels": ["pigeon"]}, "channels"),
        ({"priorities": ["panic"]}, "priorities"),
        ({"value_tiers": ["gold"]}, "value_tiers"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_field(
    desk: Desk, conditions: dict[str, object], column: str
) -> None:
    values = {"name": "bad", "team_id": desk.front, **conditions}
    with desk.database.session() as session, pytest.raises(InputError) as refused:
        routing.create_routing_rule(session, SYSTEM, **values)  # type: ignore[arg-type]
    assert refused.value.column == column


def test_rules_need_the_settings_permission(desk: Desk) -> None:
    with desk.database.session() as session:
        with pytest.raises(PermissionDeniedError, match="'settings:write'"):
            routing.create_routing_rule(session, desk.front_agent, name="mine", team_id=desk.front)
        with pytest.raises(PermissionDeniedError):
            routing.set_routing_rule_active(session, desk.front_agent, 1, False)
        with pytest.raises(NotFoundError):
            routing.set_routing_rule_active(session, SYSTEM, 999_999, False)


# -- the category tree ------------------------------------------------------------------------


def test_the_ancestry_and_path_of_a_category(desk: Desk) -> None:
    with desk.database.session() as session:
        partial = routing.create_category(session, SYSTEM, " Partial ", desk.refund_category)
        assert partial.name == "Partial"
        assert routing.category_ancestry(session, partial.id) == [
            partial.id,
            desk.refund_category,
            desk.billing_category,
        ]
        assert routing.category_ancestry(session, desk.delivery_category) == [
            desk.delivery_category
        ]
        assert routing.category_ancestry(session, None) == []
        assert routing.category_path(session, partial.id) == "Billing > Refund > Partial"
        assert routing.category_path(session, None) == ""
        assert [c.name for c in routing.list_categories(session)] == [
            "Billing",
            "Refund",
            "Delivery",
            "Partial",
        ]


def test_a_name_is_unique_among_its_siblings_only(desk: Desk) -> None:
    with desk.database.session() as session:
        # "Refund" under Delivery and at the root: other places in the tree
        routing.create_category(session, SYSTEM, "Refund", desk.delivery_category)
        routing.create_category(session, SYSTEM, "Refund")
        with pytest.raises(ConflictError, match="'Refund' exists already"):
            routing.create_category(session, SYSTEM, "Refund", desk.billing_category)
        with pytest.raises(ConflictError):
            routing.create_category(session, SYSTEM, "Delivery")


def test_a_bad_category_is_refused_naming_the_field(desk: Desk) -> None:
    with desk.database.session() as session:
        with pytest.raises(InputError) as unnamed:
            routing.create_category(session, SYSTEM, "  ")
        assert unnamed.value.column == "name"
        with pytest.raises(InputError) as orphan:
            routing.create_category(session, SYSTEM, "Lost", 999_999)
        assert orphan.value.column == "parent_id"
        with pytest.raises(PermissionDeniedError):
            routing.create_category(session, desk.manager.with_scopes([]), "Mine")


# -- teams ------------------------------------------------------------------------------------


def test_teams_and_their_members(desk: Desk) -> None:
    with desk.database.session() as session:
        with pytest.raises(ConflictError):
            routing.create_team(session, SYSTEM, " Front ")  # stripped: the same name
        with pytest.raises(InputError) as unnamed:
            routing.create_team(session, SYSTEM, " ")
        assert unnamed.value.column == "name"
        assert list(routing.team_names(session).values()) == ["Billing", "Front"]  # by name
        routing.add_team_member(session, SYSTEM, desk.billing, 21)
        routing.add_team_member(session, SYSTEM, desk.billing, 21)  # once
        routing.add_team_member(session, SYSTEM, desk.front, 21)
        assert routing.team_member_ids(session, desk.billing) == [20, 21]
        assert routing.team_ids_of(session, 21) == {desk.front, desk.billing}
        routing.remove_team_member(session, SYSTEM, desk.billing, 21)
        routing.remove_team_member(session, SYSTEM, desk.billing, 21)  # nothing to remove
        assert routing.team_member_ids(session, desk.billing) == [20]
        assert routing.team_ids_of(session, 21) == {desk.front}
        with pytest.raises(NotFoundError):
            routing.add_team_member(session, SYSTEM, 999_999, 21)


def test_switching_a_rule_on_or_off_is_audited_once(desk: Desk) -> None:
    rule = add_rule(desk, "audited", desk.front)
    set_active(desk, rule, False)
    set_active(desk, rule, False)  # no change, no second entry
    set_active(desk, rule, True)
    with desk.database.session() as session:
        escalation = routing.create_escalation_rule(
            session, SYSTEM, name="notify lead", action="notify", notify_email="lead@example.com"
        )
        routing.set_escalation_rule_active(session, SYSTEM, escalation.id, False)
    with desk.database.session() as session:
        actions = list(
            session.execute(
                select(AuditEvent.action, AuditEvent.after)
                .where(AuditEvent.action.like("%_rule.%activated"))
                .order_by(AuditEvent.seq)
            )
        )
    assert [tuple(row) for row in actions] == [
        ("routing_rule.deactivated", {"active": False}),
        ("routing_rule.activated", {"active": True}),
        ("escalation_rule.deactivated", {"active": False}),
    ]

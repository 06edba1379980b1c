"""Similar tickets (kehu.desk.similar): which tickets are candidates (same customer, or a
category of the same tree; open, or resolved or closed lately; not merged away; in the caller's
scope), how they are ranked, and the bounds of the request. tests/api/test_tickets_api.py and
tests/api/test_scopes_api.py check the same through the API."""

from __future__ import annotations

from datetime import datetime

import pytest

from desk import Desk, b
from kehu.core.auth import Principal
from kehu.desk import ticket_commands, ticket_merge
from kehu.desk.similar import MAX_LIMIT, WEIGHTS, similar_tickets
from kehu.errors import InputError, NotFoundError

NOW = b(3, 27, 12)


def similar(
    desk: Desk, ticket_id: int, principal: Principal | None = None, **options: object
) -> list[tuple[int, float, tuple[str, ...]]]:
    with desk.database.session() as session:
        found = similar_tickets(
            session,
            principal or desk.manager,
            ticket_id,
            now=options.pop("now", NOW),  # type: ignore[arg-type]
            **options,  # type: ignore[arg-type]
        )
        return [(s.ticket.id, s.score, s.reasons) for s in found]


def resolve(desk: Desk, ticket_id: int, at: datetime) -> None:
    with desk.database.session() as session:
        ticket_commands.resolve(session, desk.manager, ticket_id, now=at, settings=desk.settings)


def test_the_same_matter_of_the_same_customer_ranks_first(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 23, 9), category_id=desk.refund_category)
    # the customer again on the same matter, within the repeat window: a repeat of base
    again = desk.new_ticket(b(3, 24, 9), category_id=desk.refund_category)
    others_refund = desk.new_ticket(
        b(3, 24, 10), category_id=desk.refund_category, customer_id=desk.other_customer
    )
    own_delivery = desk.new_ticket(b(3, 24, 11), category_id=desk.delivery_category, kind="inquiry")
    others_billing = desk.new_ticket(
        b(3, 24, 12), category_id=desk.billing_category, customer_id=desk.other_customer
    )
    desk.new_ticket(  # another customer, another tree: not similar
        b(3, 24, 13), category_id=desk.delivery_category, customer_id=desk.other_customer
    )
    assert desk.ticket(again).repeat_of_id == base
    assert similar(desk, base) == [
        (again, 6.75, ("same customer", "same category", "repeat", "same kind", "still open")),
        (own_delivery, 3.25, ("same customer", "still open")),
        (others_refund, 2.75, ("same category", "same kind", "still open")),
        (others_billing, 1.75, ("related category", "same kind", "still open")),
    ]
    # the repeat link counts both ways
    assert similar(desk, again)[0] == (
        base,
        6.75,
        ("same customer", "same category", "repeat", "same kind", "still open"),
    )
    assert WEIGHTS["same customer"] > WEIGHTS["same category"] > WEIGHTS["related category"]


def test_a_ticket_without_a_category_finds_its_customers_tickets_only(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 23, 9))
    own = desk.new_ticket(b(3, 23, 10), category_id=desk.delivery_category)
    desk.new_ticket(b(3, 23, 11), customer_id=desk.other_customer)
    desk.new_ticket(
        b(3, 23, 12), category_id=desk.delivery_category, customer_id=desk.other_customer
    )
    assert [t for t, _, _ in similar(desk, base)] == [own]


def test_equal_scores_are_newest_first_and_the_limit_cuts_after_ranking(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 23, 9), category_id=desk.delivery_category)
    older, newer = (
        desk.new_ticket(at, category_id=desk.delivery_category, customer_id=desk.other_customer)
        for at in (b(3, 23, 10), b(3, 23, 11))
    )
    best = desk.new_ticket(b(3, 20, 9), kind="inquiry")  # the customer's own: 3.25
    assert [t for t, _, _ in similar(desk, base)] == [best, newer, older]
    assert [t for t, _, _ in similar(desk, base, limit=2)] == [best, newer]


def test_resolved_and_closed_tickets_count_only_within_recent_days(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 26, 9), category_id=desk.refund_category)
    lately, long_ago, closed = (
        desk.new_ticket(at, category_id=desk.refund_category, customer_id=desk.other_customer)
        for at in (b(3, 2, 9), b(2, 2, 9), b(2, 3, 9))
    )
    resolve(desk, lately, b(3, 20, 12))  # a week before NOW
    resolve(desk, long_ago, b(2, 3, 9))
    resolve(desk, closed, b(2, 4, 9))
    with desk.database.session() as session:
        ticket_commands.close(
            session, desk.manager, closed, now=b(3, 25, 12), settings=desk.settings
        )
    found = {t: reasons for t, _, reasons in similar(desk, base)}
    assert set(found) == {lately, closed}  # resolved long ago, closed lately
    assert "still open" not in found[lately]
    assert {t for t, _, _ in similar(desk, base, recent_days=5)} == {closed}
    assert {t for t, _, _ in similar(desk, base, recent_days=7)} == {lately, closed}
    assert similar(desk, base, recent_days=0) == []


def test_a_ticket_merged_away_is_left_out(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 23, 9), category_id=desk.delivery_category)
    source = desk.new_ticket(b(3, 23, 10), category_id=desk.delivery_category)
    target = desk.new_ticket(b(3, 23, 11), category_id=desk.delivery_category)
    assert {t for t, _, _ in similar(desk, base)} == {source, target}
    with desk.database.session() as session:
        ticket_merge.merge_tickets(
            session, desk.manager, source, target, now=b(3, 23, 12), settings=desk.settings
        )
    assert [t for t, _, _ in similar(desk, base)] == [target]


def test_candidates_and_the_ticket_itself_are_in_the_callers_scope(desk: Desk) -> None:
    base = desk.new_ticket(b(3, 23, 9), team_id=desk.front)
    front = desk.new_ticket(b(3, 23, 10), team_id=desk.front)
    billing = desk.new_ticket(b(3, 23, 11), team_id=desk.billing)
    transferred = desk.new_ticket(b(3, 23, 12), team_id=desk.front)
    with desk.database.session() as session:
        ticket_commands.transfer(
            session,
            desk.manager,
            transferred,
            desk.billing,
            now=b(3, 23, 13),
            settings=desk.settings,
        )
    assert {t for t, _, _ in similar(desk, base)} == {front, billing, transferred}  # every team
    assert [t for t, _, _ in similar(desk, base, desk.front_agent)] == [front]
    assert [t for t, _, _ in similar(desk, base, desk.reader)] == [front]  # a reader of Front
    with pytest.raises(NotFoundError):
        similar(desk, billing, desk.front_agent)  # outside the scope: as if it did not exist
    with pytest.raises(NotFoundError):
        similar(desk, 999_999)


@pytest.mark.parametrize(
    ("options", "column"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"recent_days": -1}, "recent_days"),
    ],
)
def test_bounds_of_the_request(desk: Desk, options: dict[str, int], column: str) -> None:
    base = desk.new_ticket(b(3, 23, 9))
    with pytest.raises(InputError) as refused:
        similar(desk, base, **options)
    assert refused.value.column == column
    assert similar(desk, base, limit=MAX_LIMIT) == []

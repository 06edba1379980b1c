"""The desk's dashboard: nearest-rank percentiles, business-time response and resolution times,
the backlog by age, and every figure equal to the tickets listed behind it."""

from __future__ import annotations

from datetime import datetime

import pytest
from test_effort import work_the_desk

from desk import BERLIN, Desk, H, b
from kehu.core.auth import SYSTEM, Principal
from kehu.desk import ticket_commands, ticket_messages, ticket_queries
from kehu.desk.dashboard import (
    AGE_BUCKETS,
    NO_TEAM,
    desk_dashboard,
    figure_tickets,
    month_window,
    nearest_rank,
)
from kehu.desk.effort import effort_summary, kept_promise_rates
from kehu.errors import InputError

# -- percentiles -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [
        # rank ceil(p * n) of the sorted values, computed by hand
        (list(range(1, 11)), 0.5, 5),  # ceil(5.0) = 5
        (list(range(1, 11)), 0.9, 9),  # ceil(9.0) = 9 (linear would say 9.1)
        ([3, 1, 2], 0.5, 2),  # ceil(1.5) = 2
        ([3, 1, 2], 0.9, 3),  # ceil(2.7) = 3
        ([4, 1, 3, 2], 0.5, 2),  # the lower middle value (linear: 2.5)
        ([4, 1, 3, 2], 0.9, 4),  # ceil(3.6) = 4
        ([7], 0.5, 7),
        ([7], 0.9, 7),
        (list(range(20, 0, -1)), 0.9, 18),  # ceil(18.0) = 18
        (list(range(1, 12)), 0.9, 10),  # ceil(9.9) = 10
        ([10, 10, 30, 40, 50], 0.5, 30),
    ],
)
def test_nearest_rank_percentiles(values: list[int], fraction: float, expected: int) -> None:
    assert nearest_rank(values, fraction) == expected


def test_nearest_rank_of_nothing_and_of_a_bad_fraction() -> None:
    assert nearest_rank([], 0.5) is None
    with pytest.raises(ValueError, match="fraction"):
        nearest_rank([1], 0)


def test_a_month_window_is_the_local_months_first_instants() -> None:
    since, until = month_window("2026-03", "2026-04", "Europe/Berlin")
    assert since == b(3, 1) and until == b(5, 1)
    since, until = month_window("2026-12", "2026-12", "Europe/Berlin")
    assert since == b(12, 1) and until == datetime(2027, 1, 1, tzinfo=BERLIN)
    with pytest.raises(InputError, match="before"):
        month_window("2026-04", "2026-03", "Europe/Berlin")
    with pytest.raises(InputError, match="not a month"):
        month_window("2026-4", "2026-05", "Europe/Berlin")


# -- times in business time ----------------------------------------------------------------------


def test_times_are_the_business_time_the_promise_counts(desk: Desk) -> None:
    m = desk.manager
    # Friday 16:00, answered Monday 10:00: 66 hours on the clock, 2 office hours
    weekend = desk.new_ticket(b(3, 20, 16))
    # Tuesday 9:00, asked the customer at 10:00, who answered Wednesday 9:00; resolved 11:00:
    # 1 h to the reply, the wait does not count, 1 + 2 h to the resolution
    waiting = desk.new_ticket(b(3, 24, 9))
    with desk.database.session() as session:
        s = desk.settings
        ticket_messages.reply(session, m, weekend, "On it.", now=b(3, 23, 10), settings=s)
        ticket_commands.resolve(session, m, weekend, now=b(3, 23, 12), settings=s)
        ticket_messages.reply(
            session, m, waiting, "Which one?", wait_for_customer=True, now=b(3, 24, 10), settings=s
        )
        ticket_messages.add_customer_reply(
            session, SYSTEM, waiting, "The blue one.", now=b(3, 25, 9), settings=s
        )
        ticket_commands.resolve(session, m, waiting, now=b(3, 25, 11), settings=s)
        board = desk_dashboard(
            session, m, first_month="2026-03", last_month="2026-03", now=b(4, 1), settings=s
        )
    front = board.by_team_month[(desk.front, "2026-03")]
    assert sorted(front.first_response_times) == [1 * H, 2 * H]
    assert sorted(front.resolution_times) == [3 * H, 4 * H]
    assert front.first_response_median == 1 * H and front.first_response_p90 == 2 * H
    assert front.resolution_median == 3 * H and front.resolution_p90 == 4 * H
    assert front.kept_rate == 1.0 and front.promised == 2


# -- the backlog ---------------------------------------------------------------------------------


def test_the_backlog_by_age_and_what_is_overdue(desk: Desk) -> None:
    now = b(5, 4, 12)  # a Monday
    ages = [2 * H, 26 * H, 5 * 24 * H, 10 * 24 * H, 40 * 24 * H, 41 * 24 * H]
    ids = [desk.new_ticket(now - age) for age in ages]
    billing = desk.new_ticket(now - 2 * H, category_id=desk.billing_category)
    with desk.database.session() as session:
        ticket_commands.resolve(session, desk.manager, ids[-1], now=now - H, settings=desk.settings)
        board = desk_dashboard(
            session,
            desk.manager,
            first_month="2026-05",
            last_month="2026-05",
            now=now,
            settings=desk.settings,
        )
        front = {r.team_id: r for r in board.backlog}[desk.front]
        assert front.buckets == (1, 1, 1, 1, 1)  # the resolved one is not in the backlog
        # past their first response (4 office hours): not the two-hour-old, nor the one filed
        # on Sunday (due Monday 13:00)
        assert front.overdue == 3
        assert board.backlog_total.tickets == 6
        listed = figure_tickets(
            session,
            desk.manager,
            figure="backlog",
            first_month="2026-05",
            last_month="2026-05",
            team=desk.front,
            age=AGE_BUCKETS[-1][0],
            now=now,
            settings=desk.settings,
        )
        assert listed == [ids[4]]
        overdue = figure_tickets(
            session,
            desk.manager,
            figure="overdue",
            first_month="2026-05",
            last_month="2026-05",
            now=now,
            settings=desk.settings,
        )
        assert overdue == ids[2:5]
        # the front agent does not see the billing team's backlog
        mine = desk_dashboard(
            session,
            desk.front_agent,
            first_month="2026-05",
            last_month="2026-05",
            now=now,
            settings=desk.settings,
        )
        assert {r.team_id for r in mine.backlog} == {desk.front}
        everything = figure_tickets(
            session,
            desk.front_agent,
            figure="backlog",
            first_month="2026-05",
            last_month="2026-05",
            now=now,
            settings=desk.settings,
        )
        assert billing not in everything and len(everything) == 5


# -- every figure is the tickets behind it -------------------------------------------------------

COUNTED = {  # figure -> (numerator, denominator) of Figures
    "kept": ("kept", "promised"),
    "one_stop": ("one_stop", "resolved"),
    "reopened": ("reopened", "resolved"),
    "transfers": (None, "tickets"),
    "repeats": ("repeats", "tickets"),
}


def test_each_figure_lists_exactly_the_tickets_it_counts(desk: Desk) -> None:
    work_the_desk(desk, seed=11)
    now = b(5, 1)
    window = {"first_month": "2026-03", "last_month": "2026-04"}
    for principal in (desk.manager, desk.front_agent):
        with desk.database.session() as session:
            board = desk_dashboard(session, principal, now=now, settings=desk.settings, **window)
            effort = effort_summary(session, principal, settings=desk.settings)
            kept = kept_promise_rates(session, principal, settings=desk.settings)
            # the same figures as the service figures page
            assert board.overall.tickets == sum(r.tickets for r in effort)
            assert board.overall.one_stop == sum(r.first_contact_resolutions for r in effort)
            assert board.overall.reopened == sum(r.reopened for r in effort)
            assert board.overall.transfers == sum(r.transfers for r in effort)
            assert board.overall.repeats == sum(r.repeats for r in effort)
            assert (board.overall.kept, board.overall.promised) == (
                sum(r.kept for r in kept),
                sum(r.total for r in kept),
            )
            for (team, month), figures in board.by_team_month.items():
                where = {"team": NO_TEAM if team is None else team, "month": month}

                def listed(
                    figure: str,
                    counted: bool,
                    where: dict[str, object] = where,
                    principal: Principal = principal,
                ) -> int:
                    return len(
                        figure_tickets(
                            session,
                            principal,
                            figure=figure,
                            counted=counted,
                            now=now,
                            settings=desk.settings,
                            **window,
                            **where,  # type: ignore[arg-type]
                        )
                    )

                for figure, (numerator, denominator) in COUNTED.items():
                    assert listed(figure, False) == getattr(figures, denominator), figure
                    if numerator is not None:
                        assert listed(figure, True) == getattr(figures, numerator), figure
                assert listed("first_response", False) == len(figures.first_response_times)
                assert listed("resolution", False) == len(figures.resolution_times)
    assert board.overall.reopened > 0 and board.overall.transfers > 0
    assert board.overall.promised > board.overall.kept > 0
    assert len(board.overall.resolution_times) > 5


def test_the_team_filter(desk: Desk) -> None:
    work_the_desk(desk, seed=5)
    with desk.database.session() as session:
        board = desk_dashboard(
            session,
            desk.manager,
            first_month="2026-03",
            last_month="2026-04",
            team=desk.billing,
            now=b(5, 1),
            settings=desk.settings,
        )
        nobody = desk_dashboard(
            session,
            desk.manager,
            first_month="2026-03",
            last_month="2026-04",
            team=NO_TEAM,
            now=b(5, 1),
            settings=desk.settings,
        )
    assert set(board.by_team) == {desk.billing}
    assert set(nobody.by_team) <= {None}
    assert board.overall.tickets == board.by_team[desk.billing].tickets > 0


def test_an_unknown_figure_or_month_names_the_field(desk: Desk) -> None:
    with desk.database.session() as session:
        for bad, column in (
            ({"figure": "happiness"}, "figure"),
            ({"figure": "kept", "month": "2026-07"}, "month"),
            ({"figure": "backlog", "age": "ancient"}, "age"),
        ):
            with pytest.raises(InputError) as refused:
                figure_tickets(
                    session,
                    desk.manager,
                    first_month="2026-03",
                    last_month="2026-04",
                    now=b(5, 1),
                    settings=desk.settings,
                    **bad,  # type: ignore[arg-type]
                )
            assert column in str(refused.value) or getattr(refused.value, "column", "") == column


def test_many_statuses_at_once_are_each_tickets_status(desk: Desk) -> None:
    ids = work_the_desk(desk, seed=3, count=12)
    with desk.database.session() as session:
        tickets = [desk.ticket(i) for i in ids]
        together = ticket_queries.sla_statuses(session, tickets, b(5, 1))
        one_by_one = {
            t.id: status
            for t in tickets
            if (status := ticket_queries.sla_status(session, t, b(5, 1))) is not None
        }
    assert together == one_by_one and len(together) == len(ids)

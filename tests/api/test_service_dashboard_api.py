"""``/api/service/dashboard``: the desk dashboard's figures, the same as the service figures, the
tickets behind each, the caller's scope, bad input naming the field."""

from __future__ import annotations

from datetime import UTC, datetime

from office import Office


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def test_the_dashboard_figures_and_their_tickets(office: Office) -> None:
    manager = office.client("manager")
    first = office.ticket(category_id=office.delivery)
    second = office.ticket(category_id=office.delivery)  # a repeat of the first
    manager.post(
        f"/api/tickets/{first['id']}/reply", json={"body": "Sorry", "handling_seconds": 60}
    )
    manager.post(f"/api/tickets/{first['id']}/resolve", json={})
    manager.post(f"/api/tickets/{second['id']}/transfer", json={"team_id": office.team_b})
    month = _this_month()
    window = {"from": "2020-01", "to": "2099-12"}
    board = manager.get("/api/service/dashboard", params=window)
    assert board.status_code == 200, board.text
    data = board.json()
    overall = data["overall"]
    # the service figures' own numbers
    effort = manager.get("/api/service/effort").json()
    kept = manager.get("/api/service/kept-promises").json()
    assert overall["tickets"] == sum(r["tickets"] for r in effort) == 2
    assert overall["transfers"] == sum(r["transfers"] for r in effort) == 1
    assert overall["repeats"] == sum(r["repeats"] for r in effort) == 1
    assert (overall["kept"], overall["promised"]) == (
        sum(r["kept"] for r in kept),
        sum(r["total"] for r in kept),
    )
    assert overall["one_stop_rate"] == 1.0 and overall["reopen_rate"] == 0.0
    assert overall["first_responses"] == overall["resolutions"] == 1
    assert overall["first_response_median_seconds"] is not None
    backlog = {row["team"]: row for row in data["backlog"]}
    assert backlog["Billing"]["tickets"] == 1 and sum(backlog["Billing"]["buckets"].values()) == 1
    assert {r["month"] for r in data["team_months"]} == {month}

    def tickets(**query: str) -> list[int]:
        answer = manager.get("/api/service/dashboard/tickets", params={**window, **query})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["count"] == len(body["ticket_ids"])
        return list(body["ticket_ids"])

    assert tickets(figure="repeats", counted="true") == [second["id"]]
    assert tickets(figure="transfers", counted="true", team=str(office.team_b)) == [second["id"]]
    assert tickets(figure="kept") == [first["id"]]
    assert tickets(figure="backlog") == [second["id"]]
    assert tickets(figure="one_stop", month=month) == [first["id"]]
    assert tickets(figure="kept", team="none") == []

    # an agent of team A sees team A's figures only
    agent = office.client("agent_a").get("/api/service/dashboard", params=window).json()
    assert {r["team_id"] for r in agent["teams"]} <= {office.team_a}


def test_bad_input_names_the_field(office: Office) -> None:
    manager = office.client("manager")
    for params, field in (
        ({"from": "2026-05"}, "to"),
        ({"from": "May", "to": "2026-05"}, "from"),
        ({"from": "2026-05", "to": "2026-04"}, "to"),
        ({"from": "2026-05", "to": "2026-13"}, "to"),
        ({"from": "2026-05", "to": "2026-05", "team": "front"}, "team"),
    ):
        answer = manager.get("/api/service/dashboard", params=params)
        assert answer.status_code == 422, params
        assert answer.json()["error"]["field"] == field, (params, answer.json())
    for params, field in (
        ({"figure": "happiness"}, "figure"),
        ({"figure": "kept", "month": "2026-07"}, "month"),
        ({"figure": "backlog", "age": "ancient"}, "age"),
    ):
        answer = manager.get(
            "/api/service/dashboard/tickets", params={"from": "2026-01", "to": "2026-03", **params}
        )
        assert answer.status_code == 422, params
        assert answer.json()["error"]["field"] == field, (params, answer.json())

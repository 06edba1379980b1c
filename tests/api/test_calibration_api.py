"""Promise calibration over the API: GET /api/service/calibration (hand-computed percentile, kept
shares, a tried target, the caller's scope, bad input named) and POST to apply a target (a new
policy version, 409 on a stale version, 403 without settings:write; later tickets get it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from office import Office

from kehu.core.auth import Principal
from kehu.desk import ticket_commands, ticket_messages
from kehu.desk.schemas import TicketCreate

CREATED = datetime(2026, 3, 2, 10, tzinfo=UTC)
WINDOW = {"from": "2026-03-01", "to": "2026-03-31"}


def seed(office: Office) -> None:
    """20 tickets (Front team, the 24x7 calendar) answered after 15, 30, ..., 300 minutes."""
    manager = Principal.for_user(office.users["manager"].id, ["manager"])
    settings = office.app.state.settings
    with office.database.session() as session:
        for i in range(1, 21):
            ticket = ticket_commands.create_ticket(
                session,
                manager,
                TicketCreate(
                    customer_id=office.customer, kind="complaint", channel="email", subject="x"
                ),
                now=CREATED,
                settings=settings,
            )
            ticket_messages.reply(
                session,
                manager,
                ticket.id,
                "On it",
                now=CREATED + timedelta(minutes=15 * i),
                settings=settings,
            )


def test_reading_the_calibration(office: Office) -> None:
    seed(office)
    manager = office.client("manager")
    answer = manager.get(
        "/api/service/calibration",
        params={**WINDOW, "target": "first_response", "try_seconds": 240 * 60},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["from"] == "2026-03-01" and body["to"] == "2026-03-31"
    assert body["percentile"] == 95 and body["percentile_method"] == "nearest-rank"
    assert body["min_sample"] == 20
    (row,) = body["targets"]
    assert row["policy_id"] == office.policy and row["policy"] == "standard"
    assert row["version"] == 1 and row["target_seconds"] == 4 * 3600
    assert row["sample"] == 20 and row["running"] == 0
    assert row["kept"] == 16 and row["kept_rate"] == 0.8  # 15..240 min kept, 255..300 broken
    assert row["percentile_seconds"] == 285 * 60  # k = ceil(0.95 x 20) = 19: 19 x 15 min
    assert row["enough_data"] is True
    assert row["suggested_seconds"] == 285 * 60 and row["suggested_kept_rate"] == 0.95
    assert row["tried_seconds"] == 240 * 60 and row["tried_kept_rate"] == 0.8
    assert row["groups"] == [
        {
            "category_id": None,
            "category": None,
            "kind": "complaint",
            "priority": "normal",
            "value_tier": None,
            "sample": 20,
            "kept": 16,
            "kept_rate": 0.8,
            "percentile_seconds": 285 * 60,
        }
    ]

    resolution = manager.get(
        "/api/service/calibration", params={**WINDOW, "target": "resolution"}
    ).json()["targets"][0]
    assert resolution["sample"] == 0 and resolution["running"] == 20
    assert resolution["suggested_seconds"] is None and resolution["enough_data"] is False

    # an agent of the other team counts none of these tickets
    other = office.client("agent_b").get("/api/service/calibration", params=WINDOW).json()
    assert {r["sample"] for r in other["targets"]} == {0}

    backwards = manager.get(
        "/api/service/calibration", params={"from": "2026-03-02", "to": "2026-03-01"}
    )
    assert backwards.status_code == 422 and backwards.json()["error"]["field"] == "to"
    tiny = manager.get("/api/service/calibration", params={"try_seconds": 10})
    assert tiny.status_code == 422 and tiny.json()["error"]["field"] == "try_seconds"


def test_applying_a_target(office: Office) -> None:
    seed(office)
    manager = office.client("manager")
    apply = {
        "policy_id": office.policy,
        "target": "first_response",
        "target_seconds": 285 * 60,
        "expected_version": 1,
        **WINDOW,
    }
    refused = office.client("agent_a").post("/api/service/calibration", json=apply)
    assert refused.status_code == 403
    applied = manager.post("/api/service/calibration", json=apply)
    assert applied.status_code == 200, applied.text
    assert applied.json() == {
        "policy_id": office.policy,
        "policy": "standard",
        "version": 2,
        "target": "first_response",
        "previous_seconds": 4 * 3600,
        "target_seconds": 285 * 60,
        "sample": 20,
        "expected_kept_rate": 0.95,
    }
    stale = manager.post("/api/service/calibration", json=apply)
    assert stale.status_code == 409
    policy = manager.get(f"/api/sla-policies/{office.policy}").json()
    assert [v["first_response_seconds"] for v in policy["versions"]] == [4 * 3600, 285 * 60]
    audit = office.client("admin").get(
        "/api/audit/events", params={"action": "sla_policy.calibrated"}
    )
    assert audit.status_code == 200, audit.text
    (event,) = audit.json()["items"]
    assert event["entity_id"] == str(office.policy)
    assert event["after"]["sample"] == 20 and event["after"]["expected_kept_rate"] == 0.95
    # a ticket filed now is promised the new first response: 4 h 45 min on the 24x7 calendar
    ticket = office.ticket()
    created = datetime.fromisoformat(ticket["created_at"])
    due = datetime.fromisoformat(ticket["sla"]["first_response"]["due_at"])
    assert due - created == timedelta(minutes=285)
    short = manager.post(
        "/api/service/calibration", json={**apply, "expected_version": 2, "target_seconds": 5}
    )
    assert short.status_code == 422 and short.json()["error"]["field"] == "target_seconds"

"""Surveys over the API: the templates listed; a survey created from a template, read with its
versions, published; a response started, saved partially, submitted; an out-of-range answer a
422 naming the question; a stale change a 409 with its reason; a change after responses a new
version; the CSV import a 422 listing every bad row by line, or the rows imported; who may do
what. The expected values are the inputs sent (no published figure is involved)."""

from __future__ import annotations

from office import Office

from kehu.feedback.templates import TEMPLATES


def test_templates_surveys_and_responses(office: Office) -> None:
    manager, agent, reader = (office.client(w) for w in ("manager", "agent_a", "reader"))
    listed = reader.get("/api/survey-templates")
    assert listed.status_code == 200
    assert [t["key"] for t in listed.json()] == list(TEMPLATES)
    nps = next(t for t in listed.json() if t["key"] == "nps")
    assert nps["definition"]["questions"][0]["text"]["zh-Hans"].startswith("您向朋友")

    assert agent.post("/api/surveys", json={"name": "x", "template": "nps"}).status_code == 403
    created = manager.post("/api/surveys", json={"name": "After the ticket", "template": "nps"})
    assert created.status_code == 201, created.text
    survey = created.json()
    assert (survey["status"], survey["current_version"], len(survey["versions"])) == ("draft", 1, 1)
    sid = survey["id"]
    # a draft takes no responses
    assert agent.post(f"/api/surveys/{sid}/responses", json={}).status_code == 409
    published = manager.post(f"/api/surveys/{sid}/publish", json={"expected_version": 1})
    assert published.status_code == 200 and published.json()["status"] == "published"
    stale = manager.post(f"/api/surveys/{sid}/close", json={"expected_version": 1})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["error"]["message"]

    started = agent.post(
        f"/api/surveys/{sid}/responses",
        json={"customer_id": office.customer, "channel": "phone", "answers": {"recommend": 7}},
    )
    assert started.status_code == 201, started.text
    response = started.json()
    assert (response["status"], response["answers"]) == ("partial", {"recommend": 7})
    rid = response["id"]
    out_of_range = agent.patch(f"/api/survey-responses/{rid}", json={"answers": {"recommend": 12}})
    assert out_of_range.status_code == 422
    assert out_of_range.json()["error"]["field"] == "recommend"
    unknown = agent.patch(f"/api/survey-responses/{rid}", json={"answers": {"colour": 1}})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "colour"
    saved = agent.patch(f"/api/survey-responses/{rid}", json={"answers": {"why": "Quick"}})
    assert saved.json()["answers"] == {"recommend": 7, "why": "Quick"}
    assert reader.patch(f"/api/survey-responses/{rid}", json={"answers": {}}).status_code == 403
    submitted = agent.post(f"/api/survey-responses/{rid}/submit", json={})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    again = agent.post(f"/api/survey-responses/{rid}/submit", json={})
    assert again.status_code == 409

    # a change after a response: version 2; the old version and its response stay
    current = manager.get(f"/api/surveys/{sid}").json()
    definition = current["versions"][0]["definition"]
    definition["questions"][1]["required"] = True
    changed = manager.put(
        f"/api/surveys/{sid}/definition",
        json={"definition": definition, "expected_version": current["version"]},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["current_version"] == 2
    assert [(v["number"], v["n_responses"]) for v in body["versions"]] == [(1, 1), (2, 0)]
    lost = manager.put(
        f"/api/surveys/{sid}/definition",
        json={"definition": definition, "expected_version": current["version"]},
    )
    assert lost.status_code == 409
    page = reader.get(f"/api/surveys/{sid}/responses?survey_version=1").json()
    assert page["total"] == 1 and page["items"][0]["answers"] == {"recommend": 7, "why": "Quick"}
    bad_definition = manager.put(
        f"/api/surveys/{sid}/definition",
        json={"definition": {**definition, "questions": [{"id": "q", "type": "nps"}]}},
    )
    assert bad_definition.status_code == 422


def test_the_import_reports_every_bad_row_or_imports_them_all(office: Office) -> None:
    manager = office.client("manager")
    sid = manager.post("/api/surveys", json={"name": "Past", "template": "csat"}).json()["id"]
    bad = "satisfaction,comment,channel\n5,Fine,email\n6,,email\n0,,fax\n4,Good,\n"
    refused = manager.post(
        f"/api/surveys/{sid}/responses/import",
        files={"file": ("past.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["type"] == "InvalidRowsError"
    problems = {(p["field"], tuple(n for n, _ in p["lines"])) for p in error["problems"]}
    assert problems == {("satisfaction", (3, 4)), ("channel", (4,))}
    assert manager.get(f"/api/surveys/{sid}/responses").json()["total"] == 0
    good = "satisfaction,comment,customer\n5,Fine,C-1\n4,,\n"
    imported = manager.post(
        f"/api/surveys/{sid}/responses/import",
        files={"file": ("past.csv", good.encode(), "text/csv")},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["imported"] == 2
    items = manager.get(f"/api/surveys/{sid}/responses").json()["items"]
    assert [(i["source"], i["status"], i["customer_id"]) for i in items] == [
        ("imported", "submitted", office.customer),
        ("imported", "submitted", None),
    ]
    agent = office.client("agent_a")
    assert (
        agent.post(
            f"/api/surveys/{sid}/responses/import",
            files={"file": ("past.csv", good.encode(), "text/csv")},
        ).status_code
        == 403
    )


def test_competitors_name_the_rated_rivals(office: Office) -> None:
    manager = office.client("manager")
    rival = manager.post("/api/competitors", json={"name": "Rival Ltd"})
    assert rival.status_code == 201
    assert manager.post("/api/competitors", json={"name": "Rival Ltd"}).status_code == 409
    created = manager.post(
        "/api/surveys",
        json={
            "name": "Value",
            "template": "customer_value",
            "competitor_ids": [rival.json()["id"]],
        },
    )
    assert created.status_code == 201, created.text
    questions = created.json()["versions"][0]["definition"]["questions"]
    rating = next(q for q in questions if q["type"] == "competitor_rating")
    assert rating["competitors"] == [rival.json()["id"]]
    missing = manager.post(
        "/api/surveys",
        json={"name": "Value", "template": "customer_value", "competitor_ids": [999]},
    )
    assert missing.status_code == 422
    assert [c["name"] for c in office.client("reader").get("/api/competitors").json()] == [
        "Rival Ltd"
    ]

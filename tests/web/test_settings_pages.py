"""The settings pages: the index and its navigation link, business calendars (new, hours, time
zone, holidays, special days), with what every form shares: a manager changes what the API
would (through the same use cases, audited), an agent is refused (403 by the error map), bad
input is a 422 naming the field with the typed text kept, a stale version a 409 with the
reason, and a form without the session's CSRF token is refused."""

from __future__ import annotations

import re

from desk_support import SeededDesk
from fastapi.testclient import TestClient
from settings_page_support import audit_actions, post, problem, text
from sqlalchemy import select
from web_support import AGENT, WebApp

from kehu.core.auth import Principal
from kehu.desk import sla_store
from kehu.desk.tables import BusinessCalendarRow, SlaPolicyRow
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME

ADMIN = Principal.for_user(4, ["admin"], display_name="Admin")
SETTINGS_PAGES = (
    "/settings",
    "/settings/calendars",
    "/settings/calendars/1",
    "/settings/promises",
    "/settings/promises/1",
    "/settings/routing",
    "/settings/escalation",
    "/settings/categories",
)


def calendar_row(database: Database, calendar_id: int = 1) -> BusinessCalendarRow:
    with database.session() as session:
        row = session.get(BusinessCalendarRow, calendar_id)
        assert row is not None
        session.expunge(row)
        return row


# -- the index and the navigation ----------------------------------------------------------------


def test_index_lists_every_section_and_the_nav_offers_it(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    web.principal = ADMIN
    response = client.get("/settings")
    assert response.status_code == 200
    sections = re.findall(r'<li data-section="([a-z]+)">\s*<a href="([^"]+)"', response.text)
    assert sections == [
        ("users", "/settings/users"),
        ("teams", "/settings/teams"),
        ("calendars", "/settings/calendars"),
        ("promises", "/settings/promises"),
        ("routing", "/settings/routing"),
        ("escalation", "/settings/escalation"),
        ("categories", "/settings/categories"),
        ("macros", "/settings/macros"),
    ]
    assert 'data-nav="settings" aria-current="page"' in response.text
    assert 'data-nav="settings"' in client.get("/tickets").text


def test_a_manager_is_not_offered_the_users_section(client: TestClient, desk: SeededDesk) -> None:
    keys = re.findall(r'<li data-section="([a-z]+)"', client.get("/settings").text)
    assert "users" not in keys and "calendars" in keys and "macros" in keys


def test_every_settings_page_renders_for_a_manager_and_is_refused_for_an_agent(
    web: WebApp, client: TestClient, desk: SeededDesk
) -> None:
    for path in SETTINGS_PAGES:
        assert client.get(path).status_code == 200, path
    web.principal = AGENT
    assert 'data-nav="settings"' not in client.get("/tickets").text
    for path in SETTINGS_PAGES:
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "Not allowed" in refused.text or "not allowed" in refused.text.lower()
    forbidden = post(
        client, "/settings/calendars/1/holidays", expected_version="1", holiday="2026-05-01"
    )
    assert forbidden.status_code == 403


def test_the_index_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    page = text(client.get("/settings").text)
    assert "设置" in page and "服务承诺" in page and "工作日历" in page and "分派规则" in page


# -- business calendars --------------------------------------------------------------------------


def test_a_manager_adds_a_calendar(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    created = post(
        client,
        "/settings/calendars",
        name="Berlin office",
        timezone="Europe/Berlin",
        hours_0="08:00-12:00, 13:00-17:00",
        hours_4="08:00-14:00",
    )
    assert created.status_code == 303
    location = created.headers["location"]
    calendar_id = int(re.findall(r"/settings/calendars/(\d+)\?done=created", location)[0])
    row = calendar_row(database, calendar_id)
    assert row.timezone == "Europe/Berlin"
    assert row.weekly_hours == {
        "0": [["08:00", "12:00"], ["13:00", "17:00"]],
        "4": [["08:00", "14:00"]],
    }
    assert audit_actions(database, "business_calendar")[-1] == "business_calendar.created"
    page = client.get(location).text
    assert "The business calendar was added." in page and "08:00-12:00, 13:00-17:00" in page


def test_a_bad_time_zone_is_named_and_the_typed_text_kept(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    refused = post(
        client,
        "/settings/calendars",
        name="火星办公室",
        timezone="Mars/Olympus",
        hours_0="09:00-17:00",
    )
    assert refused.status_code == 422
    html = refused.text
    field, message = problem(html)
    assert field == "timezone" and message.startswith("Time zone:") and "Asia/Shanghai" in message
    assert 'value="Mars/Olympus"' in html and 'value="火星办公室"' in html
    assert re.search(r'name="timezone"[^>]*aria-invalid="true"', html)
    with database.session() as session:
        assert [c.name for c in sla_store.list_calendars(session)] == ["上海办公时间"]


def test_bad_hours_name_the_day_in_chinese(client: TestClient, desk: SeededDesk) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    refused = post(
        client, "/settings/calendars", name="夜班", timezone="Asia/Shanghai", hours_2="九点到五点"
    )
    assert refused.status_code == 422
    field, message = problem(refused.text)
    assert field == "weekly_hours.2" and message.startswith("星期三")
    assert 'value="九点到五点"' in refused.text
    times = post(
        client, "/settings/calendars", name="夜班", timezone="Asia/Shanghai", hours_1="9am-5pm"
    )
    assert times.status_code == 422 and problem(times.text)[0] == "weekly_hours.1"


def test_a_taken_calendar_name_is_a_conflict(client: TestClient, desk: SeededDesk) -> None:
    taken = post(
        client,
        "/settings/calendars",
        name="上海办公时间",
        timezone="Asia/Shanghai",
        hours_0="09:00-17:00",
    )
    assert taken.status_code == 409
    assert problem(taken.text)[1] == "That name is taken already; choose another."


def test_hours_and_time_zone_are_saved_and_promises_get_a_new_version(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    before = calendar_row(database)
    with database.session() as session:
        versions = {p.id: p.current_version for p in session.scalars(select(SlaPolicyRow))}
    saved = post(
        client,
        "/settings/calendars/1",
        expected_version=str(before.version),
        name="上海办公时间",
        timezone="Asia/Shanghai",
        **{f"hours_{d}": "08:30-17:30" for d in range(6)},
    )
    assert saved.status_code == 303
    after = calendar_row(database)
    assert after.version == before.version + 1
    assert after.weekly_hours["5"] == [["08:30", "17:30"]]
    with database.session() as session:
        for policy in session.scalars(select(SlaPolicyRow)):
            assert policy.current_version == versions[policy.id] + 1
    assert "business_calendar.updated" in audit_actions(database, "business_calendar")


def test_a_holiday_is_added_and_removed_with_the_version_seen(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    version = calendar_row(database).version
    added = post(
        client,
        "/settings/calendars/1/holidays",
        expected_version=str(version),
        holiday="2026-10-01",
    )
    assert added.status_code == 303
    assert "2026-10-01" in calendar_row(database).holidays
    page = client.get(added.headers["location"]).text
    assert "The holiday was added." in page and 'data-holiday="2026-10-01"' in page
    # the form of the page opened before: a stale version, refused with the reason
    stale = post(
        client,
        "/settings/calendars/1/holidays",
        expected_version=str(version),
        holiday="2026-10-02",
    )
    assert stale.status_code == 409
    assert "Someone else changed this" in problem(stale.text)[1]
    assert 'value="2026-10-02"' in stale.text
    assert "2026-10-02" not in calendar_row(database).holidays
    current = calendar_row(database).version
    removed = post(
        client,
        "/settings/calendars/1/holidays/remove",
        expected_version=str(current),
        holiday="2026-10-01",
    )
    assert removed.status_code == 303
    assert "2026-10-01" not in calendar_row(database).holidays
    bad = post(
        client,
        "/settings/calendars/1/holidays",
        expected_version=str(current + 1),
        holiday="1. Mai",
    )
    assert bad.status_code == 422 and problem(bad.text)[0] == "holidays"


def test_a_special_day_is_added_and_removed(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    version = calendar_row(database).version
    added = post(
        client,
        "/settings/calendars/1/special",
        expected_version=str(version),
        special_day="2026-09-27",
        special_hours="09:00-12:00",
    )
    assert added.status_code == 303
    assert calendar_row(database).special_hours == {"2026-09-27": [["09:00", "12:00"]]}
    removed = post(
        client,
        "/settings/calendars/1/special/remove",
        expected_version=str(version + 1),
        special_day="2026-09-27",
    )
    assert removed.status_code == 303
    assert calendar_row(database).special_hours == {}


def test_a_form_without_the_session_token_changes_nothing(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    version = calendar_row(database).version
    refused = client.post(
        "/settings/calendars/1/holidays",
        data={"csrf_token": "forged", "expected_version": str(version), "holiday": "2026-05-01"},
    )
    assert refused.status_code == 403
    assert calendar_row(database).version == version


def test_renaming_a_calendar_to_a_taken_name_is_a_conflict(
    client: TestClient, database: Database, desk: SeededDesk
) -> None:
    created = post(
        client,
        "/settings/calendars",
        name="北京办公时间",
        timezone="Asia/Shanghai",
        hours_0="09:00-17:00",
    )
    assert created.status_code == 303
    version = calendar_row(database).version
    taken = post(
        client,
        "/settings/calendars/1",
        expected_version=str(version),
        name="北京办公时间",
        timezone="Asia/Shanghai",
        hours_0="09:00-17:00",
    )
    assert taken.status_code == 409
    assert problem(taken.text)[1] == "That name is taken already; choose another."
    assert 'value="北京办公时间"' in taken.text
    assert calendar_row(database).name == "上海办公时间"

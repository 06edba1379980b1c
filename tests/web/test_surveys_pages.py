"""The survey pages for managers (/surveys, /surveys/{id}, the builder at /surveys/{id}/edit,
/surveys/competitors): the list with each survey's status, version and responses; a new survey
from each of the eight templates and blank; publish and close; the import of past responses with
a bad file listed by line and nothing imported; the builder adding, moving and removing
questions, saving skip logic, making a new version once responses exist (and saying so before
saving), refusing a stale save from a second tab with the 409 reason in place and an invalid
field with the 422 reason at the field; every page fully translated in both languages.

The expected values are the inputs themselves (the texts of kehu's templates, the CSV typed
here); no published figure is involved."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from test_web_i18n import LATIN_ALLOWED, visible_text
from web_support import AGENT, CSRF_TOKEN, MANAGER, WebApp

from kehu.feedback import surveys
from kehu.feedback.tables import Competitor, Survey, SurveyResponse, SurveyVersion
from kehu.feedback.templates import TEMPLATES
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from staff_support import add_staff


@pytest.fixture
def staff(database: Database) -> None:
    with database.session() as session:
        add_staff(session, MANAGER.user_id or 1, AGENT.user_id or 2)


def make_survey(database: Database, key: str = "nps", *, publish: bool = True) -> int:
    with database.session() as session:
        survey = surveys.create_survey(session, MANAGER, name=f"Survey {key}", template_key=key)
        if publish:
            surveys.publish_survey(session, MANAGER, survey.id)
        return survey.id


def row_version(database: Database, survey_id: int) -> int:
    with database.session() as session:
        survey = session.get(Survey, survey_id)
        assert survey is not None
        return survey.version


def versions(database: Database, survey_id: int) -> list[int]:
    with database.session() as session:
        return list(
            session.scalars(
                select(SurveyVersion.number)
                .where(SurveyVersion.survey_id == survey_id)
                .order_by(SurveyVersion.number)
            )
        )


def n_responses(database: Database, survey_id: int) -> int:
    with database.session() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(SurveyResponse)
                .where(SurveyResponse.survey_id == survey_id)
            )
            or 0
        )


def builder_fields(html: str) -> list[tuple[str, str]]:
    """The builder form's fields as a browser would post them (checked boxes, selected
    options, typed texts), without its buttons."""
    form = re.search(r'<form class="builder".*?</form>', html, re.S)
    assert form is not None
    body = form.group(0)
    fields: list[tuple[str, str]] = []
    for tag in re.findall(r"<input[^>]*>", body):
        name = re.search(r'name="([^"]*)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if kind and kind.group(1) == "checkbox":
            if " checked" in tag:
                fields.append((name.group(1), unescape(value.group(1)) if value else "on"))
            continue
        fields.append((name.group(1), unescape(value.group(1)) if value else ""))
    for name, text in re.findall(r'<textarea name="([^"]*)"[^>]*>(.*?)</textarea>', body, re.S):
        fields.append((name, unescape(text)))
    for name, options in re.findall(r'<select name="([^"]*)"[^>]*>(.*?)</select>', body, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        first = re.search(r'<option value="([^"]*)"', options)
        picked = chosen or first
        fields.append((name, unescape(picked.group(1)) if picked else ""))
    return fields


def post_builder(
    client: TestClient, survey_id: int, fields: list[tuple[str, str]], op: str = "save"
) -> Response:
    data = [(k, v) for k, v in fields if k != "op"] + [("op", op)]
    return client.post(
        f"/surveys/{survey_id}/edit",
        content="&".join(f"{_q(k)}={_q(v)}" for k, v in data),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )


def _q(text: str) -> str:
    from urllib.parse import quote_plus

    return quote_plus(text)


def setf(fields: list[tuple[str, str]], name: str, value: str) -> list[tuple[str, str]]:
    out = [(k, v) for k, v in fields if k != name]
    return [*out, (name, value)]


def import_csv(client: TestClient, survey_id: int, text: str) -> Response:
    return client.post(
        f"/surveys/{survey_id}/import",
        data={"csrf_token": CSRF_TOKEN},
        files={"file": ("past.csv", text.encode(), "text/csv")},
    )


# --- the list -----------------------------------------------------------------------------------


def test_the_list_shows_status_version_responses_and_the_nav_item(
    client: TestClient, database: Database, staff: None
) -> None:
    draft = make_survey(database, "csat", publish=False)
    published = make_survey(database, "nps")
    assert import_csv(client, published, "recommend,why\n9,\n3,slow\n").status_code == 303
    html = client.get("/surveys").text
    rows = dict(re.findall(r'<tr data-survey="(\d+)">(.*?)</tr>', html, re.S))
    assert "Draft" in rows[str(draft)] and "Published" in rows[str(published)]
    cells = re.findall(r'<td class="num">([^<]*)</td>', rows[str(published)])
    assert cells == ["1", "2"]  # version 1, two responses
    assert re.findall(r'<td class="num">([^<]*)</td>', rows[str(draft)]) == ["1", "0"]
    assert '<a href="/surveys"' in html and ">Surveys<" in html
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    assert ">调查<" in client.get("/surveys").text


def test_an_agent_reads_the_list_without_the_new_survey_form(
    client: TestClient, web: WebApp, database: Database, staff: None
) -> None:
    survey_id = make_survey(database)
    web.principal = AGENT
    html = client.get("/surveys").text
    assert 'id="new-survey"' not in html and "Survey nps" in html
    page = client.get(f"/surveys/{survey_id}").text
    assert 'id="edit-survey"' not in page and 'id="import"' not in page
    assert client.get(f"/surveys/{survey_id}/edit").status_code == 403
    refused = client.post(
        "/surveys", data={"csrf_token": CSRF_TOKEN, "name": "x", "template": "nps"}
    )
    assert refused.status_code == 403


@pytest.mark.parametrize("key", [*TEMPLATES, "blank"])
def test_a_survey_is_created_from_each_template_and_blank(
    client: TestClient, database: Database, staff: None, key: str
) -> None:
    created = client.post(
        "/surveys", data={"csrf_token": CSRF_TOKEN, "name": f"New {key}", "template": key}
    )
    assert created.status_code == 303
    survey_id = int(re.findall(r"/surveys/(\d+)", created.headers["location"])[0])
    with database.session() as session:
        detail = surveys.get_survey(session, MANAGER, survey_id)
    assert detail.status == "draft"
    assert detail.template == (None if key == "blank" else key)
    page = client.get(f"/surveys/{survey_id}").text
    first = detail.definition.questions[0]
    assert unescape(first.text.en) in unescape(page)
    chinese = client.get(f"/surveys/{survey_id}?lang=zh-Hans").text
    assert first.text.zh_hans in unescape(chinese)
    if key == "blank":
        assert created.headers["location"] == f"/surveys/{survey_id}/edit"
    else:
        shown = re.findall(r'<li class="preview-question" data-question="([^"]+)"', page)
        assert shown == [q["id"] for q in TEMPLATES[key]["questions"]]


def test_a_nameless_survey_is_refused_at_the_field(
    client: TestClient, database: Database, staff: None
) -> None:
    refused = client.post(
        "/surveys", data={"csrf_token": CSRF_TOKEN, "name": " ", "template": "nps"}
    )
    assert refused.status_code == 422
    assert (
        'id="survey-name" name="name" maxlength="200" required value=" " aria-invalid="true"'
        in (refused.text)
    )
    assert "Give the survey a name." in refused.text


# --- a survey: publish, close, import -----------------------------------------------------------


def test_publish_and_close(client: TestClient, database: Database, staff: None) -> None:
    survey_id = make_survey(database, publish=False)
    version = row_version(database, survey_id)
    published = client.post(
        f"/surveys/{survey_id}/publish",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(version)},
    )
    assert published.status_code == 303
    page = client.get(published.headers["location"]).text
    assert 'id="close-survey"' in page and "The survey is published" in page
    stale = client.post(
        f"/surveys/{survey_id}/close",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(version)},
    )
    assert stale.status_code == 409 and 'id="survey-error"' in stale.text
    closed = client.post(
        f"/surveys/{survey_id}/close",
        data={"csrf_token": CSRF_TOKEN, "expected_version": str(row_version(database, survey_id))},
    )
    assert closed.status_code == 303
    with database.session() as session:
        assert surveys.get_survey(session, MANAGER, survey_id).status == "closed"
    assert f'href="/surveys/{survey_id}/results"' in client.get(f"/surveys/{survey_id}").text


def test_a_bad_import_lists_every_bad_line_and_imports_nothing(
    client: TestClient, database: Database, staff: None
) -> None:
    survey_id = make_survey(database)
    page = client.get(f"/surveys/{survey_id}").text
    assert "recommend, why, customer, submitted_at, channel, language" in page
    bad = import_csv(client, survey_id, "recommend,why\n9,good\n11,\nten,\n7,ok\n12,\n")
    assert bad.status_code == 422
    errors = re.search(r'<div class="notice notice-error import-errors".*?</div>', bad.text, re.S)
    assert errors is not None
    lines = re.findall(r"<li>line (\d+): <code>([^<]*)</code></li>", errors.group(0))
    assert sorted(lines) == [("3", "11"), ("4", "ten"), ("6", "12")]
    assert n_responses(database, survey_id) == 0
    columns = import_csv(client, survey_id, "recommend,score\n9,1\n")
    assert columns.status_code == 422 and "unknown column(s) score" in columns.text
    good = import_csv(client, survey_id, "recommend,why\n9,good\n3,\n")
    assert good.status_code == 303 and good.headers["location"].endswith("done=imported&n=2")
    assert "Past responses imported: 2." in client.get(good.headers["location"]).text
    assert n_responses(database, survey_id) == 2


# --- the builder --------------------------------------------------------------------------------


def test_the_builder_adds_moves_and_removes_questions_and_saves_skip_logic(
    client: TestClient, database: Database, staff: None
) -> None:
    survey_id = make_survey(database, publish=False)
    html = client.get(f"/surveys/{survey_id}/edit").text
    assert 'id="same-version-notice"' in html
    fields = builder_fields(html)
    added = post_builder(client, survey_id, [*fields, ("new_type", "single_choice")], "add")
    assert added.status_code == 200
    assert versions(database, survey_id) == [1]  # nothing saved by an edit button
    fields = builder_fields(added.text)
    assert ("q-2-type", "single_choice") in fields
    fields = setf(fields, "q-2-id", "reason")
    fields = setf(fields, "q-2-en", "What was it about?")
    fields = setf(fields, "q-2-zh", "是关于什么的？")
    fields = setf(fields, "q-2-options", "price | Price | 价格\nservice | Service | 服务")
    moved = post_builder(client, survey_id, fields, "up-2")  # reason before why
    fields = builder_fields(moved.text)
    assert ("q-1-id", "reason") in fields and ("q-2-id", "why") in fields
    fields = setf(fields, "q-1-if", "recommend")
    fields = setf(fields, "q-1-if-op", "at_most")
    fields = setf(fields, "q-1-if-value", "6")
    fields = setf(fields, "q-2-if", "reason")
    fields = setf(fields, "q-2-if-op", "one_of")
    fields = setf(fields, "q-2-if-value", "price, service")
    saved = post_builder(client, survey_id, fields)
    assert saved.status_code == 303, saved.text
    with database.session() as session:
        definition = surveys.get_survey(session, MANAGER, survey_id).definition
    assert [q.id for q in definition.questions] == ["recommend", "reason", "why"]
    reason = definition.questions[1]
    assert reason.show_if is not None and reason.show_if.max == 6
    assert [o.id for o in reason.options] == ["price", "service"]
    why = definition.questions[2]
    assert why.show_if is not None and why.show_if.any_of == ["price", "service"]
    assert versions(database, survey_id) == [1]  # nobody answered: changed in place
    again = builder_fields(client.get(f"/surveys/{survey_id}/edit").text)
    removed = post_builder(client, survey_id, again, "remove-2")
    assert "q-2-id" not in dict(builder_fields(removed.text))


def test_a_change_after_responses_makes_a_new_version_and_says_so_first(
    client: TestClient, database: Database, staff: None
) -> None:
    survey_id = make_survey(database)
    assert import_csv(client, survey_id, "recommend\n9\n").status_code == 303
    html = client.get(f"/surveys/{survey_id}/edit").text
    notice = re.search(r'<p class="notice" id="new-version-notice">([^<]*)</p>', html)
    assert notice is not None
    assert unescape(notice.group(1)) == (
        "Version 1 has 1 response: saving makes version 2, and the response stays with version 1."
    )
    fields = setf(builder_fields(html), "q-0-en", "Would you recommend us to a friend?")
    assert post_builder(client, survey_id, fields).status_code == 303
    assert versions(database, survey_id) == [1, 2]
    page = client.get(f"/surveys/{survey_id}").text
    v2 = re.search(r'<li data-version="2">.*?</li>\s*</ul>', page, re.S)
    assert v2 is not None and "<code>recommend</code> changed" in v2.group(0)
    assert "Would you recommend us to a friend?" in page


def test_a_stale_save_from_a_second_tab_shows_the_conflict_and_keeps_the_text(
    client: TestClient, database: Database, staff: None
) -> None:
    survey_id = make_survey(database)
    first_tab = builder_fields(client.get(f"/surveys/{survey_id}/edit").text)
    second_tab = builder_fields(client.get(f"/surveys/{survey_id}/edit").text)
    first = setf(first_tab, "title_en", "First tab's title")
    assert post_builder(client, survey_id, first).status_code == 303
    second = setf(second_tab, "title_en", "Second tab's title")
    stale = post_builder(client, survey_id, second)
    assert stale.status_code == 409
    assert 'id="builder-error"' in stale.text and "Someone else saved this survey" in stale.text
    assert 'value="Second tab&#39;s title"' in stale.text
    with database.session() as session:
        title = surveys.get_survey(session, MANAGER, survey_id).definition.title.en
    assert title == "First tab's title"


@pytest.mark.parametrize(
    ("field", "value", "marked", "hint"),
    [
        ("q-0-zh", "", "q-0-zh", "Write the question in Chinese."),
        ("q-1-id", "1bad", "q-1-id", "A question id is letters, digits and _"),
        ("dimensions", "only two | parts", "dimensions", "Write each dimension on its own line"),
        ("q-1-if", "recommend", "q-1-if", "Check the condition"),  # is, with no value
    ],
)
def test_an_invalid_field_is_refused_at_the_field(
    client: TestClient,
    database: Database,
    staff: None,
    field: str,
    value: str,
    marked: str,
    hint: str,
) -> None:
    survey_id = make_survey(database)
    fields = setf(builder_fields(client.get(f"/surveys/{survey_id}/edit").text), field, value)
    refused = post_builder(client, survey_id, fields)
    assert refused.status_code == 422
    shown = re.search(
        rf'<p class="field-error" id="error-{marked}" role="alert">([^<]*)<span', refused.text
    )
    assert shown is not None and unescape(shown.group(1)).startswith(hint)
    assert f'aria-describedby="error-{marked}"' in refused.text
    assert ("1bad" if field == "q-1-id" else value) in unescape(refused.text)  # kept as typed
    assert versions(database, survey_id) == [1]
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    in_chinese = post_builder(client, survey_id, fields).text
    assert re.search(rf'id="error-{marked}" role="alert">[^<]*[\u4e00-\u9fff]', in_chinese)


# --- competitors --------------------------------------------------------------------------------


def test_competitors_are_added_renamed_and_offered_to_a_competitor_rating(
    client: TestClient, database: Database, staff: None
) -> None:
    added = client.post("/surveys/competitors", data={"csrf_token": CSRF_TOKEN, "name": "Acme"})
    assert added.status_code == 303
    assert (
        client.post(
            "/surveys/competitors", data={"csrf_token": CSRF_TOKEN, "name": "Acme"}
        ).status_code
        == 409
    )
    with database.session() as session:
        acme = session.scalar(select(Competitor.id).where(Competitor.name == "Acme"))
    renamed = client.post(
        f"/surveys/competitors/{acme}", data={"csrf_token": CSRF_TOKEN, "name": "Acme Ltd"}
    )
    assert renamed.status_code == 303
    assert 'value="Acme Ltd"' in client.get("/surveys/competitors").text
    created = client.post(
        "/surveys",
        data={
            "csrf_token": CSRF_TOKEN,
            "name": "Value",
            "template": "customer_value",
            "competitor_ids": str(acme),
        },
    )
    survey_id = int(created.headers["location"].split("/")[2].split("?")[0])
    page = client.get(f"/surveys/{survey_id}").text
    assert '<th scope="col">Acme Ltd</th>' in page
    builder = client.get(f"/surveys/{survey_id}/edit").text
    assert re.search(rf'name="q-\d+-competitors" value="{acme}" checked', builder)


def _option_lines(question: object) -> list[str]:
    options = getattr(question, "options", [])
    return [f"{o.id} | {o.text.en} | {o.text.zh_hans}" for o in options]


# --- both languages -----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["en", "zh-Hans"])
def test_the_survey_pages_are_fully_translated(
    client: TestClient, database: Database, staff: None, code: str
) -> None:
    with database.session() as session:
        surveys.create_competitor(session, MANAGER, name="Acme")
    survey_id = make_survey(database, "customer_value")
    assert import_csv(client, survey_id, "bogus\n1\n").status_code == 422
    client.cookies.set(COOKIE_NAME, code)
    with database.session() as session:
        definition = surveys.get_survey(session, MANAGER, survey_id).definition
    data = {q.id for q in definition.questions} | {"Acme", "Survey customer_value"}
    data |= {o.id for q in definition.questions for o in q.options}
    data |= {d.id for d in definition.dimensions} | {MANAGER.display_name or ""}
    # the builder shows the survey's own texts in both languages: they are data, not messages
    texts = [definition.title, *(q.text for q in definition.questions)]
    texts += [o.text for q in definition.questions for o in q.options]
    texts += [d.name for d in definition.dimensions]
    data |= {t.en for t in texts} | {t.zh_hans for t in texts}
    data |= {line for q in definition.questions for line in _option_lines(q)}
    for path in (
        "/surveys",
        "/surveys/competitors",
        f"/surveys/{survey_id}",
        f"/surveys/{survey_id}/edit",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        text = visible_text(response.text)
        for value in sorted(data, key=len, reverse=True):
            text = text.replace(value, " ")
        if code == "zh-Hans":
            words = set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_ALLOWED
            assert not words, (path, words)
        else:
            assert not re.findall(r"[\u3400-\u9fff]+", text.replace("中文", "")), path

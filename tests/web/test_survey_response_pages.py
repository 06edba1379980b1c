"""The public survey response page over HTTP (/s/<token>): shown in the customer's language
(the language switch wins), skip logic applied on the server, partial answers saved and resumed,
an out-of-range answer re-rendered with the error at its question (422), a submission thanked
and the link then recording nothing; forged, expired and cross-site requests refused with a
clear page; the unsubscribe link confirmed by a POST only. The expected values are the inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from survey_support import invite
from web_support import WebApp

from kehu.core.config import Settings
from kehu.core.outbox import OutboxMessage
from kehu.customers.service import marketing_consent
from kehu.feedback.invitation_tables import SurveyInvitation
from kehu.feedback.tables import SurveyAnswer, SurveyResponse
from kehu.web.i18n import COOKIE_NAME

NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def site(web: WebApp) -> WebApp:
    web.settings = Settings(  # type: ignore[call-arg]
        _env_file=None, public_base_url="https://service.example.com", timezone="Asia/Shanghai"
    )
    web.principal = None
    return web


def _counts(web: WebApp) -> tuple[int, int]:
    with web.database.session() as session:
        return (
            session.scalar(select(func.count()).select_from(SurveyResponse)) or 0,
            session.scalar(select(func.count()).select_from(SurveyAnswer)) or 0,
        )


def test_the_page_is_in_the_customers_language_and_resumes(
    client: TestClient, site: WebApp
) -> None:
    token = invite(site.database, site.settings, NOW, language="zh-Hans")
    page = client.get(f"/s/{token}")
    assert page.status_code == 200
    assert "您向朋友推荐我们的可能性有多大？" in page.text
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "我们应该在哪些方面改进？" not in page.text  # hidden until a low score is saved
    saved = client.post(
        f"/s/{token}",
        data={"shown": ["score", "visit"], "score": "", "q:score": "3", "action": "save"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == f"/s/{token}?saved=1"
    resumed = client.get(f"/s/{token}")
    assert "我们应该在哪些方面改进？" in resumed.text  # the low score opened it
    assert 'name="q:score" value="3" checked' in resumed.text
    client.cookies.set(COOKIE_NAME, "en")
    english = client.get(f"/s/{token}")
    assert "How likely are you to recommend us to a friend?" in english.text
    client.cookies.clear()
    assert _counts(site) == (1, 1)


def test_an_out_of_range_answer_is_a_422_at_its_question(client: TestClient, site: WebApp) -> None:
    token = invite(site.database, site.settings, NOW)
    refused = client.post(
        f"/s/{token}", data={"shown": ["score", "visit"], "q:score": "11", "q:visit": "4"}
    )
    assert refused.status_code == 422
    assert 'id="problem-score"' in refused.text
    assert "Please choose a whole number from 0 to 10." in refused.text
    assert 'value="4" checked' in refused.text  # the other answer is kept on the form
    missing = client.post(
        f"/s/{token}", data={"shown": ["score", "visit"], "q:visit": "4", "action": "submit"}
    )
    assert missing.status_code == 422 and 'id="problem-score"' in missing.text
    assert "Please answer this question." in missing.text
    assert _counts(site) == (0, 0)


def test_a_submission_is_thanked_and_the_link_records_nothing_more(
    client: TestClient, site: WebApp
) -> None:
    token = invite(site.database, site.settings, NOW)
    sent = client.post(
        f"/s/{token}",
        data={"shown": ["score", "visit"], "q:score": "9", "q:visit": "5", "action": "submit"},
    )
    assert sent.status_code == 303 and sent.headers["location"] == f"/s/{token}"
    thanks = client.get(f"/s/{token}")
    assert thanks.status_code == 200 and 'data-notice="answered"' in thanks.text
    assert _counts(site) == (1, 2)
    again = client.post(
        f"/s/{token}", data={"shown": ["score"], "q:score": "0", "action": "submit"}
    )
    assert again.status_code == 303 and again.headers["location"] == f"/s/{token}"  # thanks
    assert _counts(site) == (1, 2)
    with site.database.session() as session:
        assert session.scalars(select(SurveyInvitation.status)).all() == ["responded"]


def test_forged_expired_and_cross_site_requests_are_refused(
    client: TestClient, site: WebApp
) -> None:
    token = invite(site.database, site.settings, NOW - timedelta(days=15))
    for link in (token, "A" * 43, "not-a-token"):
        page = client.get(f"/s/{link}")
        assert page.status_code == 404 and 'data-notice="invalid"' in page.text
        posted = client.post(f"/s/{link}", data={"shown": ["score"], "q:score": "5"})
        assert posted.status_code == 404
    fresh = invite(site.database, site.settings, NOW, key="C-2")
    elsewhere = client.post(
        f"/s/{fresh}",
        data={"shown": ["score"], "q:score": "5", "action": "submit"},
        headers={"origin": "https://evil.example"},
    )
    assert elsewhere.status_code == 403
    assert _counts(site) == (0, 0)


def test_the_unsubscribe_link_asks_then_records_the_opt_out(
    client: TestClient, site: WebApp
) -> None:
    invite(site.database, site.settings, NOW)
    with site.database.session() as session:
        body = session.scalars(select(OutboxMessage.body)).all()[-1]
        customer = session.scalars(select(SurveyInvitation.customer_id)).one()
    token = body.split("/unsubscribe/")[1].split()[0]
    asked = client.get(f"/unsubscribe/{token}")
    assert asked.status_code == 200 and "Unsubscribe from surveys" in asked.text
    with site.database.session() as session:
        assert marketing_consent(session, customer, "email") == "unknown"
    done = client.post(f"/unsubscribe/{token}")
    assert done.status_code == 200 and 'data-notice="unsubscribed"' in done.text
    with site.database.session() as session:
        assert marketing_consent(session, customer, "email") == "withdrawn"
    assert client.get("/unsubscribe/" + "B" * 43).status_code == 404

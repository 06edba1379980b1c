"""The public pages over HTTP: the complaint form, the acknowledgement with the promise, the
status page and replies; bot traps, cross-site posts, rate limits, escaping, unknown links."""

from __future__ import annotations

import re
from html import unescape
from ipaddress import ip_network
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from public_support import KNOWN_TOKEN, public_settings, seed_promise, seed_public_ticket, ticket
from sqlalchemy import func, select
from web_support import MANAGER, WebApp

from kehu.core.auth import SYSTEM
from kehu.core.config import DEVELOPMENT_BASE_URL
from kehu.core.outbox import OutboxMessage
from kehu.core.ratelimit import RateLimitHit
from kehu.customers.tables import Customer
from kehu.desk import public, ticket_commands, ticket_messages
from kehu.desk.tables import Ticket
from kehu.store.db import Database
from kehu.web.i18n import COOKIE_NAME
from kehu.web.rendering import CONTENT_SECURITY_POLICY
from kehu.web.views.public import FORM_COOKIE, ZONE_COOKIE
from settings_support import DEFAULT_SETTINGS
from staff_support import add_staff

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def database(database: Database) -> Database:
    """The shared store with the staff users these tests act as (actors are real users)."""
    with database.session() as session:
        add_staff(session, 1, 2, 3, 7)
    return database


@pytest.fixture
def site(web: WebApp, tmp_path: Path) -> WebApp:
    web.settings = public_settings(tmp_path)
    web.principal = None
    seed_promise(web.database)
    return web


def form_token(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


def fill(client: TestClient, **fields: str) -> dict[str, str]:
    page = client.get("/complain")
    assert page.status_code == 200
    return {
        "kind": "complaint",
        "subject": "The parcel arrived broken",
        "description": "The vase is in pieces.",
        "name": "Erika Mustermann",
        "email": "erika@example.com",
        "phone": "",
        "contact_by_email": "yes",
        "timezone": "Europe/Berlin",
        "website": "",
        "form_token": form_token(page.text),
        **fields,
    }


def status_token(location: str) -> str:
    found = re.fullmatch(r"/complain/received/([A-Za-z0-9_-]+)", location)
    assert found, location
    return found.group(1)


def test_the_form_asks_only_what_is_needed(client: TestClient, site: WebApp) -> None:
    response = client.get("/complain")
    assert response.status_code == 200
    html = response.text
    for name in ("name", "email", "phone", "subject", "description", "contact_by_email"):
        assert f'name="{name}"' in html
    for kind in public.KINDS:
        assert f'name="kind" value="{kind}"' in html
    assert 'value="complaint" checked' in html
    assert 'class="hp-field" aria-hidden="true"' in html and 'tabindex="-1"' in html
    assert 'src="/static/js/public.js"' in html
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-store"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{FORM_COOKIE}=") and "HttpOnly" in cookie
    assert "samesite=strict" in cookie.lower()
    assert "Log out" not in html  # nobody is logged in on the public pages


def test_the_form_speaks_chinese(client: TestClient, site: WebApp) -> None:
    client.cookies.set(COOKIE_NAME, "zh-Hans")
    html = client.get("/complain").text
    assert '<html lang="zh-Hans">' in html
    assert "投诉" in html and "电子邮箱" in html and "您想告诉我们什么？" in html


def test_file_see_the_promise_follow_and_reply(client: TestClient, site: WebApp) -> None:
    response = client.post("/complain", data=fill(client))
    assert response.status_code == 303, response.text
    assert response.headers["referrer-policy"] == "no-referrer"
    token = status_token(response.headers["location"])

    ack = client.get(response.headers["location"])
    assert ack.status_code == 200
    html = ack.text
    with site.database.session() as session:
        row = session.scalar(select(Ticket))
        assert row is not None and row.channel == "web_form"
        reference = f"#{row.id}"
    assert f"Your reference is {reference}." in html
    assert "Our service promise" in html
    assert "We will reply by " in html and "Central European" in html  # the customer's zone
    assert "We aim to resolve it by " in html
    assert f'href="/status/{token}"' in html
    # no KEHU_PUBLIC_BASE_URL, development: kehu serve's default address, not the request's
    assert f"{DEVELOPMENT_BASE_URL}/status/{token}" in html
    assert ack.headers["x-robots-tag"] == "noindex, nofollow"
    with site.database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None and f"/status/{token}" in message.body

    with site.database.session() as session:
        ticket_messages.add_note(
            session, SYSTEM, row.id, "Internal: call the warehouse", settings=DEFAULT_SETTINGS
        )
        ticket_messages.reply(
            session,
            SYSTEM,
            row.id,
            "Which order was it?",
            wait_for_customer=True,
            settings=DEFAULT_SETTINGS,
        )
    page = client.get(f"/status/{token}")
    assert page.status_code == 200
    assert "Waiting for your reply" in page.text
    assert "Which order was it?" in page.text
    assert "Internal: call the warehouse" not in page.text

    sent = client.post(f"/status/{token}", data={"body": "Order 4711"})
    assert sent.status_code == 303
    assert sent.headers["location"] == f"/status/{token}?sent=1#conversation"
    after = client.get(f"/status/{token}?sent=1")
    assert "Thank you, we have your message." in after.text
    assert "Order 4711" in after.text and "Being handled" in after.text
    assert ticket(site.database, row.id).status == "in_progress"


def test_a_new_customer_is_created_once(client: TestClient, site: WebApp) -> None:
    client.post("/complain", data=fill(client))
    client.post("/complain", data=fill(client, email="ERIKA@example.com", subject="Again"))
    with site.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Customer)) == 1
        assert session.scalar(select(func.count()).select_from(Ticket)) == 2


def test_script_is_shown_as_text(client: TestClient, site: WebApp) -> None:
    response = client.post(
        "/complain", data=fill(client, subject=SCRIPT, description=SCRIPT, name=SCRIPT)
    )
    token = status_token(response.headers["location"])
    for path in (response.headers["location"], f"/status/{token}"):
        html = client.get(path).text
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    client.post(f"/status/{token}", data={"body": SCRIPT})
    html = client.get(f"/status/{token}").text
    assert "<script>alert(1)" not in html and html.count("&lt;script&gt;alert(1)") == 3


def test_a_filled_honeypot_is_refused(client: TestClient, site: WebApp) -> None:
    response = client.post("/complain", data=fill(client, website="http://spam.example"))
    assert response.status_code == 422
    assert "The form could not be accepted." in response.text
    with site.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_too_fast_is_shown_again_with_what_was_typed(
    client: TestClient, site: WebApp, tmp_path: Path
) -> None:
    site.settings = public_settings(tmp_path, public_min_fill_seconds=30)
    response = client.post("/complain", data=fill(client, subject="Kept <b>as typed</b>"))
    assert response.status_code == 422
    assert "That was quick!" in response.text
    assert 'value="Kept &lt;b&gt;as typed&lt;/b&gt;"' in response.text
    assert form_token(response.text)  # a fresh token to send again


def test_a_form_without_its_cookie_or_from_another_site_is_refused(
    client: TestClient, site: WebApp
) -> None:
    data = fill(client)
    other = TestClient(site.app, follow_redirects=False)
    refused = other.post("/complain", data=data)  # the token is bound to the first browser
    assert refused.status_code == 422
    assert "The form could not be checked." in refused.text
    cross = client.post("/complain", data=data, headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    with site.database.session() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    same = client.post("/complain", data=data, headers={"Origin": "http://testserver"})
    assert same.status_code == 303
    # an opaque origin (a no-referrer page) proves nothing; the bound token decides
    opaque = client.post("/complain", data=fill(client), headers={"Origin": "null"})
    assert opaque.status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "", "phone": "", "contact_by_email": ""}, "Please give an email address or"),
        ({"email": "not-an-email"}, "Please enter a valid email address."),
        ({"subject": ""}, "Please enter a subject on one line"),
        ({"subject": "x" * 201}, "Please enter a subject on one line"),
        ({"email": "", "phone": "13800138000"}, "Please give an email address if we may"),
        ({"kind": "threat"}, "Please choose what you would like to tell us."),
    ],
)
def test_bad_input_is_explained(
    client: TestClient, site: WebApp, fields: dict[str, str], message: str
) -> None:
    response = client.post("/complain", data=fill(client, **fields))
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert 'aria-invalid="true"' in response.text


def test_floods_are_rate_limited(client: TestClient, site: WebApp, tmp_path: Path) -> None:
    site.settings = public_settings(tmp_path, public_max_complaints_per_address=2)
    assert client.post("/complain", data=fill(client, website="bot")).status_code == 422
    assert client.post("/complain", data=fill(client)).status_code == 303
    limited = client.post("/complain", data=fill(client, email="other@example.com"))
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 3000
    assert "Too many messages from here. Please wait 60 minutes" in limited.text


@pytest.mark.parametrize(
    "configured", ["https://service.example.com", None], ids=["configured", "development"]
)
def test_a_forged_host_header_never_reaches_the_customers_links(
    configured: str | None, client: TestClient, site: WebApp, tmp_path: Path
) -> None:
    site.settings = public_settings(tmp_path, public_base_url=configured)
    base = configured or DEVELOPMENT_BASE_URL
    evil = {"Host": "evil.example"}
    response = client.post("/complain", data=fill(client), headers=evil)
    assert response.status_code == 303, response.text
    token = status_token(response.headers["location"])
    ack = client.get(response.headers["location"], headers=evil)
    assert ack.status_code == 200
    assert f"{base}/status/{token}" in ack.text
    assert "evil.example" not in ack.text
    with site.database.session() as session:
        message = session.scalar(select(OutboxMessage))
        assert message is not None
        assert f"{base}/status/{token}" in message.body
        assert "evil.example" not in message.body


def _counted_addresses(site: WebApp) -> dict[str, set[str]]:
    """The client addresses the public limits have counted, per action."""
    with site.database.session() as session:
        hits = session.execute(select(RateLimitHit.action, RateLimitHit.bucket)).all()
    counted: dict[str, set[str]] = {}
    for action, bucket in hits:
        if bucket.startswith("address:"):
            counted.setdefault(action, set()).add(bucket.removeprefix("address:"))
    return counted


def _from_everywhere(client: TestClient, site: WebApp, addresses: list[str]) -> list[int]:
    """A complaint, a try of an unknown status link and a reply through a known one, each with
    ``X-Forwarded-For`` naming the next of ``addresses``; the answers' status codes."""
    with site.database.session() as session:
        customer = Customer(external_id="C-1", name="张伟")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    seed_public_ticket(site.database, customer_id)
    answers = []
    for number, address in enumerate(addresses):
        forwarded = {"X-Forwarded-For": address}
        data = fill(client, email=f"sender{number}@example.com")
        answers.append(client.post("/complain", data=data, headers=forwarded).status_code)
        answers.append(client.get(f"/status/{'x' * 43}", headers=forwarded).status_code)
        reply = {"body": f"Reply {number}"}
        answers.append(
            client.post(f"/status/{KNOWN_TOKEN}", data=reply, headers=forwarded).status_code
        )
    return answers


def test_x_forwarded_for_from_an_untrusted_peer_does_not_move_the_limit(
    site: WebApp, tmp_path: Path
) -> None:
    site.settings = public_settings(
        tmp_path, public_max_complaints_per_address=2, trusted_proxies=(ip_network("10.0.0.0/8"),)
    )
    # 198.51.100.9 is no proxy of ours: the header it sends is the client's own invention
    with TestClient(site.app, follow_redirects=False, client=("198.51.100.9", 40000)) as client:
        forged = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        answers = _from_everywhere(client, site, forged)
    assert answers[0::3] == [303, 303, 429]  # two complaints per address, whatever it claims
    assert _counted_addresses(site) == {
        "complaint": {"198.51.100.9"},
        "lookup": {"198.51.100.9"},
        "reply": {"198.51.100.9"},
    }


def test_x_forwarded_for_from_a_trusted_proxy_names_the_client(
    site: WebApp, tmp_path: Path
) -> None:
    site.settings = public_settings(
        tmp_path, public_max_complaints_per_address=2, trusted_proxies=(ip_network("10.0.0.0/8"),)
    )
    with TestClient(site.app, follow_redirects=False, client=("10.0.0.2", 40000)) as proxy:
        clients = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        answers = _from_everywhere(proxy, site, clients)
    assert answers == [303, 404, 303] * 3  # three clients, not one proxy over its limit
    assert _counted_addresses(site) == {
        "complaint": set(clients),
        "lookup": set(clients),
        "reply": set(clients),
    }


def test_unknown_and_revoked_links_are_one_not_found_page(client: TestClient, site: WebApp) -> None:
    with site.database.session() as session:
        customer = Customer(external_id="C-1", name="张伟")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    ticket_id = seed_public_ticket(site.database, customer_id, note="secret note")
    assert "secret note" not in client.get(f"/status/{KNOWN_TOKEN}").text
    with site.database.session() as session:
        public.revoke_status_links(session, MANAGER, ticket_id)
    pages = [client.get(path) for path in (f"/status/{KNOWN_TOKEN}", "/status/" + "x" * 43)]
    pages.append(client.get(f"/complain/received/{KNOWN_TOKEN}"))
    pages.append(client.post(f"/status/{KNOWN_TOKEN}", data={"body": "hello"}))
    assert {p.status_code for p in pages} == {404}
    assert all("This status link is not valid" in p.text for p in pages)


def test_a_closed_ticket_shows_no_reply_form(client: TestClient, site: WebApp) -> None:
    with site.database.session() as session:
        customer = Customer(external_id="C-1", name="张伟")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    ticket_id = seed_public_ticket(site.database, customer_id)
    with site.database.session() as session:
        ticket_commands.close(session, SYSTEM, ticket_id, settings=DEFAULT_SETTINGS)
    html = client.get(f"/status/{KNOWN_TOKEN}").text
    assert 'class="public-form reply-form"' not in html and "This ticket is closed." in html
    refused = client.post(f"/status/{KNOWN_TOKEN}", data={"body": "still there?"})
    assert refused.status_code == 409
    assert "Please tell us through a new form." in refused.text


def test_an_empty_reply_is_explained(client: TestClient, site: WebApp) -> None:
    with site.database.session() as session:
        customer = Customer(external_id="C-1", name="张伟")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    seed_public_ticket(site.database, customer_id)
    response = client.post(f"/status/{KNOWN_TOKEN}", data={"body": "   "})
    assert response.status_code == 422
    assert "Please write your message" in response.text


def test_the_visitors_time_zone_is_used(client: TestClient, site: WebApp) -> None:
    with site.database.session() as session:
        customer = Customer(external_id="C-1", name="张伟")
        session.add(customer)
        session.flush()
        customer_id = customer.id
    seed_public_ticket(site.database, customer_id, reply=None)
    client.cookies.set(ZONE_COOKIE, "America/New_York")
    html = client.get(f"/status/{KNOWN_TOKEN}").text
    assert "Eastern" in html
    client.cookies.set(ZONE_COOKIE, "Not/AZone")
    assert "China Standard Time" in client.get(f"/status/{KNOWN_TOKEN}").text


def test_the_script_is_served_and_small(client: TestClient, site: WebApp) -> None:
    response = client.get("/static/js/public.js")
    assert response.status_code == 200 and "Intl.DateTimeFormat" in response.text
    assert client.get("/static/css/public.css").status_code == 200

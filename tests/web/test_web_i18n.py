"""Every string on the pages is translated: catalogs complete, every page rendered in both
languages with strict catalogs, no bare text in templates; dates and money per locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from desk_support import data_texts, seed_desk
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from public_support import KNOWN_TOKEN, public_settings, seed_public_ticket
from web_support import AGENT, CUSTOMER_NAMES, MANAGER, WebApp, seed_value_run

from kehu.analytics.rfm import SEGMENT_NAMES, SEGMENTS
from kehu.analytics.tiers import TIER_LABELS, TIER_NAMES
from kehu.core.money import Money
from kehu.store.db import Database
from kehu.web import AREAS
from kehu.web.i18n import (
    COOKIE_NAME,
    LOCALES,
    MissingTranslationError,
    Translator,
    load_catalog,
    negotiate_locale,
    strict_translations,
)
from kehu.web.i18n.catalogs import catalog_problems
from kehu.web.rendering import NAV_ITEMS, ROLE_LABELS, TEMPLATE_DIR, environment

# -- catalogs ----------------------------------------------------------------------------------


def test_every_message_has_a_translation_in_every_catalog() -> None:
    problems = catalog_problems()
    assert problems == {code: [] for code in LOCALES}, (
        "run `python -m kehu.web.i18n.catalogs` and translate the new messages"
    )


def test_catalogs_have_no_fuzzy_entries_and_keep_placeholders() -> None:
    for code in LOCALES:
        for message in load_catalog(code):
            if not message.id:
                continue
            assert not message.fuzzy, (code, message.id)
            ids = [str(i) for i in ((message.id,) if isinstance(message.id, str) else message.id)]
            strings = [
                str(s or "")
                for s in (
                    (message.string,) if isinstance(message.string, str) else message.string or ()
                )
            ]
            wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0]))
            for string in strings:
                assert set(re.findall(r"%\(\w+\)[sd]", string)) == wanted, (code, message.id)
                assert string.count("%%") == ids[0].count("%%"), (code, message.id)


def test_navigation_uses_the_domain_terms() -> None:
    zh = Translator("zh-Hans")
    assert [zh.gettext(item.label) for item in NAV_ITEMS] == [
        "客户",
        "工单",
        "客户价值",
        "服务质量",
        "看板",
        "调查",
        "调查结果",
        "投诉主题",
        "回访跟进",  # DOMAIN.md: follow-up task 跟进任务 / 回访
        "设置",
    ]
    assert all(zh.gettext(label) for label in ROLE_LABELS.values())


def test_tier_and_segment_names_exist_in_both_languages() -> None:
    for code in LOCALES:
        translator = Translator(code)
        for tier in TIER_LABELS:
            assert translator.display_name(TIER_NAMES[tier], tier)
        for segment in SEGMENTS:
            assert translator.display_name(SEGMENT_NAMES[segment], segment)
    assert Translator("zh-Hans").display_name(TIER_NAMES["high"], "high") == "高价值客户"


# -- every page, both languages ----------------------------------------------------------------

#: Words that stay as they are in Chinese: the product, the language switch, model and method
#: names, the command line.
#: Also the Esc key as printed on every keyboard (the shortcut list), and the file formats and
#: units attachments are told in (written so in Chinese too).
LATIN_ALLOWED = {"kehu", "EN", "BG", "NBD", "MBG", "Pareto", "RFM", "API", "Esc"} | {
    "PNG",
    "JPEG",
    "PDF",
    "MB",
    "KB",
}
#: The survey measures' names (NPS, CSAT ... as the literature and Chinese practice write
#: them) and the import's file format.
LATIN_ALLOWED |= {"NPS", "CSAT", "CES", "SERVQUAL", "ECSI", "CSV", "UTF"}
#: Routes that are not pages (redirects, files).
NOT_PAGES = {
    "/",
    "/lang/{code}",
    "/static/{path:path}",
    "/tickets/{ticket_id}/mentionable",
    "/favicon.ico",  # a redirect to the icon
}
#: Every page, as (path, who, how the store is seeded); each GET route must appear here.
PAGES: list[tuple[str, str, str]] = [
    ("/login", "nobody", "run"),
    ("/login?notice=invalid", "nobody", "run"),
    ("/login?notice=rate_limited", "nobody", "run"),
    ("/login?notice=expired", "nobody", "run"),
    ("/login?notice=logged_out", "nobody", "run"),
    ("/value", "manager", "run"),
    ("/feedback/follow-up", "manager", "desk"),
    ("/feedback/follow-up?status=all", "agent", "desk"),
    ("/feedback/follow-up", "manager", "empty"),
    ("/feedback/service-gaps", "manager", "desk"),
    ("/feedback/service-gaps", "agent", "empty"),
    ("/value?threshold=0", "manager", "run"),
    ("/value", "manager", "empty"),
    ("/value", "agent", "run"),
    ("/value/at-risk", "manager", "run"),
    ("/value/at-risk", "manager", "empty"),
    ("/customers", "manager", "desk"),
    ("/customers?q=nobody", "manager", "desk"),
    ("/customers", "agent", "empty"),
    ("/customers/3", "manager", "desk"),
    ("/customers/3", "agent", "desk"),
    ("/customers/3?done=edit", "manager", "desk"),
    ("/customers/3?done=merge", "agent", "desk"),
    ("/customers/1", "manager", "desk"),
    ("/customers/999", "manager", "desk"),
    ("/customers/3/timeline", "manager", "desk"),
    ("/tickets", "manager", "desk"),
    ("/tickets?status=all", "manager", "desk"),
    ("/tickets", "agent", "desk"),
    ("/tickets", "manager", "empty"),
    ("/tickets/1", "manager", "desk"),
    ("/tickets/1?done=reply", "agent", "desk"),
    ("/tickets/1?done=priority", "agent", "desk"),
    ("/tickets/5?done=close", "manager", "desk"),
    ("/tickets/3", "agent", "desk"),
    ("/tickets/5", "agent", "desk"),
    ("/tickets/8", "manager", "desk"),
    ("/tickets/11", "manager", "desk"),
    ("/tickets/1?macro=1&expected_version=1", "manager", "desk"),
    ("/tickets/1?macro=1", "agent", "desk"),
    ("/settings/macros", "manager", "desk"),
    ("/settings/macros?done=created", "manager", "desk"),
    ("/settings/macros", "agent", "desk"),
    ("/settings/macros", "manager", "empty"),
    ("/settings/macros/new", "manager", "desk"),
    ("/settings/macros/1", "manager", "desk"),
    ("/tickets/1/attachments/999", "manager", "desk"),
    ("/service", "manager", "desk"),
    ("/service", "agent", "desk"),
    ("/service", "manager", "empty"),
    ("/settings/users", "manager", "desk"),
    ("/settings/users?done=away", "agent", "desk"),
    ("/settings/teams", "manager", "desk"),
    ("/settings/teams?done=mode", "manager", "desk"),
    ("/service/calibration", "manager", "desk"),
    ("/service/calibration?policy=1&target=first_response&hours=5&minutes=0", "manager", "desk"),
    ("/service/calibration", "agent", "desk"),
    ("/service/calibration", "manager", "empty"),
    ("/notifications", "agent", "desk"),
    ("/notifications", "manager", "empty"),
    ("/notifications/badge", "agent", "desk"),
    ("/desk/dashboard", "manager", "desk"),
    ("/desk/dashboard", "agent", "desk"),
    ("/desk/dashboard", "manager", "empty"),
    ("/desk/dashboard/tickets?figure=kept&counted=1", "manager", "desk"),
    ("/desk/dashboard/tickets?figure=backlog&age=under_1d", "agent", "desk"),
    ("/complain", "nobody", "public"),
    ("/complain", "manager", "public"),
    (f"/complain/received/{KNOWN_TOKEN}", "nobody", "public"),
    (f"/status/{KNOWN_TOKEN}", "nobody", "public"),
    (f"/status/{KNOWN_TOKEN}?sent=1", "nobody", "public"),
    ("/status/an-unknown-status-token-000000000000", "nobody", "public"),
    # the survey pages with a live link: tests/web/test_survey_response_pages.py (both languages)
    ("/s/an-unknown-survey-token-0000000000000000", "nobody", "public"),
    ("/unsubscribe/an-unknown-unsubscribe-token-00000000000", "nobody", "public"),
    ("/settings", "manager", "desk"),
    ("/settings", "agent", "desk"),
    ("/settings/calendars", "manager", "desk"),
    ("/settings/calendars", "manager", "empty"),
    ("/settings/calendars/1", "manager", "desk"),
    ("/settings/promises", "manager", "desk"),
    ("/settings/promises", "manager", "empty"),
    ("/settings/promises/1", "manager", "desk"),
    ("/settings/routing", "manager", "desk"),
    ("/settings/routing", "manager", "empty"),
    ("/settings/escalation", "manager", "desk"),
    ("/settings/escalation", "manager", "empty"),
    ("/settings/categories", "manager", "desk"),
    ("/settings/categories", "manager", "empty"),
    ("/feedback/results", "manager", "desk"),
    ("/feedback/results", "agent", "empty"),
    ("/surveys/1/results", "manager", "desk"),
    ("/surveys", "manager", "desk"),
    ("/surveys", "agent", "desk"),
    ("/surveys", "manager", "empty"),
    ("/surveys/competitors", "manager", "desk"),
    ("/surveys/1", "manager", "desk"),  # the pages with a survey: test_surveys_pages.py
    ("/surveys/1/edit", "manager", "desk"),
    ("/feedback/themes", "manager", "desk"),
    ("/feedback/themes?suggest=1", "agent", "desk"),
    ("/feedback/themes", "manager", "empty"),
]


class VisibleText(HTMLParser):
    """Text a reader sees or hears: text nodes (not in script, style or code) and the
    attributes read out or shown (title, alt, placeholder, aria-label, button values)."""

    ATTRIBUTES = ("title", "alt", "placeholder", "aria-label")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "code"):
            self._skip += 1
        values = dict(attrs)
        self.parts += [values[name] or "" for name in self.ATTRIBUTES if name in values]
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(part.strip() for part in parser.parts if part.strip())


def _without_data(text: str) -> str:
    """The text less the seeded data (customer names and numbers, the user's name)."""
    for value in sorted(CUSTOMER_NAMES, key=len, reverse=True):
        text = text.replace(value, " ")
    for value in sorted(data_texts(), key=len, reverse=True):
        text = text.replace(value, " ")
    text = re.sub(r"C-\d{4}", " ", text)
    text = re.sub(r"[\w.+-]+@[\w.-]+", " ", text)  # emails
    text = re.sub(r"https?://\S+", " ", text)  # links (a status link shown to its customer)
    text = re.sub(r"\b(?:SO|SF)-?\d+|zhangwei_88", " ", text)  # order numbers, a WeChat id
    text = re.sub(r"\bStaff \d+\b", " ", text)  # the seeded staff users' names (staff_support)
    return text.replace(MANAGER.display_name, " ").replace(AGENT.display_name, " ")


def test_every_page_route_is_checked() -> None:
    routes = {
        route.path
        for area in AREAS
        for route in area.router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }
    covered = {path.split("?")[0] for path, _who, _store in PAGES}
    for route in routes - NOT_PAGES:
        pattern = re.compile(re.sub(r"\{[^}]+\}", "[^/]+", route) + "$")
        assert any(pattern.match(path) for path in covered), f"{route} is not in PAGES"
    assert all(
        any(re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", r), p) for r in routes) for p in covered
    )


@pytest.fixture
def page_apps(database: Database, tmp_path_factory: pytest.TempPathFactory) -> dict[str, WebApp]:
    from web_support import make_app

    seeded = seed_value_run(database)
    seed_desk(database, seeded.customer_ids)
    empty = Database(f"sqlite:///{tmp_path_factory.mktemp('empty') / 'kehu.db'}")
    empty.upgrade()
    import kehu.domains  # noqa: F401  (every domain's tables and registrations)
    from kehu.store.base import Base

    Base.metadata.create_all(empty.engine, checkfirst=True)
    public_site = make_app(database, public_settings(tmp_path_factory.mktemp("public")))
    seed_public_ticket(database, next(iter(seeded.customer_ids.values())))
    return {
        "run": make_app(database),
        "desk": make_app(database),
        "empty": make_app(empty),
        "public": public_site,
    }


@pytest.mark.parametrize("code", list(LOCALES))
def test_every_page_is_fully_translated(page_apps: dict[str, WebApp], code: str) -> None:
    principals = {"nobody": None, "manager": MANAGER, "agent": AGENT}
    for path, who, store in PAGES:
        web = page_apps[store]
        web.principal = principals[who]
        with TestClient(web.app, follow_redirects=False) as client:
            client.cookies.set(COOKIE_NAME, code)
            response = client.get(path)  # strict catalogs: a missing message raises
        assert response.status_code in (200, 403, 404), (path, who, response.text[:500])
        text = _without_data(visible_text(response.text))
        if code == "zh-Hans":
            words = set(re.findall(r"[A-Za-z]{2,}", text)) - LATIN_ALLOWED
            assert not words, f"English left on {path} ({who}, {store}) in Chinese: {words}"
        else:
            cjk = set(re.findall(r"[\u3400-\u9fff]+", text)) - {"中文"}
            assert not cjk, f"Chinese left on {path} ({who}, {store}) in English: {cjk}"
    page_apps["empty"].database.dispose()


# -- templates hold no bare text ---------------------------------------------------------------


class BareText(HTMLParser):
    """Letters in a template's own markup: text nodes, and the attributes people read."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        values = dict(attrs)
        for name in (*VisibleText.ATTRIBUTES, "label"):
            self._check(values.get(name) or "", f"{tag}[{name}]")
        if tag == "input" and values.get("type") in ("submit", "button"):
            self._check(values.get("value") or "", f"{tag}[value]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self._check(data, "text")

    def _check(self, text: str, where: str) -> None:
        bare = text.replace("\x00", " ").strip()
        if any(c.isalpha() for c in bare):
            self.found.append(f"{where}: {bare!r}")


def template_markup(source: str) -> str:
    """The template with every Jinja expression, statement and comment replaced by a NUL."""
    parts: list[str] = []
    last_was_code = False
    for _lineno, token, value in environment().lex(source):
        if token == "data":
            parts.append(value)
            last_was_code = False
        elif not last_was_code:
            parts.append("\x00")
            last_was_code = True
    return "".join(parts)


TEMPLATES = sorted(p.relative_to(TEMPLATE_DIR).as_posix() for p in TEMPLATE_DIR.rglob("*.html"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_have_no_untranslated_text(name: str) -> None:
    parser = BareText()
    parser.feed(template_markup((TEMPLATE_DIR / name).read_text(encoding="utf-8")))
    parser.close()
    assert parser.found == [], f"{name}: put user-visible text in _() — {parser.found}"


def test_the_template_lint_finds_bare_text() -> None:
    parser = BareText()
    parser.feed(template_markup('<p>{{ _("Fine") }} Oops</p><a title="Tip">{{ x }}</a>价值'))
    parser.close()
    assert len(parser.found) == 3


# -- the translator ----------------------------------------------------------------------------


def test_missing_translation_raises_in_strict_mode_and_falls_back_otherwise() -> None:
    translator = Translator("zh-Hans")
    with pytest.raises(MissingTranslationError, match="no zh-Hans translation"):
        translator.gettext("A message nobody translated")
    with strict_translations(False):
        assert translator.gettext("A message nobody translated") == "A message nobody translated"
        assert translator.gettext("Log in") == "登录"


def test_messages_format_and_pluralise() -> None:
    en, zh = Translator("en"), Translator("zh-Hans")
    assert en.ngettext("%(num)d week", "%(num)d weeks", 1) == "1 week"
    assert en.ngettext("%(num)d week", "%(num)d weeks", 52) == "52 weeks"
    assert zh.ngettext("%(num)d week", "%(num)d weeks", 52) == "52 周"
    assert en.gettext("Value brought by the top 20%% of customers").endswith("20% of customers")


@pytest.mark.parametrize(
    ("code", "currency", "minor", "expected"),
    [
        ("en", "CNY", 123456789, "CN¥1,234,567.89"),
        ("en", "USD", 123456789, "$1,234,567.89"),
        ("zh-Hans", "CNY", 123456789, "¥1,234,567.89"),
        ("zh-Hans", "USD", 123456789, "US$1,234,567.89"),
        ("en", "USD", -5050, "-$50.50"),
        ("en", "JPY", 1234, "¥1,234"),
    ],
)
def test_money_per_locale(code: str, currency: str, minor: int, expected: str) -> None:
    # JPY's minor unit is the yen itself (ISO 4217 exponent 0), so 1234 minor units are ¥1,234
    assert Translator(code).format_money(Money(minor, currency)) == expected


def test_whole_money_and_missing_values() -> None:
    assert Translator("en").format_money(Money(123456789, "USD"), whole=True) == "$1,234,568"
    assert Translator("zh-Hans").format_money(Money(123456789, "CNY"), whole=True) == "¥1,234,568"
    assert Translator("en").format_money(None) == "–"
    assert Translator("en").format_percent(None) == "–"


def test_dates_per_locale_in_the_business_time_zone() -> None:
    late = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)  # already 2 March in Shanghai
    en = Translator("en", ZoneInfo("Asia/Shanghai"))
    zh = Translator("zh-Hans", ZoneInfo("Asia/Shanghai"))
    assert en.format_date(date(2026, 3, 2)) == "Mar 2, 2026"
    assert zh.format_date(date(2026, 3, 2)) == "2026年3月2日"
    assert en.format_date(late) == "Mar 2, 2026"
    assert zh.format_datetime(late).startswith("2026年3月2日")
    assert "4:30" in en.format_datetime(late)


def test_numbers_and_percentages_per_locale() -> None:
    assert Translator("en").format_number(1234567) == "1,234,567"
    assert Translator("zh-Hans").format_percent(0.2534) == "25.3%"
    assert Translator("en").format_percent(0.5, 0) == "50%"


@pytest.mark.parametrize(
    ("cookie", "header", "expected"),
    [
        ("zh-Hans", "en", "zh-Hans"),
        (None, "zh-CN,zh;q=0.9", "zh-Hans"),
        (None, "zh-TW", "zh-Hans"),
        (None, "en-GB,en;q=0.8", "en"),
        (None, "fr-FR, de", "en"),
        ("xx", None, "en"),
    ],
)
def test_locale_negotiation(cookie: str | None, header: str | None, expected: str) -> None:
    assert negotiate_locale(cookie, header) == expected

"""The platform's languages (kehu.core.i18n): languages, the translator, strict mode, formatting
and the catalogs the pages share with the e-mails and texts."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from kehu.core import i18n
from kehu.core.i18n import (
    LOCALES,
    MissingTranslationError,
    Translator,
    format_instant,
    strict_translations,
    supported_language,
)
from kehu.core.i18n.catalogs import PACKAGE_DIR, catalog_problems, extract_messages
from kehu.web import i18n as web_i18n

MONDAY = datetime(2026, 3, 23, 13, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tag", "language"),
    [
        ("en", "en"),
        ("zh-Hans", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-CN", "zh-Hans"),
        ("ZH-hans", "zh-Hans"),
        ("en-GB", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_a_customers_language_maps_to_one_of_the_catalogs(tag: str | None, language: str) -> None:
    assert supported_language(tag) == language
    assert supported_language(tag) in LOCALES


def test_the_translator_reads_the_catalog_of_its_language() -> None:
    assert Translator("en").gettext("We will reply by %(time)s.", time="noon") == (
        "We will reply by noon."
    )
    assert Translator("zh-Hans").gettext("We will reply by %(time)s.", time="中午") == (
        "我们将在 中午 之前答复您。"
    )
    assert Translator("zh-Hans").has_translation("We will reply as soon as we can.")
    with pytest.raises(ValueError, match="unknown locale 'fr'"):
        Translator("fr")


def test_a_missing_translation_falls_back_to_english_unless_strict() -> None:
    zh = Translator("zh-Hans")
    untranslated = "A sentence no catalog has"
    assert not zh.has_translation(untranslated)
    with strict_translations(False):
        assert zh.gettext(untranslated) == untranslated
    with (
        strict_translations(),
        pytest.raises(MissingTranslationError, match=r"kehu/core/i18n/zh_Hans/LC_MESSAGES"),
    ):
        zh.gettext(untranslated)


def test_the_pages_share_the_platforms_strict_mode_and_translator() -> None:
    assert web_i18n.Translator is Translator
    assert web_i18n.LOCALES is LOCALES
    assert web_i18n.strict_translations is strict_translations
    with web_i18n.strict_translations():
        assert i18n.is_strict()
    with web_i18n.strict_translations(False):
        assert not i18n.is_strict()


def test_instants_are_told_in_the_given_zone_with_its_name() -> None:
    assert format_instant(MONDAY, "Europe/Berlin", "en") == (
        "Mon, Mar 23, 2026 14:00 Central European Standard Time"
    )
    assert format_instant(MONDAY, "Asia/Shanghai", "zh-Hans") == (
        "2026年3月23日周一 21:00 中国标准时间"
    )
    # a language without a catalog: English
    assert format_instant(MONDAY, "Asia/Shanghai", "fr") == format_instant(
        MONDAY, "Asia/Shanghai", "en"
    )
    assert Translator("zh-Hans").format_instant(MONDAY, "Asia/Shanghai") == (
        "2026年3月23日周一 21:00 中国标准时间"
    )


def test_one_catalog_holds_the_pages_and_the_domains_messages() -> None:
    where = {
        message.id: {path for path, _line in message.locations}
        for message in extract_messages()
        if message.id
    }
    assert "web/views/public.py" in where["We will reply by %(time)s."]
    assert "desk/messages.py" in where["[#%(ticket_id)s] Your request has been escalated"]
    assert any(path.startswith("web/templates/") for paths in where.values() for path in paths)
    assert PACKAGE_DIR.name == "kehu"
    assert catalog_problems() == {code: [] for code in LOCALES}, (
        "run `python -m kehu.core.i18n.catalogs` and translate the new messages"
    )


def test_the_platforms_i18n_imports_no_domain_and_no_front_door() -> None:
    code = (
        "import sys, kehu.core.i18n.messages, kehu.core.i18n.catalogs\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('kehu.'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    assert [
        name for name in loaded if name != "kehu.errors" and not name.startswith("kehu.core")
    ] == []

"""Message templates (kehu.core.i18n.messages): registered by the domains, rendered in the
customer's language from the pages' catalogs, English when a translation is missing, and every
registered template translated."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from kehu.core.i18n import LOCALES, MissingTranslationError, Translator, strict_translations
from kehu.core.i18n import messages as registry
from kehu.core.i18n.messages import (
    LocalTime,
    MessageTemplateError,
    MissingValueError,
    Phrase,
    RenderedMessage,
    UnknownMessageError,
    register_message,
    registered_messages,
    render_message,
)
from kehu.desk import messages as desk_messages

MONDAY = datetime(2026, 3, 23, 13, tzinfo=UTC)
# entries the pages' catalogs already translate
REPLY_BY = "We will reply by %(time)s."
AS_SOON = "We will reply as soon as we can."
RESOLVED = "Your matter has been resolved."


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Templates registered in a test are forgotten after it."""
    monkeypatch.setattr(registry, "_registry", dict(registry._registry))
    yield


def test_a_template_renders_in_english_and_chinese(scratch: None) -> None:
    register_message(
        "test.reply",
        subject=REPLY_BY,
        body="%(promise)s",
        phrases=(AS_SOON, RESOLVED),
    )
    values = {"time": LocalTime(MONDAY, "Asia/Shanghai"), "promise": Phrase(AS_SOON)}
    with strict_translations(False):  # the body "%(promise)s" is no catalog entry
        english = render_message("test.reply", "en", **values)
        chinese = render_message("test.reply", "zh-Hans", **values)
        assert render_message("test.reply", "zh-CN", **values) == chinese
    assert english == RenderedMessage(
        "test.reply",
        "en",
        "We will reply by Mon, Mar 23, 2026 21:00 China Standard Time.",
        "We will reply as soon as we can.",
    )
    assert chinese == RenderedMessage(
        "test.reply",
        "zh-Hans",
        "我们将在 2026年3月23日周一 21:00 中国标准时间 之前答复您。",
        "我们会尽快答复您。",
    )


def test_a_text_has_no_subject(scratch: None) -> None:
    register_message("test.text", kind="text", body=RESOLVED)
    assert render_message("test.text", "zh-Hans") == RenderedMessage(
        "test.text", "zh-Hans", "", "您的问题已解决。"
    )
    with pytest.raises(ValueError, match=r"'test\.no_subject' needs a subject"):
        register_message("test.no_subject", body=RESOLVED)
    with pytest.raises(ValueError, match=r"text template 'test\.sms' has no subject"):
        register_message("test.sms", kind="text", subject="Hi", body=RESOLVED)


def test_values_are_inserted_as_they_are(scratch: None) -> None:
    register_message("test.verbatim", subject=REPLY_BY, body=AS_SOON)
    typed = "100% %(not_a_field)s 张伟"
    assert render_message("test.verbatim", "en", time=typed).subject == (
        f"We will reply by {typed}."
    )


def test_a_missing_translation_falls_back_to_english(scratch: None) -> None:
    register_message(
        "test.untranslated",
        subject="Hello %(name)s",
        body="Nobody translated this yet.\n",
    )
    with strict_translations(False):
        for language in ("zh-Hans", "fr", None):
            message = render_message("test.untranslated", language, name="张伟")
            assert (message.subject, message.body) == (
                "Hello 张伟",
                "Nobody translated this yet.\n",
            )
    with strict_translations(), pytest.raises(MissingTranslationError, match="Hello"):
        render_message("test.untranslated", "zh-Hans", name="张伟")


def test_an_unknown_template_is_named() -> None:
    with pytest.raises(
        UnknownMessageError, match=r"'desk\.no_such_message'.*desk\.acknowledgement"
    ):
        render_message("desk.no_such_message", "en")


def test_a_missing_value_is_named(scratch: None) -> None:
    register_message("test.values", subject=REPLY_BY, body="%(promise)s", phrases=(REPLY_BY,))
    with pytest.raises(
        MissingValueError, match=r"'test\.values' \(subject\) needs the value 'time'"
    ):
        render_message("test.values", "en", promise=Phrase(AS_SOON))
    with pytest.raises(
        MissingValueError, match=r"'test\.values' \(body value 'promise'\) needs the value 'time'"
    ):
        render_message("test.values", "en", time="noon", promise=Phrase(REPLY_BY))


def test_a_phrase_must_be_declared(scratch: None) -> None:
    register_message("test.phrases", subject=REPLY_BY, body="%(promise)s")
    with pytest.raises(MessageTemplateError, match="does not declare in its phrases"):
        render_message("test.phrases", "en", time="noon", promise=Phrase(AS_SOON))


def test_a_name_holds_one_template(scratch: None) -> None:
    first = register_message("test.once", subject=REPLY_BY, body=AS_SOON)
    assert register_message("test.once", subject=REPLY_BY, body=AS_SOON) == first
    with pytest.raises(ValueError, match=r"already registered as 'test\.once'"):
        register_message("test.once", subject=REPLY_BY, body=RESOLVED)


# -- the registered templates ------------------------------------------------------------------


def test_the_domains_register_their_templates() -> None:
    assert {desk_messages.ACKNOWLEDGEMENT, desk_messages.ESCALATION} <= set(registered_messages())


@pytest.mark.parametrize("code", list(LOCALES))
def test_every_registered_template_is_translated_in_every_language(code: str) -> None:
    translator = Translator(code)
    for name, template in registered_messages().items():
        missing = [m for m in template.messages if not translator.has_translation(m)]
        assert missing == [], (
            f"{name}: no {code} translation; run `python -m kehu.core.i18n.catalogs` and translate"
        )
        # the translation keeps the source's fields, and renders strictly
        for message in template.messages:
            fields = set(re.findall(r"%\((\w+)\)", message))
            assert set(re.findall(r"%\((\w+)\)", translator.lookup(message))) == fields
        with strict_translations():
            rendered = render_message(name, code, **dict.fromkeys(template.fields, "X"))
        assert rendered.body and (rendered.subject or template.kind == "text")


def _acknowledgement(language: str, *, resolution: bool = True) -> RenderedMessage:
    return desk_messages.acknowledgement_message(
        ticket_id=7,
        kind="complaint",
        subject="The parcel arrived broken",
        name="Erika",
        first_response_due=MONDAY,
        resolution_due=datetime(2026, 3, 25, 9, tzinfo=UTC) if resolution else None,
        zone="Europe/Berlin",
        url="https://service.example.com/status/abc",
        expires=datetime(2026, 6, 21, 10, tzinfo=UTC),
        language=language,
    )


def test_the_desk_acknowledgement_as_the_customer_reads_it() -> None:
    with strict_translations():
        english = _acknowledgement("en")
        chinese = _acknowledgement("zh-Hans", resolution=False)
    assert english.subject == "[#7] We received your complaint: The parcel arrived broken"
    assert english.body == (
        "Dear Erika,\n\nthank you for telling us. We have filed your complaint as "
        "#7: The parcel arrived broken\n\n"
        "Our service promise: we will reply by Mon, Mar 23, 2026 14:00 Central European "
        "Standard Time and aim to resolve it by Wed, Mar 25, 2026 10:00 Central European "
        "Standard Time.\n\n"
        "Follow your ticket and reply to us through this link (keep it to yourself; it works "
        "until Sun, Jun 21, 2026 12:00 Central European Summer Time):\n"
        "https://service.example.com/status/abc\n"
    )
    assert chinese.subject == "[#7] 我们已收到您的投诉：The parcel arrived broken"
    assert chinese.body == (
        "Erika，您好：\n\n感谢您告诉我们。您的投诉已登记，编号 #7：The parcel arrived broken\n\n"
        "我们的服务承诺：我们将在 2026年3月23日周一 14:00 中欧标准时间 之前答复您。\n\n"
        "您可以通过下面的链接查看处理进度并回复我们（请勿转发此链接，有效期至 "
        "2026年6月21日周日 12:00 中欧夏令时间）：\nhttps://service.example.com/status/abc\n"
    )


def test_the_desk_escalation_in_both_languages() -> None:
    with strict_translations():
        english = desk_messages.escalation_message(ticket_id=7, language="en")
        chinese = desk_messages.escalation_message(ticket_id=7, language="zh-Hans")
        unknown = desk_messages.escalation_message(ticket_id=7, language=None)
    assert (english.subject, english.body) == (
        "[#7] Your request has been escalated",
        "Your request is taking longer than we promised. It has been escalated, and a senior "
        "colleague is looking after it now.\n",
    )
    assert unknown == english
    assert chinese.subject == "[#7] 您的请求已升级处理"
    assert chinese.body.endswith("\n") and "升级" in chinese.body

"""Languages of kehu: message catalogs, the translator, and locale formatting, for the pages and
for the messages (e-mails and texts, :mod:`kehu.core.i18n.messages`) alike.

English is the source language: a message id *is* its English text, marked in templates with
``_("...")`` (or ``{% trans %}``) and in Python with ``_``/``N_`` (see ``catalogs.py``). Each
language has a gettext catalog beside this file, ``<catalog>/LC_MESSAGES/messages.po``, read with
Babel and compiled in memory the first time it is used (nothing to build: an editable install and a
wheel behave the same). ``python -m kehu.core.i18n.catalogs`` extracts the messages from the code
and templates and merges them into every catalog; a test fails while any message lacks a
translation.

Messages are always %-format strings (Jinja's "newstyle" gettext): write ``%%`` for a percent sign
and ``%(name)s`` for a value, ``_("%(num)d customers", num=n)``.

A message without a translation falls back to its English text, and in strict mode (tests, and
``KEHU_I18N_STRICT=1``) raises :class:`MissingTranslationError` instead, so that an untranslated
string cannot reach a page or a customer unnoticed.

Nothing here knows HTTP: the language a request asks for (cookie, ``Accept-Language``) is the
pages' business (:mod:`kehu.web.i18n`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_skeleton as babel_format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.support import Translations

from kehu.core.money import Money
from kehu.errors import N_  # the one marker, re-exported for the pages and domains

__all__ = [
    "CATALOG_DIR",
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALES",
    "N_",
    "LocaleInfo",
    "MissingTranslationError",
    "Translator",
    "catalog_path",
    "format_instant",
    "load_catalog",
    "reload_catalogs",
    "set_strict",
    "strict_translations",
    "supported_language",
    "translated_ids",
]

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"


@dataclass(frozen=True)
class LocaleInfo:
    """One language of the interface and of the messages."""

    code: str  # in URLs, the cookie and <html lang>: BCP 47
    babel: str  # Babel/CLDR locale for dates, numbers and money
    catalog: str  # folder of the gettext catalog
    label: str  # the language's own name, shown in the switch (never translated)
    data_key: str  # key of the display-name tables of kehu.analytics (TIER_NAMES, SEGMENT_NAMES)

    @property
    def babel_locale(self) -> Locale:
        return Locale.parse(self.babel)


LOCALES: dict[str, LocaleInfo] = {
    "en": LocaleInfo("en", "en_US", "en", "EN", "en"),
    "zh-Hans": LocaleInfo("zh-Hans", "zh_Hans_CN", "zh_Hans", "中文", "zh"),
}
DEFAULT_LOCALE = "en"


def supported_language(tag: str | None) -> str:
    """The language of :data:`LOCALES` to use for ``tag`` (a customer's preferred language, a
    form's choice): the code itself when known, any Chinese (``zh``, ``zh-CN``, ...) as
    ``zh-Hans`` (the only Chinese there is), else English."""
    if tag in LOCALES:
        return tag
    lowered = (tag or "").strip().lower()
    if lowered.startswith("zh"):
        return "zh-Hans"
    return DEFAULT_LOCALE


class MissingTranslationError(LookupError):
    """A message has no translation in the catalog of the language being rendered."""


_strict = os.environ.get("KEHU_I18N_STRICT", "") not in ("", "0", "false")


def set_strict(strict: bool) -> None:
    """Raise on a missing translation (``True``) or fall back to English (``False``)."""
    global _strict
    _strict = strict


def is_strict() -> bool:
    return _strict


@contextmanager
def strict_translations(strict: bool = True) -> Iterator[None]:
    previous = _strict
    set_strict(strict)
    try:
        yield
    finally:
        set_strict(previous)


def catalog_path(code: str) -> Path:
    return CATALOG_DIR / LOCALES[code].catalog / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalog(code: str) -> Catalog:
    """The catalog of locale ``code`` as Babel reads it from its ``.po`` file."""
    with catalog_path(code).open("rb") as handle:
        return read_po(handle, locale=LOCALES[code].babel, domain=DOMAIN)


def _key(message_id: str | tuple[str, ...] | list[str]) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def translated_ids(catalog: Catalog) -> frozenset[str]:
    """Ids (singular forms) of the messages that have a complete, non-fuzzy translation."""
    done: set[str] = set()
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if strings and all(strings):
            done.add(_key(message.id))
    return frozenset(done)


@cache
def _compiled(code: str) -> tuple[Translations, frozenset[str]]:
    catalog = load_catalog(code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN), translated_ids(catalog)


def reload_catalogs() -> None:
    """Forget compiled catalogs (after ``catalogs.py`` rewrote them)."""
    _compiled.cache_clear()


def format_instant(instant: datetime, zone: str, language: str) -> str:
    """``Mon, Mar 23, 2026 13:00 Central European Standard Time`` /
    ``2026年3月23日周一 13:00 中国标准时间``: the date, the time and the zone's name, in the IANA
    time zone ``zone`` (a language not in :data:`LOCALES`: English)."""
    locale = LOCALES.get(language, LOCALES[DEFAULT_LOCALE]).babel
    tz = ZoneInfo(zone)
    day = babel_format_skeleton("yMMMEd", instant, tzinfo=tz, locale=locale)
    clock = babel_format_skeleton("Hm", instant, tzinfo=tz, locale=locale)
    name = babel_format_datetime(instant, "zzzz", tzinfo=tz, locale=locale)
    return f"{day} {clock} {name}"


class Translator:
    """Messages, dates, numbers and money for one locale and business time zone."""

    def __init__(self, code: str, zone: tzinfo = UTC) -> None:
        if code not in LOCALES:
            raise ValueError(f"unknown locale {code!r}; known: {', '.join(LOCALES)}")
        self.code = code
        self.info = LOCALES[code]
        self.locale = self.info.babel_locale
        self.zone = zone
        self._translations, self._known = _compiled(code)

    # -- messages ---------------------------------------------------------------------------

    def has_translation(self, message: str) -> bool:
        """Whether this language's catalog translates ``message`` (complete, not fuzzy)."""
        return message in self._known

    def _check(self, message: str) -> None:
        if message not in self._known and _strict:
            raise MissingTranslationError(
                f"no {self.code} translation for {message!r}: run "
                "`python -m kehu.core.i18n.catalogs` and translate it in "
                f"{catalog_path(self.code).relative_to(CATALOG_DIR.parents[2])}"
            )

    def lookup(self, message: str) -> str:
        """The translation of ``message``, not yet formatted."""
        self._check(message)
        return str(self._translations.gettext(message))

    def lookup_plural(self, singular: str, plural: str, n: int) -> str:
        """The translated form for ``n``, not yet formatted."""
        self._check(singular)
        return str(self._translations.ngettext(singular, plural, n))

    def gettext(self, message: str, **variables: Any) -> str:
        """``message`` translated, then %-formatted with ``variables``."""
        return self.lookup(message) % variables

    def ngettext(self, singular: str, plural: str, n: int, **variables: Any) -> str:
        """The form for ``n`` (available as ``%(num)d``), translated and formatted."""
        variables.setdefault("num", n)
        return self.lookup_plural(singular, plural, n) % variables

    __call__ = gettext

    # -- formatting -------------------------------------------------------------------------

    def format_date(self, value: date | datetime | None, format: str = "medium") -> str:
        """A calendar date; a datetime is first converted to the business time zone."""
        if value is None:
            return "–"
        if isinstance(value, datetime):
            value = self._local(value).date()
        return str(babel_format_date(value, format=format, locale=self.locale))

    def format_datetime(self, value: datetime | None, format: str = "medium") -> str:
        """A moment, in the business time zone."""
        if value is None:
            return "–"
        return str(babel_format_datetime(self._local(value), format=format, locale=self.locale))

    def format_instant(self, value: datetime, zone: str) -> str:
        """A moment in the IANA time zone ``zone`` with the zone's name (:func:`format_instant`):
        for a promise told in the customer's own time."""
        return format_instant(value, zone, self.code)

    def _local(self, value: datetime) -> datetime:
        if value.tzinfo is None:  # the store keeps UTC
            value = value.replace(tzinfo=UTC)
        return value.astimezone(self.zone)

    def format_money(self, money: Money | None, *, whole: bool = False) -> str:
        """An amount with its currency's symbol in this locale (:meth:`Money.format`);
        ``whole`` rounds to whole currency units (for tables of large values)."""
        if money is None:
            return "–"
        return money.format(self.locale, whole=whole)

    def format_number(self, value: float | int | None, decimals: int = 0) -> str:
        if value is None or value != value:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return str(babel_format_decimal(value, format=pattern, locale=self.locale))

    def format_percent(self, value: float | None, decimals: int = 1) -> str:
        """``0.253`` as ``25.3%``."""
        if value is None or value != value:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
        return str(babel_format_percent(value, format=pattern, locale=self.locale))

    def display_name(self, names: dict[str, str] | Any, fallback: str) -> str:
        """A name from a ``{"en": ..., "zh": ...}`` table of kehu.analytics (tiers, segments)."""
        if not names:
            return fallback
        name = names.get(self.info.data_key)
        if name is None:
            if _strict:
                raise MissingTranslationError(f"no {self.code} display name for {fallback!r}")
            return str(names.get("en", fallback))
        return str(name)

"""Languages of the pages: message catalogs, the per-request translator, and locale formatting.

English is the source language: a message id *is* its English text, marked in templates with
``_("...")`` (or ``{% trans %}``) and in Python with ``_``/``N_`` (see ``catalogs.py``). Each
language has a gettext catalog beside this file, ``<catalog>/LC_MESSAGES/messages.po``, read with
Babel and compiled in memory the first time it is used (nothing to build: an editable install and a
wheel behave the same). ``python -m kehu.web.i18n.catalogs`` extracts the messages from the code
and templates and merges them into every catalog; a test fails while any message lacks a
translation.

Messages are always %-format strings (Jinja's "newstyle" gettext): write ``%%`` for a percent sign
and ``%(name)s`` for a value, ``_("%(num)d customers", num=n)``.

A message without a translation falls back to its English text, and in strict mode (tests, and
``KEHU_I18N_STRICT=1``) raises :class:`MissingTranslationError` instead, so that an untranslated
string cannot reach a page unnoticed.
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

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal as babel_format_decimal
from babel.numbers import format_percent as babel_format_percent
from babel.support import Translations

from kehu.core.money import Money

__all__ = [
    "CATALOG_DIR",
    "COOKIE_NAME",
    "DEFAULT_LOCALE",
    "DOMAIN",
    "LOCALES",
    "N_",
    "LocaleInfo",
    "MissingTranslationError",
    "Translator",
    "catalog_path",
    "load_catalog",
    "negotiate_locale",
    "set_strict",
    "strict_translations",
]

CATALOG_DIR = Path(__file__).parent
DOMAIN = "messages"
#: The cookie the language switch sets (a locale code of :data:`LOCALES`).
COOKIE_NAME = "kehu_locale"


@dataclass(frozen=True)
class LocaleInfo:
    """One language of the interface."""

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


class MissingTranslationError(LookupError):
    """A message has no translation in the catalog of the language being rendered."""


_strict = os.environ.get("KEHU_I18N_STRICT", "") not in ("", "0", "false")


def set_strict(strict: bool) -> None:
    """Raise on a missing translation (``True``) or fall back to English (``False``)."""
    global _strict
    _strict = strict


@contextmanager
def strict_translations(strict: bool = True) -> Iterator[None]:
    previous = _strict
    set_strict(strict)
    try:
        yield
    finally:
        set_strict(previous)


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it now (translate where shown)."""
    return message


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


def negotiate_locale(cookie: str | None, accept_language: str | None) -> str:
    """The locale to render: the language switch's cookie, else the browser's preference."""
    if cookie in LOCALES:
        return cookie
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh-Hans"  # the only Chinese interface there is
        if tag.startswith("en"):
            return "en"
    return DEFAULT_LOCALE


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

    def _check(self, message: str) -> None:
        if message not in self._known and _strict:
            raise MissingTranslationError(
                f"no {self.code} translation for {message!r}: run "
                "`python -m kehu.web.i18n.catalogs` and translate it in "
                f"{catalog_path(self.code).relative_to(CATALOG_DIR.parent.parent.parent)}"
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

"""The pages' languages: which one a request asks for (the language switch's cookie, else the
browser's ``Accept-Language``), on top of the platform's catalogs and translator.

The catalogs, :class:`Translator`, the strict mode and locale formatting are the platform's
(:mod:`kehu.core.i18n`, shared with the e-mails and texts of :mod:`kehu.core.i18n.messages`);
they are re-exported here for the web package. ``python -m kehu.core.i18n.catalogs`` (or its old
name ``python -m kehu.web.i18n.catalogs``) updates the catalogs.
"""

from __future__ import annotations

from kehu.core.i18n import (
    CATALOG_DIR,
    DEFAULT_LOCALE,
    DOMAIN,
    LOCALES,
    N_,
    LocaleInfo,
    MissingTranslationError,
    Translator,
    catalog_path,
    load_catalog,
    reload_catalogs,
    set_strict,
    strict_translations,
    translated_ids,
)

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
    "reload_catalogs",
    "set_strict",
    "strict_translations",
    "translated_ids",
]

#: The cookie the language switch sets (a locale code of :data:`LOCALES`).
COOKIE_NAME = "kehu_locale"


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

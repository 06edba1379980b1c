"""Normal forms used for search and duplicate detection (pure functions, no database).

- emails: trimmed and lower-cased;
- phones: digits only; a Chinese number written with its country code (``+86``, ``0086``, ``86``
  before an 11-digit mobile) is reduced to its national digits, so ``+86 138-0013-8000`` and
  ``13800138000`` are the same phone;
- names: Unicode NFKC (full-width letters become ASCII), lower-cased, inner spaces collapsed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_NON_DIGITS = re.compile(r"\D+")
_SPACES = re.compile(r"\s+")
# what a phone fragment typed into a search box may contain besides digits
PHONE_QUERY = re.compile(r"^[\d\s\-+().]+$")


def normalize_text(value: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip().lower()


def normalize_email(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().lower()


def phone_digits(value: str) -> str:
    """All the digits of ``value`` (NFKC first, so full-width digits count)."""
    return _NON_DIGITS.sub("", unicodedata.normalize("NFKC", value))


def normalize_phone(value: str) -> str:
    """National digits: the Chinese country code in front of an 11-digit mobile is dropped."""
    digits = phone_digits(value)
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def normalize_contact(contact_type: str, value: str) -> str:
    if contact_type == "email":
        return normalize_email(value)
    if contact_type == "phone":
        return normalize_phone(value)
    return normalize_text(value)


def name_key(value: str | None) -> str:
    """A name with spaces and punctuation removed, for "very similar name" comparisons."""
    if not value:
        return ""
    text = normalize_text(value)
    return "".join(ch for ch in text if ch.isalnum())


def build_search_text(
    *,
    names: Iterable[str | None],
    external_id: str | None,
    contacts: Iterable[tuple[str, str]],
) -> str:
    """The ``search_text`` of a customer: one field per line, lower-cased; phones appear both as
    written in digits (country code included) and as national digits."""
    parts: list[str] = []
    for name in names:
        if name:
            parts.append(normalize_text(name))
    if external_id:
        parts.append(normalize_text(external_id))
    for contact_type, value in contacts:
        if contact_type == "phone":
            digits = phone_digits(value)
            parts.append(digits)
            national = normalize_phone(value)
            if national != digits:
                parts.append(national)
        else:
            parts.append(normalize_contact(contact_type, value))
    return "\n".join(dict.fromkeys(parts))


def escape_like(fragment: str, escape: str = "\\") -> str:
    """``fragment`` with LIKE's wildcards (``%``, ``_``) and the escape character escaped."""
    return (
        fragment.replace(escape, escape + escape)
        .replace("%", escape + "%")
        .replace("_", escape + "_")
    )


def search_terms(query: str) -> list[str]:
    """The terms of a search: a phone-like query (digits with spaces, dashes, ``+``, brackets) is
    one term of digits only; otherwise whitespace-separated normalised words, all required."""
    stripped = query.strip()
    if not stripped:
        return []
    if PHONE_QUERY.match(stripped) and any(ch.isdigit() for ch in stripped):
        return [phone_digits(stripped)]
    return [normalize_text(word) for word in stripped.split()]

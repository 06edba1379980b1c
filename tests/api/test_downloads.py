"""File names over HTTP: the ``Content-Disposition`` of a download names the file twice (RFC
6266), in UTF-8 (``filename*``) and as a plain ASCII fallback; the form encoding's escapes of a
name are read back. (Round trips of attachment names: tests/api/test_tickets_api.py.)"""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest

from kehu.http.downloads import ascii_filename, content_disposition, form_filename

_EXTENDED = re.compile(r"filename\*=UTF-8''([^;\s]+)")


def offered_name(header: str) -> str:
    """The name a browser saves the download as: ``filename*`` decoded (RFC 8187)."""
    found = _EXTENDED.search(header)
    assert found, header
    return unquote(found.group(1), encoding="utf-8", errors="strict")


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("report.pdf", "report.pdf"),
        ("Crème brûlée.txt", "Creme brulee.txt"),
        ("投诉.txt", "attachment.txt"),
        ("投诉", "attachment"),
        ('a"b.txt', "attachment.txt"),
        ("a\\b.txt", "attachment.txt"),
        ("100%.txt", "attachment.txt"),  # some clients percent-decode filename=
        (".profile", "attachment"),  # a hidden file's name is no extension
    ],
)
def test_the_ascii_fallback_is_plain(name: str, fallback: str) -> None:
    assert ascii_filename(name) == fallback
    header = content_disposition(name)
    assert header.startswith(f"attachment; filename=\"{fallback}\"; filename*=UTF-8''")
    assert offered_name(header) == name


def test_the_form_encoding_of_quotes_and_line_breaks_is_read_back() -> None:
    assert form_filename("a%22b%0D%0Ac%0a.txt") == 'a"b\r\nc\n.txt'
    assert form_filename("100%25.txt") == "100%25.txt"  # only the three the encoding writes
    assert form_filename(None) == "" and form_filename("") == ""

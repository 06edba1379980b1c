"""File names over HTTP: the name of an uploaded file as its sender meant it, and the
``Content-Disposition`` of a download that keeps a Unicode name (投诉.txt) for every browser.

Making a name safe to keep (no path, no control or bidi characters, a bounded length) is the
service desk's rule (:func:`kehu.desk.attachment_names.attachment_name`); this module only carries
names through the HTTP encodings.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote

#: HTML's multipart/form-data encoding (and httpx's) writes these three in a file name as %XX.
_FORM_ESCAPE = re.compile(r"%(22|0D|0A)", re.IGNORECASE)
#: What may stand unescaped inside the quoted ``filename="..."`` for clients of RFC 2616 days.
_ASCII_NAME = re.compile(r"[A-Za-z0-9._ ()-]+")
_LONGEST_SUFFIX = 16


def form_filename(filename: str | None) -> str:
    """The name of an uploaded file with the form encoding's ``%22``, ``%0D`` and ``%0A`` read
    back as ``"``, CR and LF (the multipart parser leaves them as sent), so the service's
    rules see, and clean, the name the sender's file really has."""
    if not filename:
        return ""
    return _FORM_ESCAPE.sub(lambda match: chr(int(match.group(1), 16)), filename)


def _without_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def ascii_filename(filename: str) -> str:
    """The name for clients that do not read ``filename*``: as it is when it is plain ASCII
    once accents are dropped (``Crème.txt`` -> ``Creme.txt``), else ``attachment`` with the
    name's extension (``投诉.txt`` -> ``attachment.txt``)."""
    plain = _without_accents(filename)
    if _ASCII_NAME.fullmatch(plain) and plain.strip(" .") and not plain.startswith("."):
        return plain
    suffix = _without_accents(PurePosixPath(filename).suffix)
    if len(suffix) <= _LONGEST_SUFFIX and _ASCII_NAME.fullmatch(suffix):
        return "attachment" + suffix
    return "attachment"


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice (RFC 6266): an ASCII ``filename`` for old clients and
    ``filename*`` in UTF-8, percent-encoded (RFC 8187), which every current browser prefers.
    Percent-encoding leaves no quote, CR or LF that could end the header or the parameter."""
    name = filename or "attachment"
    fallback = ascii_filename(name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


__all__ = ["ascii_filename", "content_disposition", "form_filename"]

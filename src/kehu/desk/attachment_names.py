"""The name an attachment is kept under: the sender's own name in any script (``投诉.txt``
stays ``投诉.txt``), with nothing left in it that could act on a path, a header or the reader.

The bytes are stored by their SHA-256, never under this name; the name is shown in lists and
pages and offered when the file is downloaded.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath

#: The usual file-system limit for one name, so a browser can save the download as named.
MAX_NAME_BYTES = 255
#: The name of a file whose own name leaves nothing.
FALLBACK_NAME = "attachment"
#: Replaces each run of characters a name may not keep.
REPLACEMENT = "_"

_PATH_SEPARATOR = re.compile(r"[/\\]")
# Windows refuses these in a file name; '"' would also end a quoted header parameter.
_RESERVED = frozenset('<>:"|?*')
# Explicit direction marks, embeddings, overrides and isolates: "invoice" U+202E "fdp.exe"
# reads as "invoiceexe.pdf".
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f"  # Arabic letter mark, left-to-right and right-to-left marks
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings, pop, overrides
    "\u2066\u2067\u2068\u2069"  # isolates
)
# Control characters (CR and LF would split a header), lone surrogates (not storable as UTF-8),
# line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})
_LONGEST_KEPT_SUFFIX_BYTES = 32


def _is_unsafe(character: str) -> bool:
    return (
        character in _RESERVED
        or character in _BIDI_CONTROLS
        or character == "\ufeff"
        or unicodedata.category(character) in _UNSAFE_CATEGORIES
    )


def _last_path_part(name: str) -> str:
    # Browsers send a bare name, but some clients send "C:\Users\...\x.txt" or "../../x.txt".
    return _PATH_SEPARATOR.split(name.rstrip("/\\"))[-1]


def _replace_unsafe(name: str) -> str:
    kept: list[str] = []
    for character in name:
        if not _is_unsafe(character):
            kept.append(character)
        elif not kept or kept[-1] != REPLACEMENT:
            kept.append(REPLACEMENT)
    return "".join(kept)


def _shortened(name: str) -> str:
    """``name`` in at most :data:`MAX_NAME_BYTES` of UTF-8, its extension kept."""
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    suffix = PurePosixPath(name).suffix
    if len(suffix.encode("utf-8")) > _LONGEST_KEPT_SUFFIX_BYTES:
        suffix = ""
    stem = name.removesuffix(suffix).encode("utf-8")[: MAX_NAME_BYTES - len(suffix.encode())]
    # cut on a character boundary: a partial character at the end is dropped
    return stem.decode("utf-8", "ignore").rstrip(" .") + suffix


def attachment_name(filename: str | None) -> str:
    """The name to keep for an uploaded ``filename``: Unicode kept (NFC), only its last path
    part, each run of control, bidi-override or reserved characters replaced by ``_``, no
    leading or trailing spaces and dots (``..``, hidden files, names Windows cannot save),
    at most 255 bytes of UTF-8 with its extension; ``attachment`` when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "")
    name = _replace_unsafe(_last_path_part(name)).strip().strip(".").strip()
    if not name.strip(REPLACEMENT + " ."):
        return FALLBACK_NAME
    return _shortened(name)


__all__ = ["FALLBACK_NAME", "MAX_NAME_BYTES", "REPLACEMENT", "attachment_name"]

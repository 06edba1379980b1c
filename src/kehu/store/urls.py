"""Database URLs in messages and logs: never with their password.

Here, in the store, because the store's own errors name its URL; the front doors use the same
helpers (``kehu.cli``, ``kehu.api``) for the messages they build.
"""

from __future__ import annotations

import re

MASK = "***"
# user:password@ after a scheme, for text that is not a URL SQLAlchemy can parse
_CREDENTIALS = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def masked_url(url: str) -> str:
    """``url`` with its password shown as ``***`` (for messages and logs)."""
    # SQLAlchemy is imported here, not with the module: the command line's error handler uses
    # mask_passwords on every message, and a bad input file must be refused before the
    # store's machinery loads (about 0.3 s)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL, or a port that is not a number
        return mask_passwords(url)


def mask_passwords(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it masked."""
    return _CREDENTIALS.sub(rf"\1{MASK}@", text)


__all__ = ["MASK", "mask_passwords", "masked_url"]

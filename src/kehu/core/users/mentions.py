"""@mentions of colleagues in a text: ``@`` followed by a staff user's user name (the local part
of their e-mail address, ``@ana`` for ana@example.com) or their display name (``@Ana Lima``,
``@李娜``), case-insensitively.

Rules, so that ordinary text is not taken for a mention:

- the ``@`` starts the text or follows a character that is not a Latin letter or digit (so
  ``ana@example.com`` mentions nobody, ``请@李娜`` does);
- the longest name that matches wins (``@Ana Lima`` over ``@Ana``);
- a name ending in a Latin letter or digit must not run on into another (``@anabel`` does not
  mention ``ana``); Chinese names need no space after them (``@李娜请看``);
- only active users are mentioned; an ``@word`` that names nobody is just text.

What a mention *means* (who may be mentioned, who is told) is the caller's: the desk refuses a
mention of someone who cannot see the ticket (:mod:`kehu.desk.notifications`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kehu.core.users.tables import User

__all__ = ["Mention", "MentionableUser", "find_mentions", "mentionable_users", "split_mentions"]


@dataclass(frozen=True)
class MentionableUser:
    user_id: int
    display_name: str
    username: str  # the local part of the e-mail address


@dataclass(frozen=True)
class Mention:
    """``text[start:end]`` (with its ``@``) names ``user``."""

    user: MentionableUser
    start: int
    end: int


def mentionable_users(session: Session) -> list[MentionableUser]:
    """Every active staff user, by display name (what the note box's suggestions offer)."""
    rows = session.execute(
        select(User.id, User.display_name, User.email)
        .where(User.is_active.is_(True))
        .order_by(User.display_name, User.id)
    )
    return [
        MentionableUser(int(user_id), name or email, email.partition("@")[0])
        for user_id, name, email in rows
    ]


def _ascii_word(character: str) -> bool:
    return character.isascii() and character.isalnum()


def _keys(user: MentionableUser) -> set[str]:
    return {key.casefold() for key in (user.username, user.display_name.strip()) if key}


def find_mentions(text: str, users: list[MentionableUser]) -> list[Mention]:
    """The mentions in ``text`` of ``users`` (from :func:`mentionable_users`), in order."""
    if "@" not in text or not users:
        return []
    keys = sorted(
        ((key, user) for user in users for key in _keys(user)), key=lambda pair: -len(pair[0])
    )
    folded = text.casefold()
    # casefold() may change lengths (ß -> ss); positions are then only safe in the original
    if len(folded) != len(text):
        folded = text.lower()
        if len(folded) != len(text):
            return []
    found: list[Mention] = []
    position = folded.find("@")
    while position != -1:
        if position == 0 or not _ascii_word(text[position - 1]):
            start = position + 1
            for key, user in keys:
                if not folded.startswith(key, start):
                    continue
                end = start + len(key)
                if end < len(text) and _ascii_word(key[-1]) and _ascii_word(text[end]):
                    continue
                found.append(Mention(user, position, end))
                position = end - 1
                break
        position = folded.find("@", position + 1)
    return found


def split_mentions(text: str, mentions: list[Mention]) -> list[tuple[str, MentionableUser | None]]:
    """``text`` cut into pieces, each a mention (with its user) or plain text (``None``), for a
    page to show the mentions highlighted."""
    pieces: list[tuple[str, MentionableUser | None]] = []
    at = 0
    for mention in mentions:
        if mention.start > at:
            pieces.append((text[at : mention.start], None))
        pieces.append((text[mention.start : mention.end], mention.user))
        at = mention.end
    if at < len(text):
        pieces.append((text[at:], None))
    return pieces

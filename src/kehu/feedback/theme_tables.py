"""Tables of complaint themes (migration 0018), owned by the feedback domain.

- ``themes``: the catalogue a manager edits: a key (the name the analytics know the theme
  by), its names in English and Chinese, its seed words (both languages in one list), active;
- ``theme_texts``: one row per text the tagging has read, a ticket (its subject and first
  customer message) or a survey free-text answer (a *verbatim*): which (``target_kind``,
  ``target_id``), whose (customer, ticket), when it was written, a copy of its text (what the
  model is fitted on, the page's examples; personal data, redacted with the customer) and,
  once an agent has corrected its tags, who and when (``checked_by``/``checked_at``): from
  then on the tagging never changes its tags, and its tags are labels for the next fit;
- ``theme_tags``: the themes of a text: the theme, its score (the model's cosine, ``NULL`` for
  an agent's tag), ``source`` (``model`` or ``agent``), who and when.

A ticket or answer id is a plain column (no foreign key): the feedback domain does not own the
desk's tables, and a text is kept only while its copy is useful (the customer's erasure redacts
it). Timestamps are UTC. Every foreign key column leads an index (tests/store/test_indexes.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from kehu.store.base import ID, Base, UTCDateTime, utc_now

__all__ = ["TAG_SOURCES", "TARGET_KINDS", "Theme", "ThemeTag", "ThemeText"]

#: ``ticket``: a ticket's subject and first customer message; ``answer``: a survey free-text
#: answer (``survey_answers.id``).
TARGET_KINDS = ("ticket", "answer")
TAG_SOURCES = ("model", "agent")


class Theme(Base):
    """A named complaint theme of the catalogue (see :mod:`kehu.feedback.themes`)."""

    __tablename__ = "themes"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    seed_words: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ThemeText(Base):
    """A text the tagging has read (a ticket's complaint or a survey verbatim)."""

    __tablename__ = "theme_texts"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    #: the ticket (of a verbatim: the ticket its response answers, if any)
    ticket_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    checked_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("target_kind", "target_id"),
        Index("ix_theme_texts_written_at", "written_at"),
    )


class ThemeTag(Base):
    """One theme of one text, from the model or from an agent."""

    __tablename__ = "theme_tags"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    text_id: Mapped[int] = mapped_column(ForeignKey("theme_texts.id", ondelete="CASCADE"))
    theme_id: Mapped[int] = mapped_column(ForeignKey("themes.id"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(20))
    tagged_by: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("users.id"), index=True)
    tagged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    __table_args__ = (UniqueConstraint("text_id", "theme_id"),)

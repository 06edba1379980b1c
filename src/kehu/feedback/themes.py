"""Complaint themes in the feedback domain: the catalogue, the tags on tickets and survey
verbatims, the agents' corrections, the tagging job, discovery of new themes and the themes'
results (issue 10, item 5; docs/complaint-themes.md, "In kehu").

The statistics are :mod:`kehu.analytics.themes` (a pure library); this module gives it the
store's texts and keeps what it says.

**Catalogue.** A theme has a key (the name the model knows it by), a name in English and in
Chinese, seed words in both languages and an active flag; managers edit it (``feedback:write``).
:data:`DEFAULT_THEMES` is a start for a retailer's service desk (delivery, refunds, faulty
products, staff, billing, the app or website, waiting, loyalty points), installed by the first
tagging run of a store with no themes (or on the page).

**Texts.** A ticket's text is its subject and its description (the customer's first message,
the complaint as filed); a verbatim is a free-text answer of a submitted survey response. The
tagging job keeps a copy of each text it reads (``theme_texts``: the model is refitted on it,
the results quote it; personal data, redacted with the customer).

**Tagging** (:func:`tag_new_texts`, job ``theme_tagging`` every 15 minutes): the texts the job
has not read yet (tickets by id above the highest one read, free-text answers of submitted
responses not read yet: incremental, and idempotent since a text is read once,
``(target_kind, target_id)`` being unique) are tagged by a
:class:`~kehu.analytics.themes.SeededThemes` fitted on the active themes' seed words, the new
texts and every text an agent has corrected, with the corrections as labels (an agent's main
theme, or ``"other"`` for a text the agent left without a theme): the model learns the words
of the corrections. A text gets a tag for each of its themes (its main one and those scoring
at least 80 % of it) with its score.

**Corrections.** An agent (``tickets:write`` on the ticket) sets a ticket's themes, or removes
one: the text's tags become the agent's (``source = "agent"``), the text is marked *checked*
(who, when), and no later run changes its tags. A correction made before the job read the
ticket creates its text, so it is kept too.

**Results** (:func:`theme_results`, ``feedback:read``; its example texts of tickets only those
the caller may read): per theme the counts per month and per
value tier and RFM segment (:func:`kehu.value.queries.customer_segments`), the trend of its
share, and its gaps in CSAT, NPS and repeat contacts, ranked by
:func:`~kehu.analytics.themes.rank_by_outcome`. A text's CSAT and NPS answers are those of its
own survey response (a verbatim), else the mean of the submitted responses that answer its
ticket, else the mean of its customer's responses; its repeat contact is the desk's figure for
its ticket (:func:`kehu.desk.effort.effort_tickets`: the ticket was linked as a repeat of an
earlier one). Texts without one are left out of that gap (NaN).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from kehu.analytics.text import tokenize
from kehu.analytics.themes import (
    OTHER,
    SeededThemes,
    ThemeDiscovery,
    ThemeSummary,
    rank_by_outcome,
    summarise_themes,
)
from kehu.core.auth import SYSTEM, Principal, require
from kehu.core.config import Settings
from kehu.core.jobs import JobContext
from kehu.desk.effort import effort_tickets
from kehu.desk.sla import reporting_month
from kehu.desk.ticket_queries import read_ticket, tickets_after
from kehu.errors import InputError, NotFoundError
from kehu.feedback.surveys import definition_of
from kehu.feedback.tables import SurveyAnswer, SurveyResponse, SurveyVersion
from kehu.feedback.theme_tables import Theme, ThemeTag, ThemeText
from kehu.store.base import utc_now
from kehu.value.queries import customer_segments

__all__ = [
    "DEFAULT_THEMES",
    "TAGGING_JOB",
    "TaggingRun",
    "TextTags",
    "ThemeResult",
    "ThemeResults",
    "ThemeSuggestion",
    "correct_ticket_tags",
    "create_theme",
    "install_default_themes",
    "list_themes",
    "remove_ticket_tag",
    "suggest_themes",
    "tag_new_texts",
    "theme_results",
    "theme_tagging_job",
    "ticket_tags",
    "update_theme",
]

TAGGING_JOB = "theme_tagging"
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
NAME_MAX = 100
MAX_SEEDS = 100
#: How many new texts one run of the job tags at most (the next run goes on).
BATCH = 500
#: How much of a text is kept (the model reads its beginning; a long thread adds little).
TEXT_MAX = 4_000

#: (key, English name, Chinese name, seed words) of the default catalogue: the themes and seed
#: words of the evaluation in docs/complaint-themes.md (tuned there on a labelled sample).
DEFAULT_THEMES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("delivery", "Delivery", "物流配送", (
        "物流", "快递", "配送", "发货", "包裹", "送货", "签收",
        "delivery", "parcel", "courier", "shipping", "package", "tracking", "arrive",
    )),
    ("refund", "Refunds and returns", "退款退货", (
        "退款", "退货", "换货", "退回", "refund", "return", "money back", "exchange",
    )),
    ("defect", "Faulty products", "质量问题", (
        "质量", "坏了", "破损", "故障", "漏水", "用不了",
        "broken", "faulty", "defect", "damaged", "stopped working", "cracked",
    )),
    ("staff", "Staff attitude", "服务态度", (
        "态度", "店员", "客服", "不耐烦", "不理人",
        "rude", "staff", "unhelpful", "manager", "agent",
    )),
    ("billing", "Billing and prices", "扣费账单", (
        "扣费", "多收", "扣款", "账单", "价格", "发票",
        "charged", "overcharged", "bill", "invoice", "price", "fee",
    )),
    ("app", "App and website", "App与网站", (
        "登录", "闪退", "密码", "验证码", "页面", "系统",
        "app", "login", "crash", "password", "website", "error",
    )),
    ("waiting", "Waiting to be served", "等待时间", (
        "排队", "没人接", "电话", "等", "回复",
        "hold", "wait", "queue", "phone", "hotline", "reply",
    )),
    ("points", "Loyalty points", "会员积分", (
        "积分", "会员", "兑换", "优惠券",
        "points", "loyalty", "reward", "redeem", "voucher", "member",
    )),
)  # fmt: skip


# --- the catalogue -------------------------------------------------------------------------------


def _name(value: str, column: str) -> str:
    name = value.strip()
    if not name or len(name) > NAME_MAX:
        raise InputError(f"a theme needs a name of 1 to {NAME_MAX} characters", column=column)
    return name


def _seed_words(words: Sequence[str]) -> list[str]:
    if isinstance(words, str) or not words:
        raise InputError("a theme needs at least one seed word", column="seed_words")
    if len(words) > MAX_SEEDS:
        raise InputError(f"at most {MAX_SEEDS} seed words", column="seed_words")
    checked: list[str] = []
    for index, word in enumerate(words):
        word = word.strip()
        if not tokenize(word):
            raise InputError(
                "a seed word must have a content word (not only a stop word or a number)",
                column=f"seed_words[{index}]",
                value=word,
            )
        if word not in checked:
            checked.append(word)
    return checked


def list_themes(
    session: Session, principal: Principal, *, active_only: bool = False
) -> list[Theme]:
    """The catalogue, by id (``feedback:read``)."""
    require(principal, "feedback:read")
    statement = select(Theme).order_by(Theme.id)
    if active_only:
        statement = statement.where(Theme.active.is_(True))
    return list(session.scalars(statement))


def _theme(session: Session, theme_id: int) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None:
        raise NotFoundError(f"theme {theme_id} not found")
    return theme


def create_theme(
    session: Session,
    principal: Principal,
    *,
    key: str,
    name_en: str,
    name_zh: str,
    seed_words: Sequence[str],
    active: bool = True,
    now: datetime | None = None,
) -> Theme:
    """A new theme of the catalogue (``feedback:write``); a key in use is refused."""
    require(principal, "feedback:write")
    key = key.strip()
    if not KEY_PATTERN.match(key) or key == OTHER:
        raise InputError(
            "a theme's key is 1 to 40 lower-case letters, digits and _, a letter first, "
            f"and not {OTHER!r}",
            column="key",
            value=key,
        )
    if session.scalar(select(Theme.id).where(Theme.key == key)) is not None:
        raise InputError("a theme with this key exists already", column="key", value=key)
    now = now or utc_now()
    theme = Theme(
        key=key,
        name_en=_name(name_en, "name_en"),
        name_zh=_name(name_zh, "name_zh"),
        seed_words=_seed_words(seed_words),
        active=active,
        created_at=now,
        updated_at=now,
    )
    session.add(theme)
    session.flush()
    return theme


def update_theme(
    session: Session,
    principal: Principal,
    theme_id: int,
    *,
    name_en: str | None = None,
    name_zh: str | None = None,
    seed_words: Sequence[str] | None = None,
    active: bool | None = None,
    now: datetime | None = None,
) -> Theme:
    """Change a theme's names, seed words or active flag (``feedback:write``). The key stays:
    the tags and corrections refer to the theme. An inactive theme tags no new text; its tags
    stay."""
    require(principal, "feedback:write")
    theme = _theme(session, theme_id)
    if name_en is not None:
        theme.name_en = _name(name_en, "name_en")
    if name_zh is not None:
        theme.name_zh = _name(name_zh, "name_zh")
    if seed_words is not None:
        theme.seed_words = _seed_words(seed_words)
    if active is not None:
        theme.active = active
    theme.updated_at = now or utc_now()
    session.flush()
    return theme


def install_default_themes(session: Session, principal: Principal) -> list[Theme]:
    """Add the themes of :data:`DEFAULT_THEMES` whose key is not in the catalogue yet
    (``feedback:write``); the catalogue afterwards."""
    require(principal, "feedback:write")
    known = set(session.scalars(select(Theme.key)))
    for key, name_en, name_zh, words in DEFAULT_THEMES:
        if key not in known:
            create_theme(
                session, principal, key=key, name_en=name_en, name_zh=name_zh, seed_words=words
            )
    return list_themes(session, principal)


# --- tagging ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaggingRun:
    """What one run of the tagging read and wrote."""

    tickets: int
    answers: int
    tags: int
    corrections_learned: int


@dataclass(frozen=True)
class _NewText:
    target_kind: str
    target_id: int
    customer_id: int | None
    ticket_id: int | None
    text: str
    written_at: datetime


def _ticket_text(subject: str, description: str) -> str:
    return f"{subject}\n{description}".strip()[:TEXT_MAX]


def _last_read(session: Session, kind: str) -> int:
    found = session.scalar(
        select(func.max(ThemeText.target_id)).where(ThemeText.target_kind == kind)
    )
    return int(found or 0)


def _new_tickets(session: Session, limit: int) -> list[_NewText]:
    tickets = tickets_after(session, SYSTEM, _last_read(session, "ticket"), limit=limit)
    return [
        _NewText(
            "ticket",
            t.id,
            t.customer_id,
            t.id,
            _ticket_text(t.subject, t.description),
            t.created_at,
        )
        for t in tickets
    ]


def _new_answers(session: Session, limit: int) -> list[_NewText]:
    """Free-text answers of submitted responses not read yet (an answer of a partial
    response waits until it is submitted, however many answers come after it)."""
    read = select(ThemeText.target_id).where(ThemeText.target_kind == "answer")
    statement = (
        select(
            SurveyAnswer.id,
            SurveyAnswer.text,
            SurveyResponse.customer_id,
            SurveyResponse.ticket_id,
            SurveyResponse.submitted_at,
        )
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(
            SurveyAnswer.text.is_not(None),
            func.length(func.trim(SurveyAnswer.text)) > 0,
            SurveyResponse.status == "submitted",
            SurveyAnswer.id.not_in(read),
        )
        .order_by(SurveyAnswer.id)
        .limit(limit)
    )
    return [
        _NewText(
            "answer",
            int(row.id),
            row.customer_id,
            row.ticket_id,
            str(row.text)[:TEXT_MAX],
            row.submitted_at,
        )
        for row in session.execute(statement)
    ]


def _corrected(session: Session, keys: Mapping[int, str]) -> tuple[list[str], list[str]]:
    """The texts agents have checked and their labels (the main agent theme, or ``other``)."""
    texts: list[str] = []
    labels: list[str] = []
    checked = session.scalars(
        select(ThemeText).where(ThemeText.checked_at.is_not(None)).order_by(ThemeText.id)
    ).all()
    tags = _tags_of(session, [t.id for t in checked])
    for text in checked:
        themes = [tag.theme_id for tag in tags.get(text.id, [])]
        label = next((keys[t] for t in themes if t in keys), None)
        if themes and label is None:
            continue  # corrected to themes that are no longer active: no label to learn
        texts.append(text.text)
        labels.append(label or OTHER)
    return texts, labels


def _tags_of(session: Session, text_ids: Sequence[int]) -> dict[int, list[ThemeTag]]:
    tags: dict[int, list[ThemeTag]] = defaultdict(list)
    for start in range(0, len(text_ids), 1000):
        rows = session.scalars(
            select(ThemeTag)
            .where(ThemeTag.text_id.in_(text_ids[start : start + 1000]))
            .order_by(ThemeTag.text_id, ThemeTag.score.desc(), ThemeTag.id)
        )
        for tag in rows:
            tags[tag.text_id].append(tag)
    return tags


def _model(themes: Sequence[Theme]) -> SeededThemes:
    return SeededThemes({theme.key: list(theme.seed_words) for theme in themes})


def tag_new_texts(
    session: Session, *, now: datetime | None = None, limit: int = BATCH
) -> TaggingRun:
    """Tag the tickets and verbatims not read yet (module docstring), at most ``limit`` of
    each; run by the worker as the system (no caller's scope: every ticket is tagged)."""
    now = now or utc_now()
    themes = list_themes(session, SYSTEM, active_only=True)
    if not themes and session.scalar(select(func.count()).select_from(Theme)) == 0:
        themes = [t for t in install_default_themes(session, SYSTEM) if t.active]
    new = _new_tickets(session, limit) + _new_answers(session, limit)
    if not new:
        return TaggingRun(0, 0, 0, 0)
    rows = [
        ThemeText(
            target_kind=item.target_kind,
            target_id=item.target_id,
            customer_id=item.customer_id,
            ticket_id=item.ticket_id,
            text=item.text,
            written_at=item.written_at,
            tagged_at=now,
        )
        for item in new
    ]
    session.add_all(rows)
    session.flush()
    n_tags = 0
    learned = 0
    if themes:
        keys = {theme.id: theme.key for theme in themes}
        corrected_texts, corrected_labels = _corrected(session, keys)
        learned = len(corrected_texts)
        model = _model(themes).fit(
            corrected_texts + [item.text for item in new],
            labels=[*corrected_labels, *([None] * len(new))],
        )
        offset = len(corrected_texts)
        for i, row in enumerate(rows):
            for j, theme in enumerate(themes):
                if model.membership_[offset + i, j]:
                    session.add(
                        ThemeTag(
                            text_id=row.id,
                            theme_id=theme.id,
                            score=float(model.scores_[offset + i, j]),
                            source="model",
                            tagged_at=now,
                        )
                    )
                    n_tags += 1
        session.flush()
    return TaggingRun(
        tickets=sum(item.target_kind == "ticket" for item in new),
        answers=sum(item.target_kind == "answer" for item in new),
        tags=n_tags,
        corrections_learned=learned,
    )


def theme_tagging_job(context: JobContext) -> None:
    """The worker's periodic tagging: one batch per run (a backlog is worked off run by run)."""
    with context.database.session() as session:
        tag_new_texts(session, now=context.now)


# --- a ticket's tags and their correction -------------------------------------------------------


@dataclass(frozen=True)
class TagView:
    theme_id: int
    key: str
    name_en: str
    name_zh: str
    score: float | None
    source: str
    tagged_by: int | None
    tagged_at: datetime


@dataclass(frozen=True)
class TextTags:
    """A ticket's themes: ``checked`` once an agent corrected them (then kept as they are)."""

    ticket_id: int
    tagged: bool
    checked: bool
    checked_by: int | None
    checked_at: datetime | None
    tags: list[TagView] = field(default_factory=list)


def _ticket_text_row(session: Session, ticket_id: int) -> ThemeText | None:
    return session.scalar(
        select(ThemeText).where(ThemeText.target_kind == "ticket", ThemeText.target_id == ticket_id)
    )


def _view(session: Session, ticket_id: int, text: ThemeText | None) -> TextTags:
    if text is None:
        return TextTags(ticket_id, False, False, None, None)
    themes = {t.id: t for t in session.scalars(select(Theme))}
    tags = [
        TagView(
            tag.theme_id,
            themes[tag.theme_id].key,
            themes[tag.theme_id].name_en,
            themes[tag.theme_id].name_zh,
            tag.score,
            tag.source,
            tag.tagged_by,
            tag.tagged_at,
        )
        for tag in _tags_of(session, [text.id]).get(text.id, [])
    ]
    return TextTags(
        ticket_id, True, text.checked_at is not None, text.checked_by, text.checked_at, tags
    )


def ticket_tags(session: Session, principal: Principal, ticket_id: int) -> TextTags:
    """The ticket's themes, for anyone who may read the ticket (``NotFoundError`` outside the
    caller's scope, as the desk answers)."""
    read_ticket(session, principal, ticket_id)
    return _view(session, ticket_id, _ticket_text_row(session, ticket_id))


def _for_correction(
    session: Session, principal: Principal, ticket_id: int, now: datetime
) -> ThemeText:
    require(principal, "tickets:write")
    ticket = read_ticket(session, principal, ticket_id)
    text = _ticket_text_row(session, ticket_id)
    if text is None:  # corrected before the job read it: the job will not read it again
        text = ThemeText(
            target_kind="ticket",
            target_id=ticket.id,
            customer_id=ticket.customer_id,
            ticket_id=ticket.id,
            text=_ticket_text(ticket.subject, ticket.description),
            written_at=ticket.created_at,
            tagged_at=now,
        )
        session.add(text)
        session.flush()
    text.checked_by = principal.user_id
    text.checked_at = now
    return text


def correct_ticket_tags(
    session: Session,
    principal: Principal,
    ticket_id: int,
    theme_ids: Sequence[int],
    *,
    now: datetime | None = None,
) -> TextTags:
    """Set the ticket's themes to ``theme_ids`` (the first is its main theme; none: the ticket
    is of no theme), as the agent's (``tickets:write``): they replace every tag the model gave,
    and the tagging keeps them (module docstring). An unknown or inactive theme is refused."""
    now = now or utc_now()
    wanted: list[int] = []
    for index, theme_id in enumerate(theme_ids):
        theme = session.get(Theme, theme_id)
        if theme is None or not theme.active:
            raise InputError(
                "no active theme with this id", column=f"theme_ids[{index}]", value=theme_id
            )
        if theme_id not in wanted:
            wanted.append(theme_id)
    text = _for_correction(session, principal, ticket_id, now)
    session.execute(delete(ThemeTag).where(ThemeTag.text_id == text.id))
    for rank, theme_id in enumerate(wanted):
        # The agent's order is kept through the score (1, 0.99, ...): the first is the main one.
        session.add(
            ThemeTag(
                text_id=text.id,
                theme_id=theme_id,
                score=1.0 - rank / 100,
                source="agent",
                tagged_by=principal.user_id,
                tagged_at=now,
            )
        )
    session.flush()
    return _view(session, ticket_id, text)


def remove_ticket_tag(
    session: Session,
    principal: Principal,
    ticket_id: int,
    theme_id: int,
    *,
    now: datetime | None = None,
) -> TextTags:
    """Remove one theme from the ticket (``tickets:write``): the ticket's other themes stay,
    and are now the agent's checked themes (the removal is kept: no run adds it back)."""
    now = now or utc_now()
    text = _for_correction(session, principal, ticket_id, now)
    tags = _tags_of(session, [text.id]).get(text.id, [])
    if not any(tag.theme_id == theme_id for tag in tags):
        raise NotFoundError(f"ticket {ticket_id} has no theme {theme_id}")
    for tag in tags:
        if tag.theme_id == theme_id:
            session.delete(tag)
        else:
            tag.source = "agent"
            tag.tagged_by = principal.user_id
            tag.tagged_at = now
    session.flush()
    return _view(session, ticket_id, text)


# --- discovery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeSuggestion:
    """A theme found without seeds among the untagged texts: its words and example texts."""

    words: list[str]
    n: int
    examples: list[str]


def _month_start(now: datetime, months_back: int) -> datetime:
    year, month = now.year, now.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return datetime(year, month, 1, tzinfo=UTC)


def suggest_themes(
    session: Session,
    principal: Principal,
    *,
    months: int = 3,
    n_themes: int = 6,
    now: datetime | None = None,
) -> list[ThemeSuggestion]:
    """Themes to name (``feedback:read``): :class:`~kehu.analytics.themes.ThemeDiscovery` on the
    texts of the last ``months`` months that have no theme (model or agent), largest first.
    Fewer such texts than twice ``n_themes``: nothing to suggest (an empty list)."""
    require(principal, "feedback:read")
    if not 1 <= months <= 36:
        raise InputError("months must be 1 to 36", column="months", value=months)
    if not 2 <= n_themes <= 20:
        raise InputError("n_themes must be 2 to 20", column="n_themes", value=n_themes)
    since = _month_start(now or utc_now(), months - 1)
    tagged = select(ThemeTag.text_id)
    texts = list(
        session.scalars(
            select(ThemeText.text)
            .where(ThemeText.written_at >= since, ThemeText.id.not_in(tagged))
            .order_by(ThemeText.id)
        )
    )
    usable = [t for t in texts if tokenize(t)]
    if len(usable) < 2 * n_themes:
        return []
    try:
        discovery = ThemeDiscovery(n_themes, min_df=2).fit(usable)
    except InputError:  # too few shared words for so many themes
        return []
    words = discovery.top_words()
    suggestions = []
    for j, name in enumerate(discovery.theme_names_):
        members = np.flatnonzero(discovery.membership_[:, j])
        ranked = members[np.argsort(-discovery.shares_[members, j], kind="stable")]
        suggestions.append(
            ThemeSuggestion(words[name], len(members), [usable[i] for i in ranked[:3]])
        )
    suggestions.sort(key=lambda s: -s.n)
    return [s for s in suggestions if s.n > 0]


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    target_kind: str
    target_id: int
    ticket_id: int | None
    text: str


@dataclass(frozen=True)
class ThemeResult:
    """A theme's figures: the analytics' summary (counts per month and value tier, trend,
    outcome gaps), its counts per RFM segment, and its example texts."""

    theme: Theme
    summary: ThemeSummary
    by_rfm_segment: dict[Any, int]
    examples: list[Example]


@dataclass(frozen=True)
class ThemeResults:
    n_texts: int
    months: list[str]
    themes: list[ThemeResult]
    #: the themes ranked by what they cost (rank_by_outcome), per outcome with a gap
    ranked: dict[str, list[str]]


OUTCOMES = ("csat", "nps", "repeat")
#: How many example texts a theme shows, from how many of its best-scoring candidates.
N_EXAMPLES = 3
EXAMPLE_CANDIDATES = 12


def _may_quote(session: Session, principal: Principal, text: ThemeText) -> bool:
    """A ticket's text is quoted only to whoever may read the ticket (the desk's scope: an
    agent sees their teams' tickets); the counts and gaps include every text."""
    if text.target_kind != "ticket":
        return True
    try:
        read_ticket(session, principal, text.target_id)
    except NotFoundError:
        return False
    return True


def _months(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


@dataclass
class _Scores:
    by_response: dict[int, dict[str, float]]
    by_ticket: dict[int, list[int]]
    by_customer: dict[int, list[int]]


def _survey_scores(session: Session) -> _Scores:
    """Each submitted response's CSAT and NPS answers (the mean of its ``csat`` and of its
    ``nps`` questions), and the responses of each ticket and customer."""
    kinds: dict[int, dict[str, str]] = {}
    for version in session.scalars(select(SurveyVersion)):
        kinds[version.id] = {
            q.id: q.type for q in definition_of(version).questions if q.type in ("csat", "nps")
        }
    statement = (
        select(
            SurveyResponse.id,
            SurveyResponse.survey_version_id,
            SurveyResponse.ticket_id,
            SurveyResponse.customer_id,
            SurveyAnswer.question_id,
            SurveyAnswer.number,
        )
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .where(SurveyResponse.status == "submitted", SurveyAnswer.number.is_not(None))
    )
    values: dict[int, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    scores = _Scores({}, defaultdict(list), defaultdict(list))
    seen: set[int] = set()
    for row in session.execute(statement):
        kind = kinds.get(row.survey_version_id, {}).get(row.question_id)
        if kind is None:
            continue
        values[row.id][kind].append(float(row.number))
        if row.id not in seen:
            seen.add(row.id)
            if row.ticket_id is not None:
                scores.by_ticket[row.ticket_id].append(row.id)
            if row.customer_id is not None:
                scores.by_customer[row.customer_id].append(row.id)
    scores.by_response = {
        rid: {kind: float(np.mean(v)) for kind, v in answers.items()}
        for rid, answers in values.items()
    }
    return scores


def _mean_of(scores: _Scores, responses: Iterable[int], kind: str) -> float:
    found = [scores.by_response[r][kind] for r in responses if kind in scores.by_response[r]]
    return float(np.mean(found)) if found else float("nan")


def theme_results(
    session: Session,
    principal: Principal,
    *,
    months: int = 12,
    now: datetime | None = None,
    settings: Settings,
) -> ThemeResults | None:
    """The themes of the texts written in the last ``months`` months (``feedback:read``;
    module docstring), or ``None`` without themes or texts."""
    require(principal, "feedback:read")
    if not 1 <= months <= 60:
        raise InputError("months must be 1 to 60", column="months", value=months)
    now = now or utc_now()
    since = _month_start(now, months - 1)
    themes = list_themes(session, principal)
    texts = list(
        session.scalars(
            select(ThemeText).where(ThemeText.written_at >= since).order_by(ThemeText.id)
        )
    )
    if not themes or not texts:
        return None
    column = {theme.id: j for j, theme in enumerate(themes)}
    membership = np.zeros((len(texts), len(themes)), dtype=bool)
    score = np.zeros((len(texts), len(themes)))
    tags = _tags_of(session, [t.id for t in texts])
    for i, text in enumerate(texts):
        for tag in tags.get(text.id, []):
            membership[i, column[tag.theme_id]] = True
            score[i, column[tag.theme_id]] = 1.0 if tag.score is None else tag.score
    timezone = settings.reporting_timezone
    periods = [reporting_month(t.written_at, timezone) for t in texts]
    order = _months(min(periods), max(periods))
    segments = customer_segments(
        session, principal, [t.customer_id for t in texts if t.customer_id is not None]
    )

    def segment_of(text: ThemeText, attribute: str) -> Any:
        found = segments.get(text.customer_id) if text.customer_id is not None else None
        return None if found is None else getattr(found, attribute)

    surveys = _survey_scores(session)
    response_of_answer = {
        int(row.id): int(row.response_id)
        for row in session.execute(
            select(SurveyAnswer.id, SurveyAnswer.response_id).where(
                SurveyAnswer.id.in_([t.target_id for t in texts if t.target_kind == "answer"])
            )
        )
    }
    repeat = {
        f.ticket_id: float(f.is_repeat)
        for f in effort_tickets(
            session, principal, since=since - timedelta(days=1), settings=settings
        )
    }
    outcomes: dict[str, list[float]] = {name: [] for name in OUTCOMES}
    for text in texts:
        if text.target_kind == "answer" and text.target_id in response_of_answer:
            responses: list[int] = [response_of_answer[text.target_id]]
        elif text.ticket_id is not None and surveys.by_ticket.get(text.ticket_id):
            responses = surveys.by_ticket[text.ticket_id]
        elif text.customer_id is not None:
            responses = surveys.by_customer.get(text.customer_id, [])
        else:
            responses = []
        responses = [r for r in responses if r in surveys.by_response]
        outcomes["csat"].append(_mean_of(surveys, responses, "csat"))
        outcomes["nps"].append(_mean_of(surveys, responses, "nps"))
        ticket = text.ticket_id
        outcomes["repeat"].append(repeat.get(ticket, float("nan")) if ticket else float("nan"))
    present = {name: values for name, values in outcomes.items() if np.isfinite(values).sum() >= 2}
    keys = [theme.key for theme in themes]
    labels: list[str | None] = []
    for text in texts:
        if text.checked_at is None:
            labels.append(None)
        else:
            agent = [keys[column[tag.theme_id]] for tag in tags.get(text.id, [])]
            labels.append(agent[0] if agent else OTHER)
    words = _model(themes).fit([t.text for t in texts], labels=labels).top_words()
    ids = list(range(len(texts)))
    # A theme first seen in the last months has an unbounded trend: its interval's upper end
    # overflows to infinity (numpy warns), which the pages show as unbounded.
    with np.errstate(over="ignore"):
        summaries = summarise_themes(
            membership,
            keys,
            scores=score,
            words=words,
            ids=ids,
            periods=periods,
            period_order=order,
            segments=[segment_of(t, "value_tier") for t in texts],
            outcomes=present,
            n_examples=EXAMPLE_CANDIDATES,
        )
    by_rfm = summarise_themes(
        membership, keys, ids=ids, segments=[segment_of(t, "rfm_segment") for t in texts]
    )
    results = []
    by_row: dict[Any, ThemeText] = dict(enumerate(texts))
    for theme, summary, rfm in zip(themes, summaries, by_rfm, strict=True):
        examples: list[Example] = []
        for index in summary.examples:
            text = by_row[index]  # the ids are the rows
            if len(examples) < N_EXAMPLES and _may_quote(session, principal, text):
                examples.append(
                    Example(text.target_kind, text.target_id, text.ticket_id, text.text)
                )
        results.append(ThemeResult(theme, summary, rfm.by_segment, examples))
    ranked: dict[str, list[str]] = {}
    for name in present:
        try:
            order_of = rank_by_outcome(summaries, name, higher_is_better=name != "repeat")
        except InputError:
            continue
        ranked[name] = [s.theme for s in order_of if name in s.outcomes]
    return ThemeResults(len(texts), order, results, ranked)

"""Complaint themes (the feedback domain, :mod:`kehu.feedback.themes`): the catalogue, a
ticket's themes and their correction, suggested new themes and the themes' results.

Reading the catalogue, the suggestions and the results needs ``feedback:read``; changing the
catalogue ``feedback:write`` (managers). A ticket's themes are read with the ticket (in the
caller's scope, else 404) and corrected with ``tickets:write``: the agent's themes replace the
model's and the tagging keeps them. See docs/complaint-themes.md.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, status
from pydantic import BaseModel, ConfigDict, Field

from kehu.analytics.themes import OutcomeGap, ThemeTrend
from kehu.core.auth import Principal
from kehu.feedback import themes
from kehu.http.deps import AppSettings, CurrentPrincipal, DbSession
from kehu.http.deps import require_permission as permission
from kehu.store.bounds import Id

router = APIRouter(tags=["themes"])

Reader = Annotated[Principal, Depends(permission("feedback:read"))]
Editor = Annotated[Principal, Depends(permission("feedback:write"))]
TicketWriter = Annotated[Principal, Depends(permission("tickets:write"))]
SeedWords = Annotated[list[str], Field(min_length=1, max_length=themes.MAX_SEEDS)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ThemeIn(_In):
    key: str = Field(min_length=1, max_length=40)
    name_en: str = Field(min_length=1, max_length=themes.NAME_MAX)
    name_zh: str = Field(min_length=1, max_length=themes.NAME_MAX)
    seed_words: SeedWords
    active: bool = True


class ThemeChange(_In):
    name_en: str | None = Field(default=None, min_length=1, max_length=themes.NAME_MAX)
    name_zh: str | None = Field(default=None, min_length=1, max_length=themes.NAME_MAX)
    seed_words: SeedWords | None = None
    active: bool | None = None


class ThemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name_en: str
    name_zh: str
    seed_words: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class TagOut(BaseModel):
    theme_id: int
    key: str
    name_en: str
    name_zh: str
    score: float | None
    source: str
    tagged_by: int | None
    tagged_at: datetime


class TicketThemesOut(BaseModel):
    ticket_id: int
    tagged: bool = Field(description="the tagging (or an agent) has read the ticket")
    checked: bool = Field(description="an agent corrected the themes: they are kept as they are")
    checked_by: int | None
    checked_at: datetime | None
    tags: list[TagOut]


class TicketThemesIn(_In):
    theme_ids: list[Id] = Field(
        max_length=20, description="the ticket's themes, its main one first; [] for none"
    )


class SuggestionOut(BaseModel):
    words: list[str]
    n: int
    examples: list[str]


class Interval(BaseModel):
    estimate: float | None
    low: float | None
    high: float | None


class GapOut(Interval):
    p_value: float | None
    mean_with: float | None
    mean_without: float | None
    n_with: int
    n_without: int
    impact: float | None
    small_sample: bool


class ExampleOut(BaseModel):
    target_kind: str
    target_id: int
    ticket_id: int | None
    text: str


class ThemeResultOut(BaseModel):
    theme: ThemeOut
    n: int
    share: float
    words: list[str]
    by_month: dict[str, int]
    by_value_tier: dict[str, int]
    by_rfm_segment: dict[str, int]
    trend: Interval | None
    outcomes: dict[str, GapOut]
    examples: list[ExampleOut]


class ThemeResultsOut(BaseModel):
    n_texts: int
    months: list[str]
    themes: list[ThemeResultOut]
    ranked: dict[str, list[str]] = Field(
        description="per outcome (csat, nps, repeat): the theme keys, the costliest first"
    )


def _finite(value: float) -> float | None:
    """JSON has no infinity: an unbounded end (or an undefined figure) is null."""
    return value if math.isfinite(value) else None


def _trend(trend: ThemeTrend | None) -> Interval | None:
    if trend is None:
        return None
    return Interval(
        estimate=_finite(trend.estimate), low=_finite(trend.low), high=_finite(trend.high)
    )


def _gap(gap: OutcomeGap) -> GapOut:
    return GapOut(
        estimate=_finite(gap.difference),
        low=_finite(gap.low),
        high=_finite(gap.high),
        p_value=_finite(gap.p_value),
        mean_with=_finite(gap.mean_with),
        mean_without=_finite(gap.mean_without),
        n_with=gap.n_with,
        n_without=gap.n_without,
        impact=_finite(gap.impact),
        small_sample=gap.small_sample,
    )


def _keyed(counts: dict[Any, int]) -> dict[str, int]:
    return {str(key): value for key, value in counts.items()}


def _result_out(result: themes.ThemeResult) -> ThemeResultOut:
    summary = result.summary
    return ThemeResultOut(
        theme=ThemeOut.model_validate(result.theme),
        n=summary.n,
        share=summary.share,
        words=summary.words,
        by_month=_keyed(summary.by_period),
        by_value_tier=_keyed(summary.by_segment),
        by_rfm_segment=_keyed(result.by_rfm_segment),
        trend=_trend(summary.trend),
        outcomes={name: _gap(gap) for name, gap in summary.outcomes.items()},
        examples=[ExampleOut(**vars(e)) for e in result.examples],
    )


def _tags_out(view: themes.TextTags) -> TicketThemesOut:
    return TicketThemesOut(
        ticket_id=view.ticket_id,
        tagged=view.tagged,
        checked=view.checked,
        checked_by=view.checked_by,
        checked_at=view.checked_at,
        tags=[TagOut(**vars(tag)) for tag in view.tags],
    )


@router.get("/api/themes", summary="The theme catalogue")
def list_themes(session: DbSession, principal: Reader) -> list[ThemeOut]:
    return [ThemeOut.model_validate(t) for t in themes.list_themes(session, principal)]


@router.post("/api/themes", status_code=status.HTTP_201_CREATED, summary="Add a theme")
def create_theme(body: ThemeIn, session: DbSession, principal: Editor) -> ThemeOut:
    theme = themes.create_theme(session, principal, **body.model_dump())
    return ThemeOut.model_validate(theme)


@router.post("/api/themes/defaults", summary="Add the default themes missing from the catalogue")
def install_default_themes(session: DbSession, principal: Editor) -> list[ThemeOut]:
    return [ThemeOut.model_validate(t) for t in themes.install_default_themes(session, principal)]


@router.get("/api/themes/results", summary="Per theme: counts, trend and CSAT, NPS, repeat gaps")
def theme_results(
    session: DbSession,
    principal: Reader,
    settings: AppSettings,
    months: Annotated[int, Query(ge=1, le=60)] = 12,
) -> ThemeResultsOut | None:
    results = themes.theme_results(session, principal, months=months, settings=settings)
    if results is None:
        return None
    return ThemeResultsOut(
        n_texts=results.n_texts,
        months=results.months,
        themes=[_result_out(r) for r in results.themes],
        ranked=results.ranked,
    )


@router.get("/api/themes/suggestions", summary="Themes found among the untagged texts")
def suggest_themes(
    session: DbSession,
    principal: Reader,
    months: Annotated[int, Query(ge=1, le=36)] = 3,
    n_themes: Annotated[int, Query(ge=2, le=20)] = 6,
) -> list[SuggestionOut]:
    found = themes.suggest_themes(session, principal, months=months, n_themes=n_themes)
    return [SuggestionOut(**vars(s)) for s in found]


@router.patch("/api/themes/{theme_id}", summary="Change a theme's names, seed words or flag")
def update_theme(
    theme_id: Id, body: ThemeChange, session: DbSession, principal: Editor
) -> ThemeOut:
    theme = themes.update_theme(session, principal, theme_id, **body.model_dump(exclude_unset=True))
    return ThemeOut.model_validate(theme)


@router.get("/api/tickets/{ticket_id}/themes", summary="A ticket's themes")
def ticket_themes(
    ticket_id: Id, session: DbSession, principal: CurrentPrincipal
) -> TicketThemesOut:
    return _tags_out(themes.ticket_tags(session, principal, ticket_id))


@router.put("/api/tickets/{ticket_id}/themes", summary="Correct a ticket's themes (kept)")
def correct_ticket_themes(
    ticket_id: Id, body: TicketThemesIn, session: DbSession, principal: TicketWriter
) -> TicketThemesOut:
    view = themes.correct_ticket_tags(session, principal, ticket_id, body.theme_ids)
    return _tags_out(view)


@router.delete("/api/tickets/{ticket_id}/themes/{theme_id}", summary="Remove a ticket's theme")
def remove_ticket_theme(
    ticket_id: Id, theme_id: Id, session: DbSession, principal: TicketWriter
) -> TicketThemesOut:
    return _tags_out(themes.remove_ticket_tag(session, principal, ticket_id, theme_id))

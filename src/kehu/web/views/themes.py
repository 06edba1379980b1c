"""The complaint themes page (``/feedback/themes``): which problems cost the most satisfaction
(the themes ranked by their CSAT cost, then NPS, then by how many texts have them), each with
its count and share, its trend per month with its interval, its CSAT, NPS and repeat-contact
gaps with their intervals and n, its words and example texts; the catalogue (managers edit it);
and, on request, themes suggested from the texts no theme covers. Everything is read through
the feedback domain's use cases (:mod:`kehu.feedback.themes`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.themes import OutcomeGap
from kehu.analytics.tiers import TIER_NAMES
from kehu.core.auth import require
from kehu.feedback import themes
from kehu.store.bounds import Id
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage
from kehu.web.views.ticket_themes import theme_name

__all__ = ["router"]

router = APIRouter()

#: The periods offered (months back from now).
PERIODS = (3, 6, 12, 24)
DEFAULT_MONTHS = 12
#: The outcomes in the order the ranking uses them: the first with gaps orders the list.
RANK_ORDER = ("csat", "nps", "repeat")
EXAMPLE_CHARS = 160

Csrf = Annotated[str | None, Form(max_length=200)]
Text = Annotated[str, Form(max_length=200)]
Words = Annotated[str, Form(max_length=4000)]


@dataclass(frozen=True)
class GapView:
    difference: str
    interval: str
    n: str
    small_sample: bool
    worse: bool


@dataclass(frozen=True)
class RowView:
    key: str
    name: str
    n: int
    share: str
    trend: str
    trend_interval: str
    gaps: dict[str, GapView]
    words: list[str]
    by_month: list[tuple[str, int]]
    by_tier: list[tuple[str, int]]
    by_rfm: list[tuple[str, int]]
    examples: list[themes.Example]


def _bound(page: Page, value: float, percent: bool) -> str:
    if not math.isfinite(value):
        return "∞" if value > 0 else "−∞"
    if percent:
        return page.translator.format_percent(value, 0)
    return page.translator.format_number(value, 2)


def _gap(page: Page, gap: OutcomeGap, higher_is_better: bool) -> GapView:
    return GapView(
        difference=_bound(page, gap.difference, False),
        interval=f"[{_bound(page, gap.low, False)}, {_bound(page, gap.high, False)}]",
        n=page._(
            "n = %(n_with)s with, %(n_without)s without", n_with=gap.n_with, n_without=gap.n_without
        ),
        small_sample=gap.small_sample,
        worse=(gap.high < 0) if higher_is_better else (gap.low > 0),
    )


def _rows(page: Page, results: themes.ThemeResults) -> tuple[list[RowView], str | None]:
    by_key = {r.theme.key: r for r in results.themes}
    ranked_by = next((name for name in RANK_ORDER if results.ranked.get(name)), None)
    order = list(results.ranked.get(ranked_by, [])) if ranked_by else []
    rest = sorted((k for k in by_key if k not in order), key=lambda k: -by_key[k].summary.n)
    rows = []
    for key in order + rest:
        result = by_key[key]
        summary = result.summary
        if summary.n == 0 and not result.theme.active:
            continue
        trend = summary.trend
        rows.append(
            RowView(
                key=key,
                name=theme_name(page, result.theme.name_en, result.theme.name_zh),
                n=summary.n,
                share=page.translator.format_percent(summary.share, 1),
                trend="" if trend is None else _bound(page, trend.estimate, True),
                trend_interval=""
                if trend is None
                else f"[{_bound(page, trend.low, True)}, {_bound(page, trend.high, True)}]",
                gaps={
                    name: _gap(page, gap, name != "repeat")
                    for name, gap in summary.outcomes.items()
                },
                words=summary.words,
                by_month=[(str(k), v) for k, v in summary.by_period.items()],
                by_tier=[
                    (page.translator.display_name(TIER_NAMES.get(str(k)), str(k)), v)
                    for k, v in summary.by_segment.items()
                ],
                by_rfm=[
                    (page.translator.display_name(SEGMENT_NAMES.get(str(k)), str(k)), v)
                    for k, v in result.by_rfm_segment.items()
                ],
                examples=[
                    themes.Example(e.target_kind, e.target_id, e.ticket_id, e.text[:EXAMPLE_CHARS])
                    for e in result.examples
                ],
            )
        )
    return rows, ranked_by


@router.get("/feedback/themes", name="web_feedback_themes")
def themes_page(
    page: StaffPage,
    session: SessionDep,
    months: Annotated[int, Query(ge=1, le=60)] = DEFAULT_MONTHS,
    suggest: Annotated[int, Query(ge=0, le=1)] = 0,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None  # a StaffPage has one
    require(principal, "feedback:read")
    catalogue = themes.list_themes(session, principal)
    results = themes.theme_results(session, principal, months=months, settings=page.settings)
    rows, ranked_by = _rows(page, results) if results is not None else ([], None)
    suggestions = themes.suggest_themes(session, principal) if suggest else None
    _ = page._
    notices = {
        "created": _("The theme was added. The tagging uses it for new texts."),
        "changed": _("The theme was changed. The tagging uses it for new texts."),
        "defaults": _("The default themes were added."),
    }
    context: dict[str, Any] = {
        "catalogue": [
            (t, theme_name(page, t.name_en, t.name_zh), ", ".join(t.seed_words)) for t in catalogue
        ],
        "can_edit": principal.can("feedback:write"),
        "results": results,
        "rows": rows,
        "ranked_by": ranked_by,
        "months": months,
        "periods": PERIODS,
        "suggestions": suggestions,
        "notice": notices.get(done),
    }
    return page.render("feedback/themes_index.html", context, active="themes")


def _words(text: str) -> list[str]:
    """Seed words as typed: one per line or separated by commas (both widths)."""
    return [w.strip() for w in text.replace("，", ",").replace("\n", ",").split(",") if w.strip()]


def _back(page: Page, done: str) -> Response:
    target = page.request.url_for("web_feedback_themes").path
    return RedirectResponse(f"{target}?done={done}#catalogue", status_code=303)


@router.post("/feedback/themes", name="web_feedback_theme_create")
def post_create_theme(
    page: StaffPage,
    session: SessionDep,
    key: Annotated[str, Form(max_length=40)] = "",
    name_en: Text = "",
    name_zh: Text = "",
    seed_words: Words = "",
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    assert page.principal is not None
    themes.create_theme(
        session,
        page.principal,
        key=key,
        name_en=name_en,
        name_zh=name_zh,
        seed_words=_words(seed_words),
    )
    return _back(page, "created")


@router.post("/feedback/themes/defaults", name="web_feedback_theme_defaults")
def post_default_themes(page: StaffPage, session: SessionDep, csrf_token: Csrf = None) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    assert page.principal is not None
    themes.install_default_themes(session, page.principal)
    return _back(page, "defaults")


@router.post("/feedback/themes/{theme_id}", name="web_feedback_theme_update")
def post_update_theme(
    page: StaffPage,
    session: SessionDep,
    theme_id: Id,
    name_en: Text = "",
    name_zh: Text = "",
    seed_words: Words = "",
    active: Annotated[str, Form(max_length=5)] = "",
    csrf_token: Csrf = None,
) -> Response:
    if not page.csrf_ok(csrf_token):
        return page.expired_form()
    assert page.principal is not None
    themes.update_theme(
        session,
        page.principal,
        theme_id,
        name_en=name_en,
        name_zh=name_zh,
        seed_words=_words(seed_words),
        active=active == "on",
    )
    return _back(page, "changed")

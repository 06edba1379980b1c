"""The results pages: /feedback/results (the surveys, each with a link to its results) and
/surveys/{id}/results (one survey's scores with their intervals and n, the trend by month
with its interval band, the SERVQUAL gaps per dimension, the key drivers and the
importance-performance quadrant, the satisfaction index of an ECSI survey, the competitor
value map), with a group-by selector and a period filter. Everything is computed on read by
:mod:`kehu.feedback.results`; what the analytics refuse (too few responses, a constant or
collinear driver...) is shown as its message where the chart would be."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from kehu.analytics.drivers import QUADRANT_NAMES
from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_NAMES
from kehu.core.i18n import N_
from kehu.errors import InputError, KehuError
from kehu.feedback import results
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.surveys import list_surveys
from kehu.report.svg import GuideLine, ScatterPoint, Series, bar_chart, line_chart, scatter_chart
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

__all__ = ["router"]

#: The group-by choices, for the selector (catalog messages).
GROUP_NAMES: dict[str, str] = {
    "segment": N_("RFM segment"),
    "tier": N_("Value tier"),
    "team": N_("Team"),
    "channel": N_("Channel"),
    "month": N_("Month"),
}
STATUS_NAMES: dict[str, str] = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "closed": N_("Closed"),
}
MEASURE_NAMES: dict[str, str] = {
    "nps": N_("Net Promoter Score"),
    "csat": N_("Satisfied (top 2 boxes)"),
    "ces": N_("Customer effort (mean, 1-7)"),
}
#: Bootstrap resamples on the page: enough for intervals to two digits, quick to draw.
PAGE_DRIVER_BOOT = 200
PAGE_MODEL_BOOT = 100
PAGE_VALUE_BOOT = 500


def _problem(page: Page, error: KehuError) -> str:
    return page._("These results cannot be computed: %(reason)s", reason=str(error))


def _attempt(page: Page, compute: Callable[[], Any]) -> tuple[Any, str | None]:
    """``compute()``, or its refusal as the message to show in its place."""
    try:
        return compute(), None
    except KehuError as error:
        return None, _problem(page, error)


def _group_label(page: Page, group_by: str | None, key: str | None) -> str:
    if key is None:
        return page._("All responses")
    if group_by == "segment":
        return page.translator.display_name(SEGMENT_NAMES.get(key), key)
    if group_by == "tier":
        return page.translator.display_name(TIER_NAMES.get(key), key)
    return key


def _question_label(definition: SurveyDefinition, language: str, column: str) -> str:
    question_id, _, part = column.partition(".")
    question = definition.question(question_id)
    if question is None:
        return column
    text = question.text.in_language(language)
    short = text if len(text) <= 48 else text[:46] + "…"
    return short if not part or part == "perception" else f"{short} ({part})"


def _dimension_name(definition: SurveyDefinition, language: str, dimension: str) -> str:
    for d in definition.dimensions:
        if d.id == dimension:
            return d.name.in_language(language)
    return dimension


def _format(page: Page, measure: str) -> Callable[[float], str]:
    translator = page.translator
    if measure == "csat":
        return lambda v: translator.format_percent(v, 0)
    if measure == "nps":
        return lambda v: translator.format_number(v, 0)
    return lambda v: translator.format_number(v, 2)


def _trend_chart(page: Page, rows: list[results.ScoreRow], measure: str, title: str) -> Markup:
    _ = page._
    months = [r.group or "" for r in rows]
    x = list(range(len(rows)))
    svg = line_chart(
        [
            Series(
                title,
                x,
                [r.estimate for r in rows],
                low=[r.low for r in rows],
                high=[r.high for r in rows],
            )
        ],
        title=title,
        x_label=_("Month: %(first)s to %(last)s", first=months[0], last=months[-1]),
        y_label=_("Score with its interval"),
        x_format=lambda v: months[int(v)] if float(v).is_integer() and 0 <= v < len(months) else "",
        y_format=_format(page, measure),
        y_range=(0.0, 1.0) if measure == "csat" else None,
        width=720,
        height=340,
    )
    return Markup(svg)


def _score_context(
    page: Page, data: results.ResultData, options: results.ResultOptions
) -> dict[str, Any]:
    rows, problem = _attempt(page, lambda: results.score_rows(data, options))
    trends = []
    by_month, _trend_problem = _attempt(
        page, lambda: results.score_rows(data, options, group_by="month")
    )
    for question_id, measure in results.score_questions(data.definition):
        monthly = [r for r in by_month or [] if r.question_id == question_id and r.group]
        if len(monthly) >= 2:
            title = page._(MEASURE_NAMES[measure])
            label = _question_label(data.definition, page.translator.code, question_id)
            trends.append(_trend_chart(page, monthly, measure, f"{title} · {label}"))
    change = None
    nps_questions = [q for q, m in results.score_questions(data.definition) if m == "nps"]
    months = sorted({m for m in data.groups["month"] if m})
    if nps_questions and len(months) >= 2:
        earlier, later = months[-2], months[-1]
        change, change_problem = _attempt(
            page,
            lambda: results.nps_change_between(
                data, nps_questions[0], _month_span(earlier), _month_span(later), options
            ),
        )
        change = {"result": change, "problem": change_problem, "earlier": earlier, "later": later}
    return {"scores": rows or [], "scores_problem": problem, "trends": trends, "change": change}


def _month_span(month: str) -> tuple[date, date]:
    year, number = (int(part) for part in month.split("-"))
    start = date(year, number, 1)
    end = date(year + number // 12, number % 12 + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def _gap_context(
    page: Page, data: results.ResultData, options: results.ResultOptions
) -> dict[str, Any]:
    language = page.translator.code
    rows, problem = _attempt(page, lambda: results.servqual_rows(data, options))
    chart = None
    if rows:
        dimensions = [r for r in rows if r.level_of == "dimension" and r.group is None]
        names = list(dict.fromkeys(r.name for r in dimensions))
        unweighted = {r.name: r.estimate for r in dimensions if not r.weighted}
        weighted = {r.name: r.estimate for r in dimensions if r.weighted}
        groups = {page._("Gap (perception minus expectation)"): [unweighted[n] for n in names]}
        if weighted:
            groups[page._("Weighted by importance")] = [weighted.get(n, math.nan) for n in names]
        chart = Markup(
            bar_chart(
                [_dimension_name(data.definition, language, n) for n in names],
                groups,
                title=page._("SERVQUAL gap per dimension"),
                x_label=page._("Dimension"),
                y_label=page._("Gap in scale points"),
                y_format=lambda v: page.translator.format_number(v, 1),
                value_format=lambda v: page.translator.format_number(v, 2),
                width=720,
                height=340,
            )
        )
    return {
        "gaps": rows or [],
        "gaps_problem": problem,
        "gap_chart": chart,
        "dimension_name": lambda n: _dimension_name(data.definition, language, n),
    }


def _driver_context(page: Page, data: results.ResultData, options: results.ResultOptions) -> Any:
    _ = page._
    language = page.translator.code
    found, problem = _attempt(
        page, lambda: results.driver_results(data, options, n_boot=PAGE_DRIVER_BOOT)
    )
    context: dict[str, Any] = {"drivers": found, "drivers_problem": problem}
    if found is None:
        return context

    def label(column: str) -> str:
        return _question_label(data.definition, language, column)

    summary = found.relative_weights
    names = [d["name"] for d in summary["drivers"]]
    # charts name the drivers by their number in the table (long questions do not fit)
    number = {name: str(i) for i, name in enumerate(names, start=1)}
    groups = {_("Relative weights"): [d["share"] for d in summary["drivers"]]}
    if found.shapley is not None:
        shapley = {d["name"]: d["share"] for d in found.shapley["drivers"]}
        groups[_("Shapley value")] = [shapley[n] for n in names]
    context["driver_chart"] = Markup(
        bar_chart(
            [number[n] for n in names],
            groups,
            title=_("What drives %(outcome)s", outcome=label(found.outcome)),
            x_label=_("Driver (number in the table)"),
            y_label=_("Share of explained variance (%%)"),
            value_format=lambda v: page.translator.format_number(v, 0),
            width=max(720, 60 * len(names)),
            height=360,
        )
    )
    shapley_rows = {d["name"]: d for d in (found.shapley or {}).get("drivers", [])}
    context["driver_rows"] = [
        {**d, "number": number[d["name"]], "label": label(d["name"]),
         "shapley": shapley_rows.get(d["name"])}
        for d in summary["drivers"]
    ]  # fmt: skip

    def quadrant_name(key: str) -> str:
        return page.translator.display_name(QUADRANT_NAMES.get(key), key)

    crossing = (found.importance_boundary, found.performance_boundary)
    context["quadrant_chart"] = Markup(
        scatter_chart(
            [
                ScatterPoint(
                    row["importance"],
                    row["performance"],
                    number[row["name"]],
                    quadrant_name(row["quadrant"]),
                )
                for row in found.matrix
            ],
            title=_("Importance and performance"),
            x_label=_("Importance (share of explained variance, %%)"),
            y_label=_("Performance (mean score)"),
            guides=[
                GuideLine(*crossing, crossing[0], crossing[1] + 1),
                GuideLine(*crossing, crossing[0] + 1, crossing[1]),
            ],
        )
    )
    context["quadrant_rows"] = [
        {
            **row,
            "number": number[row["name"]],
            "label": label(row["name"]),
            "quadrant_name": quadrant_name(row["quadrant"]),
        }
        for row in sorted(found.matrix, key=lambda row: int(number[row["name"]]))
    ]
    context["quadrant_rule"] = _(
        "Importance is high from %(importance)s (the mean share of the %(n)s drivers); "
        "performance is high from %(performance)s (their mean score). High importance and low "
        "performance: concentrate here; high and high: keep up the good work; low and low: low "
        "priority; low importance and high performance: possible overkill. A value on a line "
        "counts as high.",
        importance=page.translator.format_number(found.importance_boundary, 1),
        n=len(found.matrix),
        performance=page.translator.format_number(found.performance_boundary, 2),
    )
    return context


def _model_context(page: Page, data: results.ResultData) -> dict[str, Any]:
    _ = page._
    language = page.translator.code
    model, problem = _attempt(
        page, lambda: results.satisfaction_model(data, n_boot=PAGE_MODEL_BOOT)
    )
    context: dict[str, Any] = {"model": model, "model_problem": problem}
    if model is not None:
        context["construct_name"] = lambda c: _dimension_name(data.definition, language, c)
        context["model_chart"] = Markup(
            scatter_chart(
                [
                    ScatterPoint(
                        row["importance"],
                        row["performance"],
                        _dimension_name(data.definition, language, row["construct"]),
                    )
                    for row in model.importance_performance
                ],
                title=_("Importance and performance for satisfaction"),
                x_label=_("Importance (total effect, index points per point)"),
                y_label=_("Performance (0-100 index)"),
            )
        )
    return context


def _value_context(
    page: Page, data: results.ResultData, options: results.ResultOptions
) -> dict[str, Any]:
    _ = page._
    found, problem = _attempt(
        page, lambda: results.value_results(data, options, n_bootstrap=PAGE_VALUE_BOOT)
    )
    context: dict[str, Any] = {"value": found, "value_problem": problem}
    if found is None:
        return context
    analysis = found.analysis

    def brand_name(brand: str) -> str:
        return _("Us") if brand == analysis.us else brand

    context["brand_name"] = brand_name
    points = list(analysis.points.values())
    if points:
        slope = analysis.fair_value_slope
        context["value_chart"] = Markup(
            scatter_chart(
                [
                    ScatterPoint(
                        p.relative_quality.estimate,
                        p.relative_price.estimate,
                        brand_name(p.brand),
                        brand_name(p.brand),
                    )
                    for p in points
                ],
                title=_("Customer value map"),
                x_label=_("Relative quality (against the average competitor)"),
                y_label=_("Relative price"),
                guides=[GuideLine(1, 1, 2, 1 + slope, _("Fair value"))],
            )
        )
    context["value_points"] = points
    return context


def _options(
    group_by: str | None, since: date | None, until: date | None, min_n: int
) -> results.ResultOptions:
    return results.ResultOptions(
        group_by=group_by,  # type: ignore[arg-type]
        since=since,
        until=until,
        min_n=min_n,
    )


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError("a date is written YYYY-MM-DD", column=field, value=text) from None


def _sections(definition: SurveyDefinition) -> dict[str, bool]:
    kinds = {q.type for q in definition.questions}
    dimensions = {d.id for d in definition.dimensions}
    return {
        "scores": bool(kinds & {"nps", "csat", "ces"}),
        "gaps": "servqual_pair" in kinds,
        "drivers": bool(kinds & {"nps", "csat"}) and len(definition.questions) > 1,
        "model": set(results.ECSI_CONSTRUCTS) <= dimensions,
        "value": "competitor_rating" in kinds,
    }


@router.get("/feedback/results", name="web_feedback_results")
def feedback_results(page: StaffPage, session: SessionDep) -> HTMLResponse:
    """Every survey the caller may read, with a link to its results."""
    principal = page.principal
    assert principal is not None
    return page.render(
        "feedback/results_index.html",
        {"surveys": list_surveys(session, principal), "status_names": STATUS_NAMES},
        active="results",
    )


@router.get("/surveys/{survey_id}/results", name="web_survey_results")
def survey_results(
    page: StaffPage,
    session: SessionDep,
    survey_id: int,
    group_by: Annotated[str, Query(max_length=20)] = "",
    since: Annotated[str, Query(max_length=20)] = "",
    until: Annotated[str, Query(max_length=20)] = "",
    min_n: Annotated[int, Query(ge=1, le=100_000)] = 30,
) -> HTMLResponse:
    """The form sends empty fields for no grouping and an open period: they mean none."""
    principal = page.principal
    assert principal is not None
    filter_problem = None
    grouping = group_by or None
    try:
        options = _options(grouping, _day(since, "since"), _day(until, "until"), min_n)
    except InputError as error:
        filter_problem = str(error)
        options = _options(grouping if grouping in results.GROUPINGS else None, None, None, min_n)
    data = results.load_results(session, principal, survey_id, options)
    sections = _sections(data.definition)
    context: dict[str, Any] = {
        "data": data,
        "options": options,
        "sections": sections,
        "filter_problem": filter_problem,
        "group_names": GROUP_NAMES,
        "measure_names": MEASURE_NAMES,
        "group_label": lambda key: _group_label(page, options.group_by, key),
        "format_score": lambda measure, value: _format(page, measure)(value),
        "question_label": lambda column: _question_label(
            data.definition, page.translator.code, column
        ),
    }
    if sections["scores"]:
        context.update(_score_context(page, data, options))
    if sections["gaps"]:
        context.update(_gap_context(page, data, options))
    if sections["drivers"]:
        context.update(_driver_context(page, data, options))
    if sections["model"]:
        context.update(_model_context(page, data))
    if sections["value"]:
        context.update(_value_context(page, data, options))
    return page.render("feedback/results.html", context, active="results")

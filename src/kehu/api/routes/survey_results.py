"""A survey's results (:mod:`kehu.feedback.results`): the scores with their intervals and n,
the NPS change between two periods, the SERVQUAL gaps, the key drivers and the
importance-performance matrix, the ECSI satisfaction model, the value map; each results table
and the responses themselves as CSV.

Every route reads ``feedback:read``. The common query parameters: ``version`` (default: the
current one), ``group_by`` (segment, tier, team, channel, month), ``since``/``until``
(submission dates, inclusive, UTC), ``min_n`` (below it a sample is flagged ``small_sample``;
default 30), ``level`` (of the intervals; default 0.95). What the analytics cannot estimate
(too few responses, a constant or collinear driver...) is a 422 whose message names the
columns. A number that does not exist (an interval from one answer) is ``null``. See
docs/survey-results.md.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from kehu.analytics.satisfaction import MeanScore
from kehu.analytics.value_map import Estimate
from kehu.core.auth import Principal
from kehu.csv_safety import spreadsheet_csv, text_cell, value_cell
from kehu.feedback import responses, results
from kehu.http.deps import DbSession
from kehu.http.deps import require_permission as permission
from kehu.http.downloads import content_disposition
from kehu.store.bounds import Id

router = APIRouter(tags=["survey results"])

Reader = Annotated[Principal, Depends(permission("feedback:read"))]
GroupBy = Literal["segment", "tier", "team", "channel", "month"]
VersionQuery = Annotated[int | None, Query(ge=1, le=100_000, description="default: current")]
GroupQuery = Annotated[GroupBy | None, Query(description="group the results")]
Since = Annotated[date | None, Query(description="submitted from this date (UTC)")]
Until = Annotated[date | None, Query(description="submitted until this date, inclusive")]
MinN = Annotated[int, Query(ge=1, le=100_000, description="flag samples below this n")]
Level = Annotated[float, Query(ge=0.5, lt=1.0, description="level of the intervals")]
Boot = Annotated[int, Query(ge=0, le=2_000, description="bootstrap resamples (0: none)")]
Seed = Annotated[int, Query(ge=0, le=2**31 - 1, description="the bootstrap's seed")]
QuestionId = Annotated[str, Query(min_length=1, max_length=40)]
Table = Literal["scores", "gaps", "drivers", "model", "value-map"]


def _num(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _options(
    version: int | None, group_by: GroupBy | None, since: date | None, until: date | None,
    min_n: int, level: float,
) -> results.ResultOptions:  # fmt: skip
    return results.ResultOptions(
        survey_version=version, group_by=group_by, since=since, until=until, min_n=min_n,
        level=level,
    )  # fmt: skip


class Common(BaseModel):
    survey_id: int
    survey_version: int
    n_responses: int


class ScoreOut(BaseModel):
    question_id: str
    measure: str
    group: str | None
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    n: int
    small_sample: bool
    method: str


class ScoresOut(Common):
    group_by: str | None
    min_n: int
    scores: list[ScoreOut]


class NPSChangeOut(BaseModel):
    question_id: str
    estimate: float
    low: float
    high: float
    p_value: float
    level: float
    earlier_nps: float
    earlier_n: int
    later_nps: float
    later_n: int
    small_sample: bool
    method: str


class GapOut(BaseModel):
    level_of: str
    name: str
    weighted: bool
    group: str | None
    estimate: float | None
    low: float | None
    high: float | None
    level: float
    n: int
    small_sample: bool


class GapsOut(Common):
    group_by: str | None
    min_n: int
    gaps: list[GapOut]


class DriverOut(BaseModel):
    method: str
    name: str
    share: float | None
    share_low: float | None
    share_high: float | None
    importance: float | None
    rank: int
    vif: float | None
    correlation: float | None
    performance: float | None


class QuadrantOut(BaseModel):
    name: str
    importance: float
    performance: float
    quadrant: str


class DriversOut(Common):
    outcome: str
    n_obs: int
    n_dropped: int
    r_squared: float | None
    r_squared_low: float | None
    r_squared_high: float | None
    drivers: list[DriverOut]
    shapley_problem: str | None
    matrix: list[QuadrantOut]
    quadrant_rule: str
    importance_boundary: float
    performance_boundary: float


class PathOut(BaseModel):
    source: str
    target: str
    estimate: float
    std_error: float | None
    low: float | None
    high: float | None


class ConstructOut(BaseModel):
    name: str
    index: float
    r_squared: float | None
    importance: float | None
    total_effect: float | None


class ModelOut(Common):
    n: int
    n_dropped: int
    n_boot: int
    n_failed: int
    paths: list[PathOut]
    constructs: list[ConstructOut]
    weights: dict[str, float]
    loadings: dict[str, float]


class BrandOut(BaseModel):
    brand: str
    relative_quality: float | None
    relative_quality_low: float | None
    relative_quality_high: float | None
    relative_price: float | None
    relative_price_low: float | None
    relative_price_high: float | None
    relative_value: float | None
    relative_value_low: float | None
    relative_value_high: float | None
    weighted_score: float | None
    fair_price: float | None
    value_advantage: float | None
    position: str | None


class AttributeOut(BaseModel):
    attribute: str
    weight: float
    brand: str
    mean: float | None
    low: float | None
    high: float | None
    n: int


class DeliveredOut(BaseModel):
    measure: str
    estimate: float | None
    low: float | None
    high: float | None
    n: int
    small_sample: bool


class ValueMapOut(Common):
    us: str
    small_sample: bool
    fair_value_slope: float
    brands: list[BrandOut]
    attributes: list[AttributeOut]
    delivered: list[DeliveredOut]


# --- computing (shared by the JSON and CSV routes) ----------------------------------------------


def scores_out(data: results.ResultData, options: results.ResultOptions) -> ScoresOut:
    rows = results.score_rows(data, options)
    return ScoresOut(
        survey_id=data.survey_id,
        survey_version=data.survey_version,
        n_responses=data.n,
        group_by=options.group_by,
        min_n=options.min_n,
        scores=[
            ScoreOut(
                question_id=r.question_id, measure=r.measure, group=r.group,
                estimate=_num(r.estimate), low=_num(r.low), high=_num(r.high), level=r.level,
                n=r.n, small_sample=r.small_sample, method=r.method,
            )
            for r in rows
        ],
    )  # fmt: skip


def gaps_out(data: results.ResultData, options: results.ResultOptions) -> GapsOut:
    return GapsOut(
        survey_id=data.survey_id,
        survey_version=data.survey_version,
        n_responses=data.n,
        group_by=options.group_by,
        min_n=options.min_n,
        gaps=[
            GapOut(
                level_of=g.level_of, name=g.name, weighted=g.weighted, group=g.group,
                estimate=_num(g.estimate), low=_num(g.low), high=_num(g.high), level=g.level,
                n=g.n, small_sample=g.small_sample,
            )
            for g in results.servqual_rows(data, options)
        ],
    )  # fmt: skip


def drivers_out(found: results.DriverResults, data: results.ResultData) -> DriversOut:
    weights = found.relative_weights
    rows = []
    for summary in (found.relative_weights, found.shapley):
        if summary is None:
            continue
        for d in summary["drivers"]:
            rows.append(
                DriverOut(
                    method=summary["method"], name=d["name"], share=_num(d["share"]),
                    share_low=_num(d["share_low"]), share_high=_num(d["share_high"]),
                    importance=_num(d["importance"]), rank=d["rank"], vif=_num(d["vif"]),
                    correlation=_num(d["correlation"]), performance=_num(d["performance"]),
                )
            )  # fmt: skip
    return DriversOut(
        survey_id=data.survey_id,
        survey_version=data.survey_version,
        n_responses=data.n,
        outcome=found.outcome,
        n_obs=weights["n_obs"],
        n_dropped=weights["n_dropped"],
        r_squared=_num(weights["r_squared"]),
        r_squared_low=_num(weights["r_squared_low"]),
        r_squared_high=_num(weights["r_squared_high"]),
        drivers=rows,
        shapley_problem=found.shapley_problem,
        matrix=[QuadrantOut(**row) for row in found.matrix],
        quadrant_rule=found.quadrant_rule,
        importance_boundary=found.importance_boundary,
        performance_boundary=found.performance_boundary,
    )


def model_out(model: results.ModelResults, data: results.ResultData) -> ModelOut:
    ipa = {row["construct"]: row for row in model.importance_performance}
    return ModelOut(
        survey_id=data.survey_id,
        survey_version=data.survey_version,
        n_responses=data.n,
        n=model.n,
        n_dropped=model.n_dropped,
        n_boot=model.n_boot,
        n_failed=model.n_failed,
        paths=[
            PathOut(
                source=p["source"], target=p["target"], estimate=p["estimate"],
                std_error=_num(p["std_error"]), low=_num(p["low"]), high=_num(p["high"]),
            )
            for p in model.paths
        ],
        constructs=[
            ConstructOut(
                name=c, index=model.index[c], r_squared=_num(model.r_squared.get(c, math.nan)),
                importance=_num(ipa[c]["importance"]) if c in ipa else None,
                total_effect=_num(ipa[c]["total_effect"]) if c in ipa else None,
            )
            for c in results.ECSI_CONSTRUCTS
        ],
        weights=model.weights,
        loadings=model.loadings,
    )  # fmt: skip


def _ends(prefix: str, estimate: Estimate | None) -> dict[str, Any]:
    if estimate is None:
        return dict.fromkeys((prefix, f"{prefix}_low", f"{prefix}_high"))
    return {
        prefix: _num(estimate.estimate),
        f"{prefix}_low": _num(estimate.low),
        f"{prefix}_high": _num(estimate.high),
    }


def _mean(measure: str, score: MeanScore) -> DeliveredOut:
    return DeliveredOut(
        measure=measure, estimate=_num(score.estimate), low=_num(score.low),
        high=_num(score.high), n=score.n, small_sample=score.small_sample,
    )  # fmt: skip


def value_map_out(found: results.ValueResults, data: results.ResultData) -> ValueMapOut:
    analysis = found.analysis
    brands = [analysis.us, *analysis.competitors]
    rows = []
    for brand in brands:
        point = analysis.points.get(brand)
        quality = point.relative_quality if point else None
        price = point.relative_price if point else None
        value = point.relative_value if point else None
        rows.append(
            BrandOut(
                brand=brand,
                **_ends("relative_quality", quality),
                **_ends("relative_price", price),
                **_ends("relative_value", value),
                weighted_score=_num(analysis.quality.scores[brand].estimate),
                fair_price=_num(point.fair_price) if point else None,
                value_advantage=_num(point.value_advantage) if point else None,
                position=point.position if point else None,
            )
        )
    attributes = [
        AttributeOut(
            attribute=name, weight=comparison.weight, brand=brand, mean=_num(score.estimate),
            low=_num(score.low), high=_num(score.high), n=score.n,
        )
        for name, comparison in analysis.quality.attributes.items()
        for brand, score in comparison.means.items()
    ]  # fmt: skip
    delivered = []
    if found.delivered is not None:
        d = found.delivered
        delivered = [
            _mean("total_value", d.total_value),
            _mean("total_cost", d.total_cost),
            _mean("difference", d.difference),
            _mean("ratio", d.ratio),
        ]
    return ValueMapOut(
        survey_id=data.survey_id,
        survey_version=data.survey_version,
        n_responses=data.n,
        us=analysis.us,
        small_sample=analysis.small_sample,
        fair_value_slope=analysis.fair_value_slope,
        brands=rows,
        attributes=attributes,
        delivered=delivered,
    )


# --- routes ----------------------------------------------------------------------------------


def _data(
    session: DbSession, principal: Principal, survey_id: int, options: results.ResultOptions
) -> results.ResultData:
    return results.load_results(session, principal, survey_id, options)


@router.get("/api/surveys/{survey_id}/results/scores", summary="NPS, CSAT and CES with intervals")
def get_scores(
    survey_id: Id, session: DbSession, principal: Reader, version: VersionQuery = None,
    group_by: GroupQuery = None, since: Since = None, until: Until = None, min_n: MinN = 30,
    level: Level = 0.95,
) -> ScoresOut:  # fmt: skip
    """Each NPS (adjusted Wald), CSAT (top-2-box, Wilson) and CES (t) question's score for all
    the responses (``group`` null) and per group."""
    options = _options(version, group_by, since, until, min_n, level)
    return scores_out(_data(session, principal, survey_id, options), options)


@router.get("/api/surveys/{survey_id}/results/nps-change", summary="The change of NPS")
def get_nps_change(
    survey_id: Id, session: DbSession, principal: Reader, question: QuestionId,
    earlier_from: date, earlier_to: date, later_from: date, later_to: date,
    version: VersionQuery = None, min_n: MinN = 30, level: Level = 0.95,
) -> NPSChangeOut:  # fmt: skip
    """The change of an NPS question from one period to another (independent respondents),
    with its adjusted Wald interval and two-sided p-value (Rocks 2016)."""
    options = _options(version, None, None, None, min_n, level)
    data = _data(session, principal, survey_id, options)
    change = results.nps_change_between(
        data, question, (earlier_from, earlier_to), (later_from, later_to), options
    )
    return NPSChangeOut(
        question_id=question, estimate=change.estimate, low=change.low, high=change.high,
        p_value=change.p_value, level=change.level, earlier_nps=change.earlier.estimate,
        earlier_n=change.earlier.n, later_nps=change.later.estimate, later_n=change.later.n,
        small_sample=change.small_sample, method=change.method,
    )  # fmt: skip


@router.get("/api/surveys/{survey_id}/results/gaps", summary="SERVQUAL gaps")
def get_gaps(
    survey_id: Id, session: DbSession, principal: Reader, version: VersionQuery = None,
    group_by: GroupQuery = None, since: Since = None, until: Until = None, min_n: MinN = 30,
    level: Level = 0.95,
) -> GapsOut:  # fmt: skip
    """Perception minus expectation per item, dimension and overall, unweighted and weighted
    by the importance points, with t intervals."""
    options = _options(version, group_by, since, until, min_n, level)
    return gaps_out(_data(session, principal, survey_id, options), options)


@router.get("/api/surveys/{survey_id}/results/drivers", summary="Key drivers and the IPA matrix")
def get_drivers(
    survey_id: Id, session: DbSession, principal: Reader,
    outcome: Annotated[str | None, Query(max_length=40)] = None,
    drivers: Annotated[list[str] | None, Query(max_length=60)] = None,
    version: VersionQuery = None, since: Since = None, until: Until = None, level: Level = 0.95,
    n_boot: Boot = 500, seed: Seed = 0,
) -> DriversOut:  # fmt: skip
    """Relative weights (Johnson 2000) and Shapley values of R² (up to 15 drivers) with
    bootstrap intervals and VIFs, and the importance-performance matrix (Martilla & James
    1977) with its quadrant rule."""
    options = _options(version, None, since, until, 30, level)
    data = _data(session, principal, survey_id, options)
    found = results.driver_results(
        data, options, outcome=outcome, drivers=drivers, n_boot=n_boot, seed=seed
    )
    return drivers_out(found, data)


@router.get("/api/surveys/{survey_id}/results/model", summary="The ECSI satisfaction model")
def get_model(
    survey_id: Id, session: DbSession, principal: Reader, version: VersionQuery = None,
    since: Since = None, until: Until = None, level: Level = 0.95, n_boot: Boot = 200,
    seed: Seed = 0,
) -> ModelOut:  # fmt: skip
    """The PLS path model of an ECSI survey: paths with bootstrap standard errors, R², the
    0-100 index of every construct and the importance-performance map of satisfaction."""
    options = _options(version, None, since, until, 30, level)
    data = _data(session, principal, survey_id, options)
    return model_out(results.satisfaction_model(data, n_boot=n_boot, seed=seed, level=level), data)


@router.get("/api/surveys/{survey_id}/results/value-map", summary="The competitor value map")
def get_value_map(
    survey_id: Id, session: DbSession, principal: Reader, version: VersionQuery = None,
    since: Since = None, until: Until = None, min_n: MinN = 30, level: Level = 0.95,
    n_boot: Annotated[int, Query(ge=0, le=2_000)] = 1000, seed: Seed = 0,
) -> ValueMapOut:  # fmt: skip
    """Gale's customer value analysis of us against the rated competitors (relative quality,
    price and value, the fair-value line through (1, 1)) and our customer delivered value."""
    options = _options(version, None, since, until, min_n, level)
    data = _data(session, principal, survey_id, options)
    boot = n_boot if n_boot == 0 or n_boot >= 100 else 100
    return value_map_out(results.value_results(data, options, n_bootstrap=boot, seed=seed), data)


def _csv_rows(items: Sequence[BaseModel]) -> tuple[list[str], list[list[str]]]:
    if not items:
        return [], []
    header = list(type(items[0]).model_fields)
    rows = []
    for item in items:
        row = []
        for value in item.model_dump().values():
            row.append(text_cell(value) if isinstance(value, str) else value_cell(value))
        rows.append(row)
    return header, rows


def _csv_response(name: str, header: Sequence[str], rows: Iterable[Iterable[str]]) -> Response:
    return Response(
        content=spreadsheet_csv(header, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": content_disposition(name)},
    )


def table_rows(
    table: str, data: results.ResultData, options: results.ResultOptions
) -> Sequence[BaseModel]:
    """The rows of one results table, as the JSON routes give them (defaults: bootstrap
    resamples as there)."""
    if table == "scores":
        return scores_out(data, options).scores
    if table == "gaps":
        return gaps_out(data, options).gaps
    if table == "drivers":
        return drivers_out(results.driver_results(data, options), data).drivers
    if table == "model":
        return model_out(results.satisfaction_model(data, level=options.level), data).paths
    found = results.value_results(data, options)
    return value_map_out(found, data).brands


@router.get(
    "/api/surveys/{survey_id}/results/{table}.csv",
    summary="One results table as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_table(
    survey_id: Id, table: Table, session: DbSession, principal: Reader,
    version: VersionQuery = None, group_by: GroupQuery = None, since: Since = None,
    until: Until = None, min_n: MinN = 30, level: Level = 0.95,
) -> Response:  # fmt: skip
    """The rows of ``scores``, ``gaps``, ``drivers``, ``model`` (the paths) or ``value-map``
    (the brands), one per line, the columns of the JSON rows."""
    options = _options(version, group_by, since, until, min_n, level)
    data = _data(session, principal, survey_id, options)
    header, rows = _csv_rows(table_rows(table, data, options))
    return _csv_response(f"survey-{survey_id}-{table}.csv", header, rows)


@router.get(
    "/api/surveys/{survey_id}/responses.csv",
    summary="The submitted responses of a version as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_responses(
    survey_id: Id, session: DbSession, principal: Reader, version: VersionQuery = None
) -> Response:
    """One line per submitted response, oldest first: its context (customer, ticket, team,
    channel, language, when submitted), then one column per answer part as the response import
    names them (docs/surveys.md), so an export can be imported again elsewhere."""
    columns, rows = responses.answer_table(session, principal, survey_id, survey_version=version)
    return _csv_response(
        f"survey-{survey_id}-responses.csv",
        columns,
        ([_cell(value) for value in row] for row in rows),
    )


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, float) and value.is_integer():
        return value_cell(int(value))
    return value_cell(value)

"""A survey's results: the scores with their intervals, the SERVQUAL gaps, the key drivers and
the importance-performance matrix, the PLS satisfaction model with its 0-100 index, the
competitor value map and customer delivered value -- each computed on read from the submitted
answers of one version (:func:`kehu.feedback.responses.answer_table`, scoped by
``feedback:read``) by the pure analytics (:mod:`kehu.analytics`), which carry the formulas and
their sources.

Grouping: every score and gap is given for all the responses and, with ``group_by``, per
``segment`` (the customer's RFM segment in the latest value run), ``tier`` (its value tier
there), ``team`` and ``channel`` (of the response) or ``month`` (of submission, UTC), each with
its ``n``; a group with fewer than ``min_n`` answers (default 30) is flagged ``small_sample``.
A response without a customer, or whose customer has no score yet, is in no segment or tier
group (it still counts in the whole). The period filter keeps the responses submitted from
``since`` to ``until`` (dates, inclusive, UTC).

Errors: a bad option (an unknown question, grouping or period) is an
:class:`~kehu.errors.InputError` naming it; what the analytics refuse (too few responses, a
constant or collinear driver, a model they cannot estimate) is raised as they raise it, naming
the columns: the API answers 422, the results page shows the message where the chart would be.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

import numpy as np
from sqlalchemy.orm import Session

from kehu.analytics import drivers as key_drivers
from kehu.analytics import satisfaction, servqual, value_map
from kehu.analytics.pls import PLSPathModel
from kehu.core.auth import Principal
from kehu.desk.routing import team_names
from kehu.errors import EmptyInputError, InputError
from kehu.feedback.definition import SurveyDefinition
from kehu.feedback.responses import CONTEXT_COLUMNS, answer_table
from kehu.feedback.surveys import get_survey, list_competitors
from kehu.value.queries import customer_segments

__all__ = [
    "ECSI_CONSTRUCTS",
    "ECSI_PATHS",
    "GROUPINGS",
    "DriverResults",
    "GapRow",
    "ModelResults",
    "ResultData",
    "ResultOptions",
    "ScoreRow",
    "ValueResults",
    "driver_results",
    "load_results",
    "nps_change_between",
    "satisfaction_model",
    "score_questions",
    "score_rows",
    "servqual_rows",
    "value_results",
]

Grouping = Literal["segment", "tier", "team", "channel", "month"]
#: What results may be grouped by.
GROUPINGS: tuple[str, ...] = ("segment", "tier", "team", "channel", "month")
#: The question types scored, and what their score is.
SCORED_TYPES = {"nps": "nps", "csat": "csat", "ces": "ces"}

#: The ECSI constructs (the dimensions of the ``ecsi`` template), in their model's order.
ECSI_CONSTRUCTS = (
    "image",
    "expectation",
    "quality",
    "value",
    "satisfaction",
    "complaints",
    "loyalty",
)
#: The ECSI structural model (Tenenhaus et al. 2005, fig. 2; seminr's demo/seminr-pls-ecsi.R):
#: 12 paths between the seven constructs.
ECSI_PATHS: tuple[tuple[str, str], ...] = (
    ("image", "expectation"),
    ("image", "satisfaction"),
    ("image", "loyalty"),
    ("expectation", "quality"),
    ("expectation", "value"),
    ("expectation", "satisfaction"),
    ("quality", "value"),
    ("quality", "satisfaction"),
    ("value", "satisfaction"),
    ("satisfaction", "complaints"),
    ("satisfaction", "loyalty"),
    ("complaints", "loyalty"),
)
#: The cost questions of the customer-value template, in Kotler's order (money, time, energy,
#: psychic cost).
COST_QUESTIONS = ("cost_money", "cost_time", "cost_energy", "cost_worry")
#: The option of a value survey's attributes that is the price (rated as value for money).
PRICE = "price"
US = "us"


@dataclass(frozen=True)
class ResultOptions:
    """What to compute over: a version (default: the current one), a grouping, a period
    (submission dates, inclusive, UTC), the n below which a sample is flagged, the level of
    the intervals."""

    survey_version: int | None = None
    group_by: Grouping | None = None
    since: date | None = None
    until: date | None = None
    min_n: int = satisfaction.DEFAULT_MIN_N
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.group_by is not None and self.group_by not in GROUPINGS:
            raise InputError(
                f"group_by is one of {', '.join(GROUPINGS)}", column="group_by", value=self.group_by
            )
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InputError("the period ends before it starts", column="until", value=self.until)
        if isinstance(self.min_n, bool) or not 1 <= int(self.min_n) <= 100_000:
            raise InputError("min_n is a whole number from 1", column="min_n", value=self.min_n)
        if not 0.5 <= float(self.level) < 1.0:
            raise InputError("level is at least 0.5 and below 1", column="level", value=self.level)


@dataclass(frozen=True)
class ResultData:
    """The submitted answers of one version in the period, column by column (answer columns
    as :func:`~kehu.feedback.responses.answer_columns` names them; numbers as floats with NaN
    for no answer), and each response's group keys (``None``: in no group)."""

    survey_id: int
    survey_name: str
    survey_version: int
    definition: SurveyDefinition
    n: int
    columns: Mapping[str, list[Any]]
    groups: Mapping[str, list[str | None]]
    submitted_at: list[datetime]
    competitor_names: Mapping[int, str] = field(default_factory=dict)

    def numbers(self, column: str) -> np.ndarray:
        return np.array(
            [np.nan if v is None else float(v) for v in self.columns[column]], dtype=np.float64
        )

    def matrix(self, columns: Sequence[str]) -> np.ndarray:
        if not columns:
            return np.empty((self.n, 0))
        return np.column_stack([self.numbers(c) for c in columns])

    def subset(self, rows: np.ndarray) -> ResultData:
        index = rows.tolist()
        return ResultData(
            survey_id=self.survey_id,
            survey_name=self.survey_name,
            survey_version=self.survey_version,
            definition=self.definition,
            n=len(index),
            columns={k: [v[i] for i in index] for k, v in self.columns.items()},
            groups={k: [v[i] for i in index] for k, v in self.groups.items()},
            submitted_at=[self.submitted_at[i] for i in index],
            competitor_names=self.competitor_names,
        )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_results(
    session: Session, principal: Principal, survey_id: int, options: ResultOptions
) -> ResultData:
    """The submitted responses of the version in the period, with their group keys
    (``feedback:read``; segments and tiers of the customers the caller may read)."""
    detail = get_survey(session, principal, survey_id)
    number = options.survey_version or detail.current_version
    version = next((v for v in detail.versions if v.number == number), None)
    if version is None:
        raise InputError(
            f"survey {survey_id} has no version {number}", column="version", value=number
        )
    names, rows = answer_table(session, principal, survey_id, survey_version=number)
    at = names.index("submitted_at")
    kept = []
    for row in rows:
        submitted = _utc(row[at])
        day = submitted.date()
        if options.since is not None and day < options.since:
            continue
        if options.until is not None and day > options.until:
            continue
        kept.append(row)
    columns = {name: [row[i] for row in kept] for i, name in enumerate(names)}
    customers = [c for c in columns["customer_id"] if c is not None]
    labels = customer_segments(session, principal, customers)
    teams = team_names(session)

    def label(customer: int | None, part: str) -> str | None:
        found = None if customer is None else labels.get(customer)
        return None if found is None else getattr(found, part)

    groups: dict[str, list[str | None]] = {
        "segment": [label(c, "rfm_segment") for c in columns["customer_id"]],
        "tier": [label(c, "value_tier") for c in columns["customer_id"]],
        "team": [None if t is None else teams.get(int(t), f"team {t}") for t in columns["team_id"]],
        "channel": list(columns["channel"]),
        "month": [_utc(s).strftime("%Y-%m") for s in columns["submitted_at"]],
    }
    competitors = {c.id: c.name for c in list_competitors(session, principal)}
    return ResultData(
        survey_id=survey_id,
        survey_name=detail.name,
        survey_version=number,
        definition=version.definition,
        n=len(kept),
        columns={k: v for k, v in columns.items() if k not in CONTEXT_COLUMNS or k == "channel"},
        groups=groups,
        submitted_at=[_utc(s) for s in columns["submitted_at"]],
        competitor_names=competitors,
    )


# --- grouping -------------------------------------------------------------------------------

R = TypeVar("R")


def _grouped(
    data: ResultData, group_by: str | None, compute: Callable[[ResultData], R]
) -> list[tuple[str | None, R]]:
    """``compute`` on all the responses (group ``None``), then on each group's (sorted by key;
    a group the statistic has nothing for is left out)."""
    results: list[tuple[str | None, R]] = []
    with contextlib.suppress(EmptyInputError):
        results.append((None, compute(data)))
    if group_by is None:
        return results
    keys = data.groups[group_by]
    rows_of: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        if key is not None:
            rows_of.setdefault(str(key), []).append(row)
    for key in sorted(rows_of, key=str):
        try:
            results.append(
                (str(key), compute(data.subset(np.asarray(rows_of[key], dtype=np.intp))))
            )
        except EmptyInputError:
            continue
    return results


# --- scores ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreRow:
    """One score of one question for one group (``None``: all the responses): NPS in points,
    CSAT as a share (0..1, top-2-box), CES as a mean on 1-7; the interval's ends at
    ``level``, the answers ``n`` and ``small_sample`` (``n < min_n``)."""

    question_id: str
    measure: str
    group: str | None
    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool
    method: str


def score_questions(definition: SurveyDefinition) -> list[tuple[str, str]]:
    """The scored questions of a definition: (question id, measure) in question order."""
    return [(q.id, SCORED_TYPES[q.type]) for q in definition.questions if q.type in SCORED_TYPES]


def _score(measure: str, values: np.ndarray, options: ResultOptions) -> Any:
    level, min_n = options.level, options.min_n
    if measure == "nps":
        return satisfaction.nps(values, level=level, min_n=min_n)
    if measure == "csat":
        return satisfaction.csat(values, level=level, min_n=min_n)
    return satisfaction.ces(values, level=level, min_n=min_n)


def score_rows(
    data: ResultData,
    options: ResultOptions,
    *,
    question_id: str | None = None,
    group_by: str | None = None,
) -> list[ScoreRow]:
    """The NPS, CSAT and CES of the scored questions (or of one), for all the responses and
    per group of ``group_by`` (default: the options')."""
    wanted = score_questions(data.definition)
    if question_id is not None:
        wanted = [(q, m) for q, m in wanted if q == question_id]
        if not wanted:
            raise InputError(
                "no NPS, CSAT or CES question with this id", column="question", value=question_id
            )
    grouping = group_by if group_by is not None else options.group_by
    rows: list[ScoreRow] = []
    for qid, measure in wanted:

        def compute(d: ResultData, q: str = qid, m: str = measure) -> Any:
            return _score(m, d.numbers(q), options)

        for group, score in _grouped(data, grouping, compute):
            rows.append(
                ScoreRow(
                    question_id=qid,
                    measure=measure,
                    group=group,
                    estimate=float(score.estimate),
                    low=float(score.low),
                    high=float(score.high),
                    level=float(score.level),
                    n=int(score.n),
                    small_sample=bool(score.small_sample),
                    method=str(score.method),
                )
            )
    return rows


def nps_change_between(
    data: ResultData,
    question_id: str,
    earlier: tuple[date, date],
    later: tuple[date, date],
    options: ResultOptions,
) -> satisfaction.NPSChange:
    """The change of a question's NPS from the ``earlier`` period to the ``later`` one (each
    from-to, inclusive), with the adjusted Wald interval and p-value of
    :func:`kehu.analytics.satisfaction.nps_change` (independent periods)."""
    question = data.definition.question(question_id)
    if question is None or question.type != "nps":
        raise InputError("no NPS question with this id", column="question", value=question_id)
    for name, (start, end) in (("earlier", earlier), ("later", later)):
        if start > end:
            raise InputError(f"the {name} period ends before it starts", column=name)
    days = np.array([s.date() for s in data.submitted_at], dtype=object)
    values = data.numbers(question_id)

    def within(period: tuple[date, date]) -> np.ndarray:
        chosen = np.array([period[0] <= d <= period[1] for d in days], dtype=bool)
        return values[chosen] if chosen.size else np.array([], dtype=np.float64)

    return satisfaction.nps_change(
        within(earlier), within(later), level=options.level, min_n=options.min_n, name=question_id
    )


# --- SERVQUAL -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GapRow:
    """One SERVQUAL gap (perception minus expectation): of an ``item`` (a question), a
    ``dimension`` or ``overall``, unweighted or ``weighted`` by importance points, for one
    group (``None``: all)."""

    level_of: str
    name: str
    weighted: bool
    group: str | None
    estimate: float
    low: float
    high: float
    level: float
    n: int
    small_sample: bool


def _servqual_layout(
    definition: SurveyDefinition,
) -> tuple[list[str], list[str], str | None, list[str]]:
    """The pair questions, their dimensions, the importance question spreading points over
    the dimensions (``None`` when there is none that fits) and its columns in dimension order."""
    pairs = [q for q in definition.questions if q.type == "servqual_pair"]
    if not pairs:
        raise InputError("the survey has no expectation/perception questions", column="survey")
    items = [q.id for q in pairs]
    dimensions = [q.dimension or q.id for q in pairs]
    order = list(dict.fromkeys(dimensions))
    by_id = definition.by_id()
    for question in definition.questions:
        if question.type != "importance_points":
            continue
        # an option names a dimension (SERVQUAL's template) or a pair question (the five
        # service qualities'): either way it stands for one dimension
        dimension_of = {}
        for option in question.option_ids():
            if option in order:
                dimension_of[option] = option
            elif option in by_id and by_id[option].type == "servqual_pair":
                dimension_of[option] = by_id[option].dimension or option
        covered = sorted(dimension_of.values())
        if len(dimension_of) == len(question.options) and covered == sorted(order):
            column_of = {d: f"{question.id}.{o}" for o, d in dimension_of.items()}
            return items, dimensions, question.id, [column_of[d] for d in order]
    return items, dimensions, None, []


def servqual_rows(
    data: ResultData, options: ResultOptions, *, group_by: str | None = None
) -> list[GapRow]:
    """The SERVQUAL gaps per item, dimension and overall, unweighted and (when the survey asks
    for importance points over its dimensions) weighted, for all and per group
    (:func:`kehu.analytics.servqual.servqual_gaps`)."""
    items, dimensions, importance, importance_columns = _servqual_layout(data.definition)

    def compute(d: ResultData) -> servqual.ServqualGaps:
        return servqual.servqual_gaps(
            d.matrix([f"{i}.expectation" for i in items]),
            d.matrix([f"{i}.perception" for i in items]),
            dimensions,
            items=items,
            importance=d.matrix(importance_columns) if importance else None,
            level=options.level,
            min_n=options.min_n,
        )

    rows: list[GapRow] = []
    grouping = group_by if group_by is not None else options.group_by
    for group, gaps in _grouped(data, grouping, compute):

        def add(
            level_of: str,
            name: str,
            weighted: bool,
            score: satisfaction.MeanScore,
            group: str | None = group,
        ) -> None:
            rows.append(
                GapRow(
                    level_of, name, weighted, group, float(score.estimate), float(score.low),
                    float(score.high), float(score.level), int(score.n), bool(score.small_sample),
                )
            )  # fmt: skip

        for name, score in gaps.items.items():
            add("item", name, False, score)
        for name, score in gaps.dimensions.items():
            add("dimension", name, False, score)
        add("overall", "overall", False, gaps.overall)
        if gaps.weighted_dimensions is not None and gaps.weighted_overall is not None:
            for name, score in gaps.weighted_dimensions.items():
                add("dimension", name, True, score)
            add("overall", "overall", True, gaps.weighted_overall)
    return rows


# --- key drivers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverResults:
    """Key drivers of ``outcome``: the relative weights (Johnson 2000) and, with at most
    :data:`~kehu.analytics.drivers.MAX_SHAPLEY_DRIVERS` drivers, the Shapley decomposition,
    each as :meth:`KeyDriverAnalysis.summary` gives it (bootstrap intervals, VIF); why there
    is no Shapley decomposition otherwise; the importance-performance matrix of the relative
    weights' shares against the drivers' mean scores, with its quadrant rule."""

    outcome: str
    drivers: tuple[str, ...]
    relative_weights: dict[str, Any]
    shapley: dict[str, Any] | None
    shapley_problem: str | None
    matrix: list[dict[str, Any]]
    quadrant_rule: str
    importance_boundary: float
    performance_boundary: float


#: The one-part numeric questions that may be an outcome or a driver.
_NUMERIC = ("nps", "csat", "ces", "rating")


def _default_outcome(definition: SurveyDefinition) -> str:
    for kind in ("nps", "csat"):
        for question in definition.questions:
            if question.type == kind:
                return question.id
    raise InputError(
        "the survey has no NPS or CSAT question to explain: name the outcome question",
        column="outcome",
    )


def driver_columns(definition: SurveyDefinition, outcome: str) -> list[str]:
    """The default drivers of ``outcome``: every other one-part numeric question and every
    perception of an expectation/perception pair, in question order."""
    columns = []
    for question in definition.questions:
        if question.id == outcome:
            continue
        if question.type in _NUMERIC:
            columns.append(question.id)
        elif question.type == "servqual_pair":
            columns.append(f"{question.id}.perception")
    return columns


def driver_results(
    data: ResultData,
    options: ResultOptions,
    *,
    outcome: str | None = None,
    drivers: Sequence[str] | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> DriverResults:
    """Key driver analysis of ``outcome`` (default: the first NPS, else CSAT question) on
    ``drivers`` (default: :func:`driver_columns`), with ``n_boot`` bootstrap resamples
    (:class:`kehu.analytics.drivers.KeyDriverAnalysis`); responses missing any of them are
    left out (listwise)."""
    definition = data.definition
    target = outcome or _default_outcome(definition)
    question = definition.question(target)
    if question is None or question.type not in _NUMERIC:
        raise InputError(
            "the outcome is a question with a numeric one-part answer", column="outcome",
            value=target,
        )  # fmt: skip
    chosen = list(drivers) if drivers else driver_columns(definition, target)
    unknown = [c for c in chosen if c not in data.columns or c in ("channel", target)]
    if unknown:
        raise InputError("not a driver column of this survey", column="drivers", value=unknown[0])
    if not chosen:
        raise InputError("the survey has no attribute questions to drive it", column="drivers")
    x, y = data.matrix(chosen), data.numbers(target)
    weights = key_drivers.KeyDriverAnalysis(
        "relative_weights", n_boot=n_boot, level=options.level, seed=seed
    ).fit(x, y, chosen, outcome=target)
    shapley: dict[str, Any] | None = None
    problem: str | None = None
    if len(chosen) <= key_drivers.MAX_SHAPLEY_DRIVERS:
        shapley = (
            key_drivers.KeyDriverAnalysis("shapley", n_boot=n_boot, level=options.level, seed=seed)
            .fit(x, y, chosen, outcome=target)
            .summary()
        )
    else:
        problem = (
            f"the exact Shapley decomposition takes at most {key_drivers.MAX_SHAPLEY_DRIVERS} "
            f"drivers; this analysis has {len(chosen)}"
        )
    matrix = weights.importance_performance(rule="mean")
    return DriverResults(
        outcome=target,
        drivers=tuple(chosen),
        relative_weights=weights.summary(),
        shapley=shapley,
        shapley_problem=problem,
        matrix=matrix.rows(),
        quadrant_rule=matrix.rule,
        importance_boundary=matrix.importance_boundary,
        performance_boundary=matrix.performance_boundary,
    )


# --- the satisfaction model -----------------------------------------------------------------


@dataclass(frozen=True)
class ModelResults:
    """The ECSI PLS path model fitted on the responses: its paths, outer weights and loadings
    and R², the bootstrap standard errors and intervals of the paths (``n_boot`` resamples,
    ``n_failed`` dropped), each construct's 0-100 index and the importance-performance map of
    satisfaction by total effects (Ringle & Sarstedt 2016); ``n`` responses used,
    ``n_dropped`` left out for a missing answer."""

    measurement: dict[str, list[str]]
    paths: list[dict[str, Any]]
    r_squared: dict[str, float]
    weights: dict[str, float]
    loadings: dict[str, float]
    index: dict[str, float]
    importance_performance: list[dict[str, Any]]
    n: int
    n_dropped: int
    n_boot: int
    n_failed: int


def ecsi_measurement(definition: SurveyDefinition) -> dict[str, list[str]]:
    """Construct -> its rating questions, for a survey whose dimensions are the ECSI
    constructs (:data:`ECSI_CONSTRUCTS`); an :class:`InputError` otherwise."""
    measurement: dict[str, list[str]] = {c: [] for c in ECSI_CONSTRUCTS}
    for question in definition.questions:
        if question.type in ("rating", "csat", "nps") and question.dimension in measurement:
            measurement[question.dimension].append(question.id)
    empty = [c for c, items in measurement.items() if not items]
    if empty:
        raise InputError(
            "the satisfaction model needs rated questions in each ECSI dimension; missing: "
            + ", ".join(empty),
            column="dimensions",
        )
    return measurement


def satisfaction_model(
    data: ResultData, *, n_boot: int = 200, seed: int = 0, level: float = 0.95
) -> ModelResults:
    """The ECSI model (:data:`ECSI_PATHS`, mode A, path weighting) by
    :class:`kehu.analytics.pls.PLSPathModel`, with bootstrap standard errors, the 0-100
    indices and satisfaction's importance-performance map."""
    measurement = ecsi_measurement(data.definition)
    items = [i for c in ECSI_CONSTRUCTS for i in measurement[c]]
    table = data.matrix(items)
    complete = ~np.isnan(table).any(axis=1)
    table = table[complete]
    model = PLSPathModel(measurement, ECSI_PATHS).fit(dict(zip(items, table.T, strict=True)))
    by_id = data.definition.by_id()
    scale = {i: by_id[i].scale or (0, 1) for i in items}
    boot = model.bootstrap(n_boot=n_boot, seed=seed, level=level) if n_boot else None
    paths = []
    for source, target in ECSI_PATHS:
        estimate = boot.paths[(source, target)] if boot is not None else None
        paths.append(
            {
                "source": source,
                "target": target,
                "estimate": float(model.path_coefficients_[(source, target)]),
                "std_error": float("nan") if estimate is None else estimate.std_error,
                "low": float("nan") if estimate is None else estimate.lower,
                "high": float("nan") if estimate is None else estimate.upper,
            }
        )
    index = {c: model.index(c, scale).mean for c in ECSI_CONSTRUCTS}
    ipa = [
        {
            "construct": row.construct,
            "importance": row.importance,
            "total_effect": row.total_effect,
            "performance": row.performance,
        }
        for row in model.importance_performance("satisfaction", scale)
    ]
    return ModelResults(
        measurement=measurement,
        paths=paths,
        r_squared={k: float(v) for k, v in model.r_squared_.items()},
        weights={k: float(v) for k, v in model.outer_weights_.items()},
        loadings={k: float(v) for k, v in model.outer_loadings_.items()},
        index=index,
        importance_performance=ipa,
        n=int(complete.sum()),
        n_dropped=int((~complete).sum()),
        n_boot=n_boot,
        n_failed=0 if boot is None else boot.n_failed,
    )


# --- the value map --------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueResults:
    """The customer value analysis (Gale 1994) of us against the competitors rated in the
    survey, and our customer delivered value (Kotler 2000) when the survey asks for the value
    and cost ratings (``None`` otherwise)."""

    analysis: value_map.CustomerValueAnalysis
    delivered: value_map.DeliveredValue | None
    brands: dict[str, str]


def _value_questions(definition: SurveyDefinition) -> tuple[str, str, list[str], list[int]]:
    rating = next((q for q in definition.questions if q.type == "competitor_rating"), None)
    if rating is None:
        raise InputError("the survey rates no competitors", column="survey")
    importance = next(
        (
            q
            for q in definition.questions
            if q.type == "importance_points" and set(q.option_ids()) == set(rating.option_ids())
        ),
        None,
    )
    if importance is None:
        raise InputError(
            "the survey asks no importance points over the rated attributes", column="survey"
        )
    if not rating.competitors:
        raise InputError("the survey's competitor rating names no competitor", column="survey")
    return importance.id, rating.id, rating.option_ids(), list(rating.competitors)


def value_results(
    data: ResultData, options: ResultOptions, *, n_bootstrap: int = 1000, seed: int = 0
) -> ValueResults:
    """Gale's value map from the importance points and the competitor ratings: quality on the
    attributes other than the price, the price as its own price-satisfaction profile (the
    ``price`` attribute, rated as value for money) when asked
    (:func:`kehu.analytics.value_map.customer_value_analysis`); delivered value from the four
    value ratings of us and the four cost questions (:func:`~kehu.analytics.value_map.
    delivered_value`), all on the rating's scale."""
    definition = data.definition
    importance_id, rating_id, attributes, competitors = _value_questions(definition)
    rating = definition.question(rating_id)
    assert rating is not None and rating.scale is not None
    scale = rating.scale
    subjects = {
        US: US,
        **{f"c{c}": data.competitor_names.get(c, f"competitor {c}") for c in competitors},
    }
    quality = [a for a in attributes if a != PRICE]

    def ratings_of(attrs: Sequence[str]) -> dict[str, np.ndarray]:
        return {
            name: data.matrix([f"{rating_id}.{a}.{subject}" for a in attrs])
            for subject, name in subjects.items()
        }

    price_args: dict[str, Any] = {}
    if PRICE in attributes:
        price_args = {
            "price_importance": np.array([1.0]),
            "price_ratings": ratings_of([PRICE]),
            "price_attributes": [PRICE],
        }
    analysis = value_map.customer_value_analysis(
        data.matrix([f"{importance_id}.{a}" for a in quality]),
        ratings_of(quality),
        attributes=quality,
        us=US,
        scale=scale,
        level=options.level,
        min_n=options.min_n,
        n_bootstrap=n_bootstrap,
        seed=seed,
        **price_args,
    )
    delivered = None
    costs = [definition.question(c) for c in COST_QUESTIONS]
    parts = value_map.VALUE_COMPONENTS
    if all(c is not None and c.scale == scale for c in costs) and all(
        p in attributes for p in parts
    ):
        result = value_map.delivered_value(
            {US: data.matrix([f"{rating_id}.{p}.{US}" for p in parts])},
            {US: data.matrix(list(COST_QUESTIONS))},
            scale=scale,
            level=options.level,
            min_n=options.min_n,
        )
        delivered = result[US]
    return ValueResults(analysis=analysis, delivered=delivered, brands=subjects)

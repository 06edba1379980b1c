"""The value page: value tiers, the Pareto curve and the high-value customers at risk, from the
latest value run in the store, read through the value domain's queries (:mod:`kehu.value.queries`:
every query goes through the permission layer); every amount is shown in the run's stored
currency."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy.orm import Session

from kehu.analytics.model_selection import LABELS as MODEL_LABELS
from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_NAMES, ParetoCurve, pareto_curve
from kehu.core.money import Money
from kehu.report import model_choice
from kehu.report.svg import Marker, Series, line_chart
from kehu.value.queries import (
    AT_RISK_LIMIT,
    RunFit,
    RunSummary,
    at_risk,
    clv_values,
    latest_run,
    run_fit,
    tier_rows,
)
from kehu.web.deps import SessionDep
from kehu.web.labels import horizon_words
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: P(alive) thresholds offered for "at risk" (a high-value customer below it is listed).
THRESHOLDS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
DEFAULT_THRESHOLD = 0.5
__all__ = ["AT_RISK_LIMIT", "DEFAULT_THRESHOLD", "THRESHOLDS", "router"]


def pareto_chart(page: Page, curve: ParetoCurve) -> Markup:
    """The Pareto curve as inline SVG, labelled in the page's language."""
    _ = page._
    translator = page.translator
    x, y = curve.thinned(201)
    percent = translator.format_percent(curve.customers_for_target, 0)
    svg = line_chart(
        [
            Series(_("Customer lifetime value"), x, y),
            Series(_("Equal shares"), [0.0, 1.0], [0.0, 1.0], dashed=True, color="#7f7f7f"),
        ],
        title=_("Pareto curve of customer lifetime value"),
        x_label=_("Share of customers, largest CLV first"),
        y_label=_("Share of total CLV"),
        x_range=(0.0, 1.0),
        y_range=(0.0, max(1.0, float(np.nanmax(y)))),
        x_format=lambda v: translator.format_percent(v, 0),
        y_format=lambda v: translator.format_percent(v, 0),
        markers=[
            Marker(
                curve.customers_for_target,
                curve.target_value_share,
                _("%(share)s of customers bring 80%% of CLV", share=percent),
            )
        ],
    )
    return Markup(svg)


def _segment_name(page: Page, code: str) -> str:
    return page.translator.display_name(SEGMENT_NAMES.get(code), code)


def _tier_name(page: Page, code: str) -> str:
    return page.translator.display_name(TIER_NAMES.get(code), code)


def _at_risk_context(
    page: Page, session: Session, run: RunSummary, threshold: float
) -> dict[str, Any]:
    principal = page.principal
    assert principal is not None
    rows, total = at_risk(session, principal, run, threshold)
    return {
        "at_risk": rows,
        "at_risk_total": total,
        "at_risk_limit": AT_RISK_LIMIT,
        "threshold": threshold,
        "thresholds": THRESHOLDS,
        "segment_name": lambda code: _segment_name(page, code),
    }


def _run_facts(run: RunSummary, page: Page, fit: RunFit) -> dict[str, Any]:
    settings = run.settings or {}
    end = settings.get("observation_end")
    # the model the run chose (a run saved before choices were recorded: the one it was given)
    model = str((fit.model_choice or {}).get("chosen") or settings.get("model", ""))
    high, middle = (float(v) for v in settings.get("tier_thresholds", (0.80, 0.95)))
    return {
        "tier_high_share": high,
        "tier_middle_share": middle - high,
        "observation_end": date.fromisoformat(end) if isinstance(end, str) else None,
        "horizon": horizon_words(
            page.translator, str(settings.get("unit", "week")), int(settings.get("horizon", 0))
        ),
        "model_name": MODEL_LABELS.get(model, model),
    }


def _fit_context(page: Page, fit: RunFit) -> dict[str, Any] | None:
    """The purchase models the run compared, why the winner won, the spend model apart, and the
    chosen model's tracking plot and frequency histogram, in the page's language (from the
    run's stored figures; older runs recorded no choice: None)."""
    choice = fit.model_choice
    if not choice:
        return None
    _ = page._
    number = page.translator.format_number
    rows = model_choice.candidate_rows(choice, number, page.translator.lookup)
    label = next((row["label"] for row in rows if row["chosen"] and row["fitted"]), "")
    expected = _("Expected (%(model)s)", model=label)
    tracking = model_choice.tracking_chart(
        fit.tracking or {},
        title=_("Cumulative repeat purchases by week"),
        x_label=_("Weeks since the first purchase in the data"),
        y_label=_("Cumulative repeat purchases"),
        actual=_("Actual"),
        expected=expected,
        calibration_end=_("End of calibration"),
    )
    histogram = model_choice.histogram_chart(
        fit.frequency_histogram or {},
        title=_("Customers by repeat purchases in the calibration period"),
        x_label=_("Repeat purchases in the calibration period"),
        y_label=_("Customers"),
        actual=_("Actual"),
        expected=expected,
    )
    reason, variables = model_choice.choice_reason(choice)
    return {
        "candidates": rows,
        "reason": _(reason, **variables),
        "holdout": bool(choice.get("holdout")),
        "spend": model_choice.spend_rows(fit.models, number),
        "tracking_chart": None if tracking is None else Markup(tracking),
        "histogram_chart": None if histogram is None else Markup(histogram),
        "tracking_error": (fit.tracking or {}).get("error"),
        "histogram_error": (fit.frequency_histogram or {}).get("error"),
    }


Threshold = Annotated[float, Query(ge=0.0, le=1.0)]


@router.get("/value", name="web_value")
def value_page(
    page: StaffPage, session: SessionDep, threshold: Threshold = DEFAULT_THRESHOLD
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    run = latest_run(session, principal)
    if run is None:
        return page.render("value/index.html", {"run": None}, active="value")
    fit = run_fit(session, principal, run)
    tiers = tier_rows(session, principal, run)
    values = clv_values(session, principal, run)
    curve = pareto_curve(values) if len(values) and values.sum() > 0 else None
    return page.render(
        "value/index.html",
        {
            "run": run,
            **_run_facts(run, page, fit),
            "tiers": tiers,
            "tier_name": lambda code: _tier_name(page, code),
            "n_customers": len(values),
            # from the tiers' integer sums (the float array is for the curve only)
            "total_clv": Money.total((tier.total for tier in tiers), run.currency),
            "curve": curve,
            "chart": pareto_chart(page, curve) if curve is not None else None,
            "fit": _fit_context(page, fit),
            **_at_risk_context(page, session, run, threshold),
        },
        active="value",
    )


@router.get("/value/at-risk", name="web_value_at_risk")
def at_risk_fragment(
    page: StaffPage, session: SessionDep, threshold: Threshold = DEFAULT_THRESHOLD
) -> HTMLResponse:
    """The at-risk table alone (htmx swaps it in when the threshold changes)."""
    principal = page.principal
    assert principal is not None
    run = latest_run(session, principal)
    if run is None:
        return page.render("value/_no_run.html")
    return page.render(
        "value/_at_risk.html",
        {
            "run": run,
            **_at_risk_context(page, session, run, threshold),
        },
    )

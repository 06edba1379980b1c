"""The value page: value tiers, the Pareto curve and the high-value customers at risk, from the
latest value run in the store. Every query goes through the permission layer; every amount is
shown in the run's stored currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

import numpy as np
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from kehu.analytics.rfm import SEGMENT_NAMES
from kehu.analytics.tiers import TIER_LABELS, TIER_NAMES, ParetoCurve, pareto_curve
from kehu.core.auth.principal import Principal
from kehu.core.auth.scoping import scoped
from kehu.core.money import Money
from kehu.customers.tables import Customer
from kehu.report.svg import Marker, Series, line_chart
from kehu.value.tables import CustomerScore, ValueRun
from kehu.web.deps import SessionDep
from kehu.web.rendering import Page, StaffPage

router = APIRouter()

#: P(alive) thresholds offered for "at risk" (a high-value customer below it is listed).
THRESHOLDS: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
DEFAULT_THRESHOLD = 0.5
AT_RISK_LIMIT = 50
FINISHED = ("succeeded", "partial")


_Select = TypeVar("_Select", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class TierRow:
    code: str
    n_customers: int
    customer_share: float | None
    total: Money
    value_share: float | None
    mean: Money | None


@dataclass(frozen=True)
class AtRiskRow:
    customer_id: int
    name: str
    external_id: str
    clv: Money | None
    probability_alive: float | None
    total_spend: Money
    profit: Money
    frequency: int
    rfm_segment: str


def _scores_of(statement: _Select, principal: Principal, run: ValueRun) -> _Select:
    """``statement`` over the run's scores joined with their customers, narrowed to what
    ``principal`` may see of both."""
    statement = (
        statement.select_from(CustomerScore)
        .join(Customer, Customer.id == CustomerScore.customer_id)
        .where(CustomerScore.run_id == run.id)
    )
    return scoped(scoped(statement, principal, CustomerScore), principal, Customer)


def latest_run(session: Session, principal: Principal) -> ValueRun | None:
    """The most recent finished value run the principal may see."""
    statement = scoped(select(ValueRun), principal, ValueRun)
    statement = statement.where(ValueRun.status.in_(FINISHED)).order_by(ValueRun.id.desc())
    return session.scalars(statement.limit(1)).first()


def tier_rows(session: Session, principal: Principal, run: ValueRun) -> list[TierRow]:
    """Customers and CLV per value tier (customers without a tier count as low value)."""
    statement = _scores_of(
        select(
            CustomerScore.value_tier,
            func.count(),
            func.coalesce(func.sum(CustomerScore.clv_minor), 0),
        ),
        principal,
        run,
    ).group_by(CustomerScore.value_tier)
    counts = dict.fromkeys(TIER_LABELS, 0)
    totals = dict.fromkeys(TIER_LABELS, 0)
    for tier, count, total in session.execute(statement):
        code = tier if tier in counts else TIER_LABELS[-1]
        counts[code] += int(count)
        totals[code] += int(total or 0)
    n = sum(counts.values())
    net = sum(totals.values())
    rows = []
    for code in TIER_LABELS:
        value = Money(totals[code], run.currency)
        rows.append(
            TierRow(
                code=code,
                n_customers=counts[code],
                customer_share=counts[code] / n if n else None,
                total=value,
                value_share=totals[code] / net if net else None,
                mean=value / counts[code] if counts[code] else None,
            )
        )
    return rows


def clv_values(session: Session, principal: Principal, run: ValueRun) -> np.ndarray:
    """Every visible customer's CLV in minor units (none: 0, as in the run's own tiers)."""
    statement = _scores_of(select(CustomerScore.clv_minor), principal, run)
    values = [0 if v is None else v for v in session.scalars(statement)]
    return np.asarray(values, dtype=np.float64)


def at_risk(
    session: Session, principal: Principal, run: ValueRun, threshold: float
) -> tuple[list[AtRiskRow], int]:
    """High-value customers whose P(alive) is below ``threshold``, largest CLV first (at most
    :data:`AT_RISK_LIMIT`), and how many there are in all."""
    condition = (CustomerScore.value_tier == "high") & (CustomerScore.probability_alive < threshold)
    total = session.scalar(_scores_of(select(func.count()), principal, run).where(condition))
    statement = (
        _scores_of(select(CustomerScore, Customer.name, Customer.external_id), principal, run)
        .where(condition)
        .order_by(CustomerScore.clv_minor.desc(), CustomerScore.customer_id)
        .limit(AT_RISK_LIMIT)
    )
    currency = run.currency
    rows = [
        AtRiskRow(
            customer_id=score.customer_id,
            name=name or "",
            external_id=external_id,
            clv=None if score.clv_minor is None else Money(score.clv_minor, currency),
            probability_alive=score.probability_alive,
            total_spend=Money(score.total_spend_minor, currency),
            profit=Money(score.profit_minor, currency),
            frequency=score.frequency,
            rfm_segment=score.rfm_segment,
        )
        for score, name, external_id in session.execute(statement)
    ]
    return rows, int(total or 0)


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
    page: Page, session: Session, run: ValueRun, threshold: float
) -> dict[str, Any]:
    rows, total = at_risk(session, page.principal, run, threshold)  # type: ignore[arg-type]
    return {
        "at_risk": rows,
        "at_risk_total": total,
        "at_risk_limit": AT_RISK_LIMIT,
        "threshold": threshold,
        "thresholds": THRESHOLDS,
        "segment_name": lambda code: _segment_name(page, code),
    }


MODEL_NAMES = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "pnbd": "Pareto/NBD"}


def _horizon(page: Page, unit: str, n: int) -> str:
    """``52 weeks``, in the page's language."""
    t = page.translator
    if unit == "day":
        return t.ngettext("%(num)d day", "%(num)d days", n)
    if unit == "month":
        return t.ngettext("%(num)d month", "%(num)d months", n)
    if unit == "year":
        return t.ngettext("%(num)d year", "%(num)d years", n)
    return t.ngettext("%(num)d week", "%(num)d weeks", n)


def _run_facts(run: ValueRun, page: Page) -> dict[str, Any]:
    settings = run.settings or {}
    end = settings.get("observation_end")
    model = str(settings.get("model", ""))
    high, middle = (float(v) for v in settings.get("tier_thresholds", (0.80, 0.95)))
    return {
        "tier_high_share": high,
        "tier_middle_share": middle - high,
        "observation_end": date.fromisoformat(end) if isinstance(end, str) else None,
        "horizon": _horizon(
            page, str(settings.get("unit", "week")), int(settings.get("horizon", 0))
        ),
        "model_name": MODEL_NAMES.get(model, model),
    }


Threshold = Annotated[float, Query(ge=0.0, le=1.0)]


@router.get("/value", name="web_value")
def value_page(
    page: StaffPage, session: SessionDep, threshold: Threshold = DEFAULT_THRESHOLD
) -> HTMLResponse:
    principal = page.principal
    assert principal is not None
    if not principal.can("value:read"):
        return page.forbidden()
    run = latest_run(session, principal)
    if run is None:
        return page.render("value/index.html", {"run": None}, active="value")
    tiers = tier_rows(session, principal, run)
    values = clv_values(session, principal, run)
    curve = pareto_curve(values) if len(values) and values.sum() > 0 else None
    return page.render(
        "value/index.html",
        {
            "run": run,
            **_run_facts(run, page),
            "tiers": tiers,
            "tier_name": lambda code: _tier_name(page, code),
            "n_customers": len(values),
            # from the tiers' integer sums (the float array is for the curve only)
            "total_clv": Money.total((tier.total for tier in tiers), run.currency),
            "curve": curve,
            "chart": pareto_chart(page, curve) if curve is not None else None,
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
    if not principal.can("value:read"):
        return page.forbidden()
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

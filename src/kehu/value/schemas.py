"""What a value run is asked to do (validated), and what it gives back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from kehu.analytics.discounting import per_period_discount_rate
from kehu.core.money import currency_code, currency_exponent
from kehu.errors import CurrencyError

if TYPE_CHECKING:  # annotations only: the options are read before pandas is needed
    import pandas as pd
    import pyarrow as pa

TimeUnit = Literal["day", "week", "month", "year"]
#: What a run is asked to use: ``auto`` chooses among the transaction models on evidence
#: (:mod:`kehu.analytics.model_selection`), a name takes that model whatever the evidence.
ModelChoice = Literal["auto", "bgnbd", "mbgnbd", "pnbd"]

#: Where a value run's margins came from, as its ``diagnostics["margin_source"]`` records it:
#: the purchases' product costs (``amount - cost``), a margin fraction of the amount, or neither
#: (``amount``: the margin is the whole amount, so profit is the spend less cost-to-serve).
MarginSource = Literal["cost", "margin_rate", "amount"]
#: ``diagnostics["margin_basis"]``, the sentence older runs recorded, for a run without costs.
NO_COST_BASIS = "amount (no cost or margin given)"


def product_costs_known(diagnostics: Mapping[str, Any] | None) -> bool:
    """Whether a run had product costs (or a margin fraction) to take from the amounts: from its
    ``margin_source``, else (a run saved before it was recorded) its ``margin_basis``. A run that
    recorded neither is taken at its word (its margins as stored)."""
    diagnostics = diagnostics or {}
    source = diagnostics.get("margin_source")
    if source is not None:
        return source != "amount"
    return diagnostics.get("margin_basis") != NO_COST_BASIS


#: Length of each time unit in days (a month is a twelfth of a Julian year).
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12, "year": 365.25}


class ValueOptions(BaseModel):
    """Settings of one value run. Money-free: amounts stay in the data, which are in
    ``currency`` (the run computes in one currency, the one of its input)."""

    model_config = ConfigDict(frozen=True)

    observation_end: date
    holdout_end: date | None = None
    unit: TimeUnit = "week"
    horizon: int = Field(default=52, gt=0, description="CLV horizon, in whole units")
    discount_rate: float = Field(default=0.10, ge=0, lt=10, description="annual discount rate")
    model: ModelChoice = "auto"
    margin: float | None = Field(default=None, gt=0, le=1, description="margin fraction")
    tier_thresholds: tuple[float, float] = (0.80, 0.95)
    interval_draws: int = Field(
        default=200,
        ge=0,
        description="parameter draws for the per-customer intervals (0: no intervals)",
    )
    interval_level: float = Field(
        default=0.90, gt=0, lt=1, description="coverage the per-customer intervals aim at"
    )
    seed: int = Field(default=0, ge=0, description="seed of the parameter draws (reproducible)")
    timezone: str = "UTC"
    currency: str = "USD"

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        try:
            return currency_code(value)
        except CurrencyError as error:
            raise ValueError(error.reason) from None

    # Dumped with the run's settings for readers of a run's JSON (older kehu read it); not an
    # option: the currency's ISO 4217 decimals, never anything else.
    @computed_field  # type: ignore[prop-decorator]
    @property
    def minor_units(self) -> int:
        return currency_exponent(self.currency)

    @field_validator("interval_draws")
    @classmethod
    def _enough_draws(cls, value: int) -> int:
        if 0 < value < 20:
            raise ValueError("interval draws must be 0 (no intervals) or at least 20")
        return value

    @model_validator(mode="after")
    def _holdout_after_calibration(self) -> ValueOptions:
        if self.holdout_end is not None and self.holdout_end <= self.observation_end:
            raise ValueError(
                f"holdout end {self.holdout_end} must be after the observation end "
                f"{self.observation_end}"
            )
        return self

    @property
    def unit_days(self) -> float:
        return UNIT_DAYS[self.unit]

    @property
    def discount_rate_per_unit(self) -> float:
        """The annual rate converted to one time unit (see ``per_period_discount_rate``)."""
        return per_period_discount_rate(self.discount_rate, self.unit_days)


@dataclass
class ValueRunResult:
    """Everything a value run computed; ``table`` has one row per customer (Arrow, the columns
    of :data:`kehu.value.service.SCORE_COLUMNS`), ``scores`` is the same as a DataFrame."""

    options: ValueOptions
    table: pa.Table
    models: list[dict[str, Any]] = field(default_factory=list)
    tier_table: pd.DataFrame | None = None
    pareto: dict[str, Any] = field(default_factory=dict)
    holdout: pd.DataFrame | None = None
    holdout_errors: dict[str, float] | None = None
    diagnostics: dict[str, Any] = field(default_factory=dict)
    model_error: str | None = None
    model_error_type: str | None = None
    run_id: int | None = None

    @property
    def status(self) -> str:
        return "partial" if self.model_error else "succeeded"

    @cached_property
    def scores(self) -> pd.DataFrame:
        """The per-customer scores as a DataFrame, converted on first use (the command line does
        not need it: it prints and writes from the Arrow table)."""
        return self.table.to_pandas()


# -- what the read use cases (kehu.value.queries) return ------------------------------------


class ValueRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: str
    started_at: datetime
    finished_at: datetime | None
    source: str
    currency: str = Field(description="ISO 4217 code of the run's amounts and its scores'")
    n_customers: int
    message: str | None


class ValueRunDetail(ValueRunOut):
    input_fingerprint: str
    settings: dict[str, Any]
    models: list[dict[str, Any]]
    diagnostics: dict[str, Any]


_INTERVAL_LOW = (
    "low end of the run's interval (its interval_level) from the parameters' sampling "
    "distribution: the estimate's uncertainty, not the customer's own variation"
)
_INTERVAL_HIGH = "high end of the run's interval (see the low end)"


class ScoreFields(BaseModel):
    """What a value run scored for one customer; money in minor units of the run's currency.

    The one list of a score's fields: :class:`ScoreOut` (what the API serialises) and
    :class:`kehu.value.queries.Score` (what the pages show) are built on it, and the queries
    select the scores table's columns of the same names. A new score field is added here (and to
    the table)."""

    frequency: int
    recency: float
    age: float
    monetary_value_minor: int | None
    total_spend_minor: int
    rfm_recency: int
    rfm_frequency: int
    rfm_monetary: int
    rfm_segment: str
    probability_alive: float | None
    expected_purchases: float | None
    expected_spend_minor: int | None
    clv_minor: int | None
    # the ends of the run's intervals (``settings.interval_level``, 90 % unless set) from the
    # estimates' sampling distribution; null for runs without them
    probability_alive_low: float | None = Field(default=None, description=_INTERVAL_LOW)
    probability_alive_high: float | None = Field(default=None, description=_INTERVAL_HIGH)
    expected_purchases_low: float | None = Field(default=None, description=_INTERVAL_LOW)
    expected_purchases_high: float | None = Field(default=None, description=_INTERVAL_HIGH)
    clv_low_minor: int | None = Field(default=None, description=_INTERVAL_LOW)
    clv_high_minor: int | None = Field(default=None, description=_INTERVAL_HIGH)
    value_tier: str | None
    margin_minor: int
    cost_to_serve_minor: int
    profit_minor: int


class _ScoreOutKeys(BaseModel):
    """Whose score :class:`ScoreOut` is, of which run, in which currency."""

    customer: str
    customer_name: str | None
    run_id: int
    currency: str = Field(description="ISO 4217 code of the amounts (the run's)")


# The keys come first: pydantic lays fields out base-most first (``_ScoreOutKeys``, then
# ``ScoreFields``), so the JSON and the OpenAPI schema keep ``customer`` ... ``currency`` on top.
class ScoreOut(ScoreFields, _ScoreOutKeys):
    """A customer's latest value scores; money in minor units of ``currency``, its run's."""

    model_config = ConfigDict(from_attributes=True)


class TransactionOut(BaseModel):
    """A purchase (positive amount) or a return (negative); money in minor units of
    ``currency``."""

    id: int
    customer: str
    order_id: str | None
    occurred_at: datetime
    amount_minor: int
    cost_minor: int | None
    currency: str = Field(description="ISO 4217 code of amount and cost")


class RunPage(BaseModel):
    """One page of value runs: ``total`` counts every run that matches."""

    items: list[ValueRunOut]
    total: int


class ScorePage(BaseModel):
    """One page of customers' scores: ``total`` counts every score that matches."""

    items: list[ScoreOut]
    total: int


class TransactionPage(BaseModel):
    """One page of transactions: ``total`` counts every transaction that matches."""

    items: list[TransactionOut]
    total: int

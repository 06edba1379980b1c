"""What a value run is asked to do (validated), and what it gives back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator, model_validator

from kehu.analytics.clv import per_period_discount_rate
from kehu.core.money import currency_code, currency_exponent
from kehu.errors import CurrencyError

TimeUnit = Literal["day", "week", "month", "year"]
TransactionModelName = Literal["bgnbd", "mbgnbd", "pnbd"]

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
    model: TransactionModelName = "bgnbd"
    margin: float | None = Field(default=None, gt=0, le=1, description="margin fraction")
    tier_thresholds: tuple[float, float] = (0.80, 0.95)
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

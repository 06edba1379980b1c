"""The one settings object. Read from ``KEHU_*`` environment variables (and a ``.env`` file).

No instance is created at import time: call :func:`get_settings` (cached) or build ``Settings()``
explicitly in tests.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEHU_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///kehu.db",
        description="SQLAlchemy URL of the operational store (SQLite file by default).",
    )
    data_dir: Path = Field(
        default=Path("kehu-data"),
        description="Where older value runs' scores (Parquet) and reports are kept.",
    )
    timezone: str = Field(
        default="UTC", description="Business time zone: purchases are merged per day in this zone."
    )
    currency: str = Field(default="USD", description="ISO 4217 code of the business currency.")
    currency_minor_units: int = Field(default=2, ge=0, le=4)
    tier_thresholds: tuple[Decimal, Decimal] = Field(
        default=(Decimal("0.80"), Decimal("0.95")),
        description="Cumulative CLV shares that close the high and middle value tiers.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO 4217 code, got {value!r}")
        return value.upper()

    @field_validator("tier_thresholds")
    @classmethod
    def _ordered(cls, value: tuple[Decimal, Decimal]) -> tuple[Decimal, Decimal]:
        high, middle = value
        if not (0 < high < middle <= 1):
            raise ValueError("tier thresholds must satisfy 0 < high < middle <= 1")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

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
    merge_undo_days: int = Field(
        default=30, ge=0, description="How long an admin may undo a merge of two customers."
    )

    # --- front door: sessions, logins, tokens, API requests -------------------------------------
    session_lifetime_hours: float = Field(
        default=12, gt=0, description="A web session ends this long after login, however active."
    )
    session_idle_minutes: float = Field(
        default=120, gt=0, description="A web session ends after this long without a request."
    )
    session_cookie_name: str = Field(default="kehu_session")
    session_cookie_secure: bool | None = Field(
        default=None,
        description="Send the session cookie only over HTTPS. Unset: secure whenever the request "
        "came over HTTPS (so http://127.0.0.1 works for a local app); set true behind TLS proxies.",
    )
    login_window_seconds: int = Field(
        default=900, gt=0, description="Window over which failed logins are counted."
    )
    login_max_failures_per_account: int = Field(
        default=5, gt=0, description="Failed logins allowed per account within the window."
    )
    login_max_failures_per_address: int = Field(
        default=20, gt=0, description="Failed logins allowed per client address within the window."
    )
    password_min_length: int = Field(default=10, ge=8)
    token_default_lifetime_days: int = Field(default=90, gt=0)
    token_max_lifetime_days: int = Field(default=365, gt=0)
    idempotency_key_hours: float = Field(
        default=24, gt=0, description="How long a write's Idempotency-Key is remembered."
    )
    max_request_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body the API accepts (413 above)."
    )
    api_max_page_size: int = Field(default=200, gt=0)

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

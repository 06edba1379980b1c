"""Settings of the service desk (``KEHU_*`` environment variables, like :mod:`kehu.config`).

Kept apart from :class:`kehu.config.Settings` while issue 3 is being integrated; the fields may
move there unchanged. No instance is created at import time: use :func:`get_service_settings`
or build ``ServiceSettings(...)`` explicitly (tests do).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEHU_", env_file=".env", extra="ignore")

    repeat_window_days: int = Field(
        default=7,
        ge=0,
        description="A new ticket from the same customer in the same category within this many "
        "days is linked as a repeat.",
    )
    handling_cost_per_hour: Decimal = Field(
        default=Decimal("30"),
        ge=0,
        description="Cost of one hour of agent handling time, in major units of the currency.",
    )
    currency_minor_units: int = Field(default=2, ge=0, le=4)
    reporting_timezone: str = Field(
        default="UTC", description="Time zone in which monthly figures are grouped."
    )
    attachment_dir: Path | None = Field(
        default=None,
        description="Directory for attachment bytes; unset: they are stored in the database.",
    )
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    outbox_transport: Literal["file", "console", "smtp"] = "file"
    outbox_dir: Path = Field(default=Path("kehu-data/outbox"))
    outbox_sender: str = "service@kehu.invalid"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    job_lease_seconds: int = Field(default=300, gt=0)
    job_max_attempts: int = Field(default=5, gt=0)


@lru_cache(maxsize=1)
def get_service_settings() -> ServiceSettings:
    return ServiceSettings()

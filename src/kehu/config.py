"""The one settings object. Read from ``KEHU_*`` environment variables (and a ``.env`` file).

No instance is created at import time: call :func:`get_settings` (cached) or build ``Settings()``
explicitly in tests.
"""

from __future__ import annotations

import os
import secrets
import threading
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    session_touch_seconds: float = Field(
        default=60,
        gt=0,
        description="How stale a session's or token's stored last-use time may get before a "
        "request records a new one (after its response, in a transaction of its own).",
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
    login_max_failures_per_account_and_address: int = Field(
        default=5,
        gt=0,
        description="Failed logins allowed for one account from one client address within the "
        "window; then that address waits, the right password included (other addresses do not).",
    )
    login_max_failures_per_address: int = Field(
        default=20, gt=0, description="Failed logins allowed per client address within the window."
    )
    login_account_backoff_after: int = Field(
        default=50,
        gt=0,
        description="Failed logins of one account from all addresses within the window after "
        "which the account takes one attempt per back-off delay: 1 s, doubled with every further "
        "failure (many addresses together slow an account down; none can lock it).",
    )
    login_account_backoff_max_seconds: int = Field(
        default=900, gt=0, description="Longest back-off delay of an account."
    )
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="Reverse proxies in front of kehu: addresses or CIDR networks, "
        "comma-separated. Only a request whose direct peer is one of them has its "
        "X-Forwarded-For read for the client address (login limits, the session record). "
        "Empty: the header is ignored.",
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

    # --- signing ------------------------------------------------------------------------------
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs the public forms' tokens (HMAC). Unset: a random key is "
        "generated into <data_dir>/secret_key on first use and kept there; servers sharing one "
        "store must share one key, so set KEHU_SECRET_KEY on each of them.",
    )

    # --- the public complaint door (kehu.service.public) ---------------------------------------
    public_base_url: str | None = Field(
        default=None,
        description="Absolute address of kehu for the links in messages to customers, e.g. "
        "https://service.example.com. Unset: the address of the request that filed the ticket.",
    )
    public_status_link_days: int = Field(
        default=90, gt=0, description="A ticket's status link expires this many days after issue."
    )
    public_window_seconds: int = Field(
        default=3600, gt=0, description="Sliding window of the public rate limits."
    )
    public_max_complaints_per_address: int = Field(
        default=10, gt=0, description="Tickets one client address may file within the window."
    )
    public_max_complaints_per_email: int = Field(
        default=5, gt=0, description="Tickets one email address may file within the window."
    )
    public_max_replies_per_address: int = Field(
        default=30, gt=0, description="Replies one client address may send within the window."
    )
    public_max_replies_per_link: int = Field(
        default=20, gt=0, description="Replies through one status link within the window."
    )
    public_max_failed_lookups_per_address: int = Field(
        default=50, gt=0, description="Unknown status links one address may try within the window."
    )
    public_min_fill_seconds: float = Field(
        default=3,
        ge=0,
        description="A public form sent sooner than this after it was shown is "
        "refused (people take longer; naive bots do not).",
    )
    public_form_max_age_hours: float = Field(
        default=24, gt=0, description="A public form older than this is shown again to be sent."
    )

    # --- the service desk (kehu.service) --------------------------------------------------------
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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # KEHU_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.5 rather than a JSON list (NoDecode above)
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

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


SECRET_KEY_FILE = "secret_key"
_secret_lock = threading.Lock()


def signing_key(settings: Settings) -> bytes:
    """The key that signs kehu's own tokens: ``settings.secret_key`` when set, else the key kept
    in ``<data_dir>/secret_key``, generated there (mode 0600) the first time it is needed."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 16:
            from kehu.errors import ConfigurationError

            raise ConfigurationError("KEHU_SECRET_KEY must be at least 16 characters long")
        return value.encode("utf-8")
    return _install_key(Path(settings.data_dir) / SECRET_KEY_FILE)


def _install_key(path: Path) -> bytes:
    with _secret_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(temporary, path)  # atomic, and never replaces a key written meanwhile
            except FileExistsError:
                pass
            finally:
                temporary.unlink()
        value = path.read_text(encoding="ascii").strip()
    if len(value) < 16:
        from kehu.errors import ConfigurationError

        raise ConfigurationError(f"{path} holds no usable secret key; delete it to get a new one")
    return value.encode("ascii")

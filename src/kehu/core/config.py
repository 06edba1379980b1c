"""The one settings object. Read from ``KEHU_*`` environment variables (and a ``.env`` file).

No instance is created at import time: call :func:`get_settings` (cached) or build ``Settings()``
explicitly in tests.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from decimal import Decimal
from functools import lru_cache
from ipaddress import IPv6Address, ip_address
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    Field,
    IPvAnyNetwork,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict, SettingsError

from kehu.core.money import currency_code, currency_exponent
from kehu.errors import ConfigurationError, CurrencyError


class Settings(BaseSettings):
    # extra="ignore": a KEHU_* variable or .env line kehu does not know (an old, a misspelt or a
    # newer version's setting) must not stop the app; keyword arguments are checked in __init__.
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
    currency: str = Field(
        default="USD",
        description="ISO 4217 code of the business currency: what imported transactions and "
        "the desk's handling costs are in. Stored amounts keep the currency they were stored "
        "in, so changing it later reinterprets nothing.",
    )
    currency_minor_units: int = Field(
        default=None,
        validate_default=True,
        description="Decimal places of the currency: always its ISO 4217 minor unit (JPY 0, "
        "CNY 2, KWD 3), filled in from the currency. A value that differs is refused: it "
        "would scale amounts wrongly.",
    )
    tier_thresholds: tuple[Decimal, Decimal] = Field(
        default=(Decimal("0.80"), Decimal("0.95")),
        description="Cumulative CLV shares that close the high and middle value tiers.",
    )
    merge_undo_days: int = Field(
        default=30, ge=0, description="How long an admin may undo a merge of two customers."
    )
    environment: Literal["development", "production"] = Field(
        default="development",
        description="production: kehu refuses to serve without KEHU_PUBLIC_BASE_URL. "
        "development: links in messages to customers point to the address `kehu serve` "
        "listens on when KEHU_PUBLIC_BASE_URL is unset.",
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
        "X-Forwarded-For read for the client address (login limits, the public forms' "
        "limits, the session record). "
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

    # --- the public complaint door (kehu.desk.public) ---------------------------------------
    public_base_url: str | None = Field(
        default=None,
        description="Absolute address of kehu for the links given to customers (status links, "
        "e-mails), e.g. https://service.example.com: http or https, a host, an optional path, "
        "no query or fragment. Never taken from a request's Host header. Unset: refused in "
        "production; in development the address `kehu serve` listens on.",
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

    # --- survey invitations (kehu.feedback.invitations) -------------------------------------
    survey_contact_days: int = Field(
        default=30,
        ge=0,
        description="One contact cap across every survey trigger: at most one survey "
        "invitation per customer within this many days (0: no cap).",
    )
    survey_link_days: int = Field(
        default=14,
        gt=0,
        description="A survey invitation's link expires this many days after it is sent.",
    )
    survey_reminder_days: int = Field(
        default=3,
        ge=0,
        description="One reminder this many days after an invitation that has not been "
        "answered (0: no reminders).",
    )

    # --- the pages' footer ------------------------------------------------------------------
    footer_link_url: str | None = Field(
        default=None,
        description="Where the link in every page's footer leads: a path of this site "
        "(/help) or an absolute http or https address. Unset: kehu's public complaint form "
        "(/complain); none: no footer link.",
    )
    footer_link_label: dict[str, str] = Field(
        default_factory=dict,
        description='The footer link\'s text in every language, as JSON: {"en": "Help", '
        '"zh-Hans": "帮助"}. Unset: "Have a complaint? Tell us" in the page\'s language.',
    )

    # --- the service desk (kehu.desk) --------------------------------------------------------
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
    calibration_min_sample: int = Field(
        default=20,
        ge=1,
        le=100_000,
        description="Promise calibration suggests a new target only from at least this many "
        "measured tickets per promise target (fewer: the page says the sample is too small).",
    )
    staff_language: Literal["en", "zh-Hans"] = Field(
        default="en",
        description="Language of the desk's e-mails to staff mailboxes (service promise "
        "alerts to a team or a rule's address); customers get theirs in their own language.",
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

    def __init__(self, **values: Any) -> None:
        # A keyword that names no setting is a mistake in code, refused: a renamed setting
        # passed by its old name was once silently ignored. (``_env_file`` and the other
        # underscored options are pydantic-settings' own.)
        unknown = sorted(
            key for key in values if not key.startswith("_") and key not in type(self).model_fields
        )
        if unknown:
            raise TypeError(f"Settings() got unknown settings: {', '.join(unknown)}")
        super().__init__(**values)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # KEHU_TRUSTED_PROXIES=10.0.0.0/8,192.168.1.5 rather than a JSON list (NoDecode above)
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("public_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # KEHU_PUBLIC_BASE_URL= (empty) is unset
        return absolute_base_url(value)

    @field_validator("footer_link_url")
    @classmethod
    def _footer_link(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # KEHU_FOOTER_LINK_URL= (empty) is unset: the complaint form
        return footer_link(value)

    @field_validator("footer_link_label")
    @classmethod
    def _footer_label(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            return {}
        from kehu.core.i18n import LOCALES  # babel, loaded only when a label is set

        unknown = sorted(set(value) - set(LOCALES))
        if unknown:
            raise ValueError(
                f"unknown language {', '.join(unknown)}; the languages are {', '.join(LOCALES)}"
            )
        missing = [code for code in LOCALES if not value.get(code, "").strip()]
        if missing:
            raise ValueError(
                f"the footer link needs a text in every language, missing: {', '.join(missing)}"
            )
        return {code: text.strip() for code, text in value.items()}

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
        try:
            return currency_code(value)
        except CurrencyError as error:
            raise ValueError(error.reason) from None

    @field_validator("currency_minor_units", mode="before")
    @classmethod
    def _currency_exponent(cls, value: object, info: ValidationInfo) -> object:
        # The decimals were once a setting of their own (default 2, whatever the currency);
        # they are the currency's now, so a JPY store cannot keep hundredths of a yen.
        currency = info.data.get("currency")
        if currency is None:  # the currency itself was refused: that is the error to show
            return 0 if value is None else value
        exponent = currency_exponent(currency)
        try:
            given = None if value is None else int(str(value))
        except ValueError:
            return value  # not a number: pydantic's own message says so
        if given is not None and given != exponent:
            raise ValueError(
                f"{currency} has {exponent} decimal places (ISO 4217), not {value}: "
                "unset KEHU_CURRENCY_MINOR_UNITS"
            )
        return exponent

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
    """The settings of this process; a malformed ``KEHU_*`` variable is a
    :class:`~kehu.errors.ConfigurationError` naming it (one line, exit 2 in the CLI)."""
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigurationError(settings_problems(error)) from None
    except SettingsError as error:  # a list or table setting that is not JSON
        raise ConfigurationError(unreadable_setting(error)) from None


def settings_problems(error: ValidationError) -> str:
    """What is wrong with the settings, each problem led by its variable's name (the name of
    the variable, not of an item: KEHU_TRUSTED_PROXIES, item 2)."""
    problems = []
    for problem in error.errors():
        field, *inside = problem["loc"] or ("*",)
        name = "KEHU_" + str(field).upper()
        items = [part + 1 for part in inside if isinstance(part, int)]
        where = f" (item {items[0]})" if items else ""
        message = problem["msg"].removeprefix("Value error, ")
        problems.append(message if message.startswith(name) else f"{name}{where}: {message}")
    return "; ".join(problems)


_SOURCE_FIELD = re.compile(r'field "(\w+)"')


def unreadable_setting(error: SettingsError) -> str:
    """pydantic-settings' "error parsing value for field ..." as the variable's name and why."""
    found = _SOURCE_FIELD.search(str(error))
    name = "KEHU_" + found.group(1).upper() if found else "a KEHU_* setting"
    cause = error.__cause__
    why = f" ({cause})" if cause is not None else ""
    return f"{name}: cannot be read as JSON{why}"


# -- the address of kehu in links given to customers --------------------------------------------

PUBLIC_BASE_URL_REQUIRED = (
    "KEHU_PUBLIC_BASE_URL must be set when KEHU_ENVIRONMENT=production (e.g. "
    "https://service.example.com): links in messages to customers are built only from it"
)

#: Where ``kehu serve`` listens by default: the links' base in development for an app that was
#: built without a listening address (tests, an app served by other means).
DEVELOPMENT_BASE_URL = "http://127.0.0.1:8000"


def absolute_base_url(value: str) -> str:
    """``value`` checked as the absolute address kehu is reached at, without a trailing slash.

    http or https, a host, an optional port and path; no user name, query or fragment, so that
    a link ``base + "/status/<token>"`` leads to kehu and nowhere else."""
    problem = (
        "KEHU_PUBLIC_BASE_URL must be an absolute http or https address such as "
        f"https://service.example.com, got {value!r}"
    )
    text = value.strip()
    if any(character.isspace() or not character.isprintable() for character in text):
        raise ValueError(f"{problem}: it contains spaces or control characters")
    if "\\" in text:  # browsers read a backslash as a slash: the host would not be what it seems
        raise ValueError(f"{problem}: it contains a backslash")
    try:
        parts = urlsplit(text)
        _ = parts.port  # a port that is not a number from 0 to 65535 raises ValueError
    except ValueError as error:
        raise ValueError(f"{problem}: {error}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{problem}: the scheme must be http or https")
    if not parts.hostname:
        raise ValueError(f"{problem}: it names no host")
    if "@" in parts.netloc:
        raise ValueError(f"{problem}: it must not carry a user name or password")
    if "?" in text or "#" in text:
        raise ValueError(f"{problem}: it must not have a query or fragment")
    return text.rstrip("/")


#: ``KEHU_FOOTER_LINK_URL=none``: no link in the pages' footer.
NO_FOOTER_LINK = "none"


def footer_link(value: str) -> str:
    """``value`` checked as the footer link's target: ``none`` (no link, returned as ``""``), a
    path of this site or an absolute http or https address; nothing a browser would run
    (``javascript:``) or read as another host (``//host``, a backslash)."""
    text = value.strip()
    if text.lower() == NO_FOOTER_LINK:
        return ""
    problem = (
        "KEHU_FOOTER_LINK_URL must be a path of this site (/help), an absolute http or https "
        f"address or none, got {value!r}"
    )
    if any(character.isspace() or not character.isprintable() for character in text):
        raise ValueError(f"{problem}: it contains spaces or control characters")
    if "\\" in text:
        raise ValueError(f"{problem}: it contains a backslash")
    if text.startswith("/") and not text.startswith("//"):
        return text
    try:
        parts = urlsplit(text)
        _ = parts.port
    except ValueError as error:
        raise ValueError(f"{problem}: {error}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    if "@" in parts.netloc:
        raise ValueError(f"{problem}: it must not carry a user name or password")
    return text


def require_public_base_url(settings: Settings) -> None:
    """Refuse production without ``public_base_url``: there, no address of kehu may be guessed
    (a request's Host header is the sender's to choose, and would carry status tokens away)."""
    if settings.environment == "production" and settings.public_base_url is None:
        raise ConfigurationError(PUBLIC_BASE_URL_REQUIRED)


def public_url(settings: Settings, path: str) -> str:
    """The absolute link to ``path`` (``/status/<token>``, ...) given to customers: the one place
    links are built. ``public_base_url``; unset (development only) :data:`DEVELOPMENT_BASE_URL`.
    Never from the request: its Host header is the sender's to choose."""
    require_public_base_url(settings)
    return (settings.public_base_url or DEVELOPMENT_BASE_URL) + path


def listening_url(host: str, port: int) -> str:
    """``http://host:port`` of a server listening there, as a browser on this machine reaches
    it (a server on every address, 0.0.0.0 or ::, is reached on the loopback address)."""
    try:
        address = ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ip_address("::1" if isinstance(address, IPv6Address) else "127.0.0.1")
    shown = f"[{address}]" if isinstance(address, IPv6Address) else str(address)
    return f"http://{shown}:{port}"


def serving_settings(settings: Settings, *, host: str, port: int) -> Settings:
    """``settings`` of a server listening on ``host:port``: refused in production without
    ``public_base_url``; in development without one, links point to where it listens."""
    require_public_base_url(settings)
    if settings.public_base_url is not None:
        return settings
    return settings.model_copy(update={"public_base_url": listening_url(host, port)})


SECRET_KEY_FILE = "secret_key"
_secret_lock = threading.Lock()


def signing_key(settings: Settings) -> bytes:
    """The key that signs kehu's own tokens: ``settings.secret_key`` when set, else the key kept
    in ``<data_dir>/secret_key``, generated there (mode 0600) the first time it is needed."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 16:
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
        raise ConfigurationError(f"{path} holds no usable secret key; delete it to get a new one")
    return value.encode("ascii")

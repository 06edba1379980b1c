"""The settings: KEHU_PUBLIC_BASE_URL is checked and normalised, production refuses to run without
it, development links point to the listening address, and a malformed variable is one
ConfigurationError naming it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from kehu.core.config import (
    DEVELOPMENT_BASE_URL,
    Settings,
    get_settings,
    listening_url,
    public_url,
    require_public_base_url,
    serving_settings,
)
from kehu.errors import ConfigurationError


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def no_address_settings_of_the_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    """The defaults are under test: the shell's KEHU_ENVIRONMENT or KEHU_PUBLIC_BASE_URL would
    hide them."""
    monkeypatch.delenv("KEHU_ENVIRONMENT", raising=False)
    monkeypatch.delenv("KEHU_PUBLIC_BASE_URL", raising=False)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """``KEHU_*`` variables for :func:`get_settings` (its cache cleared before and after)."""
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://service.example.com", "https://service.example.com"),
        ("https://service.example.com/", "https://service.example.com"),
        (" http://127.0.0.1:8000// ", "http://127.0.0.1:8000"),
        ("https://[2001:db8::1]:8443", "https://[2001:db8::1]:8443"),
        ("https://example.com/service/", "https://example.com/service"),
        ("", None),  # KEHU_PUBLIC_BASE_URL= is unset
    ],
)
def test_the_public_address_is_kept_without_a_trailing_slash(given: str, kept: str | None) -> None:
    assert settings(public_base_url=given).public_base_url == kept


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("service.example.com", "the scheme must be http or https"),
        ("ftp://service.example.com", "the scheme must be http or https"),
        ("javascript:alert(1)", "the scheme must be http or https"),
        ("//evil.example", "the scheme must be http or https"),
        ("https://", "it names no host"),
        ("https:///status", "it names no host"),
        ("https://service.example.com?next=x", "query or fragment"),
        ("https://service.example.com/?", "query or fragment"),
        ("https://service.example.com/#top", "query or fragment"),
        ("https://user:pw@service.example.com", "user name or password"),
        ("https://service.example.com:99999", "out of range"),
        ("https://service.example.com:http", "Port could not be cast"),
        ("https://service.example.com\\@evil.example", "backslash"),
        ("https://service example.com", "spaces or control characters"),
        ("https://service.example.com\r\nX: y", "spaces or control characters"),
    ],
)
def test_a_bad_public_address_is_refused_naming_the_setting(given: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        settings(public_base_url=given)
    message = str(refused.value)
    assert "KEHU_PUBLIC_BASE_URL must be an absolute http or https address" in message
    assert reason in message


def test_get_settings_names_the_bad_variable_in_one_configuration_error(
    environment: pytest.MonkeyPatch,
) -> None:
    environment.setenv("KEHU_PUBLIC_BASE_URL", "ftp://service.example.com")
    environment.setenv("KEHU_ENVIRONMENT", "staging")
    with pytest.raises(ConfigurationError) as refused:
        get_settings()
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("KEHU_ENVIRONMENT: Input should be 'development' or 'production'")
    assert "; KEHU_PUBLIC_BASE_URL must be an absolute http or https address" in message
    assert "the scheme must be http or https" in message


def test_production_needs_the_public_address() -> None:
    production = settings(environment="production")
    for refuse in (
        lambda: require_public_base_url(production),
        lambda: public_url(production, "/status/x"),
        lambda: serving_settings(production, host="127.0.0.1", port=8000),
    ):
        with pytest.raises(ConfigurationError, match=r"^KEHU_PUBLIC_BASE_URL must be set when"):
            refuse()
    configured = settings(environment="production", public_base_url="https://kehu.example/")
    assert public_url(configured, "/status/x") == "https://kehu.example/status/x"
    assert serving_settings(configured, host="0.0.0.0", port=80) is configured


def test_development_links_point_to_the_listening_address() -> None:
    development = settings()
    assert development.environment == "development"
    assert public_url(development, "/status/x") == f"{DEVELOPMENT_BASE_URL}/status/x"
    served = serving_settings(development, host="127.0.0.1", port=8123)
    assert served.public_base_url == "http://127.0.0.1:8123"
    assert public_url(served, "/status/x") == "http://127.0.0.1:8123/status/x"
    assert development.public_base_url is None  # the given settings are not changed
    configured = settings(public_base_url="https://kehu.example")
    assert serving_settings(configured, host="127.0.0.1", port=8123) is configured


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8000"),
        ("localhost", "http://localhost:8000"),
        ("kehu.internal", "http://kehu.internal:8000"),
        ("0.0.0.0", "http://127.0.0.1:8000"),  # every address: reached on the loopback one
        ("::", "http://[::1]:8000"),
        ("::1", "http://[::1]:8000"),
    ],
)
def test_the_listening_address_as_a_browser_reaches_it(host: str, url: str) -> None:
    assert listening_url(host, 8000) == url

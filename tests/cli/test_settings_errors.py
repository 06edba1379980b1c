"""A bad KEHU_* value is one line naming the variable and what is wrong, and exit status 2,
never a pydantic traceback; an unknown KEHU_* variable does not stop a command."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from kehu.cli import main
from kehu.core.config import get_settings


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.chdir(tmp_path)  # no .env of the working tree
    monkeypatch.setenv("KEHU_DATABASE_URL", f"sqlite:///{tmp_path / 'kehu.db'}")
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the message: it must not be wrapped
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        (
            "KEHU_SESSION_TOUCH_SECONDS",
            "abc",
            "KEHU_SESSION_TOUCH_SECONDS: Input should be a valid number",
        ),
        (
            "KEHU_CURRENCY_MINOR_UNITS",
            "9",
            # the decimals are the currency's own (ISO 4217): any other number is refused
            "KEHU_CURRENCY_MINOR_UNITS: USD has 2 decimal places (ISO 4217), not 9",
        ),
        ("KEHU_TIMEZONE", "Mars/Olympus", "KEHU_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        (
            "KEHU_TRUSTED_PROXIES",
            "10.0.0.0/8,nope",
            "KEHU_TRUSTED_PROXIES (item 2): value is not a valid",
        ),
        ("KEHU_TIER_THRESHOLDS", "abc", "KEHU_TIER_THRESHOLDS: cannot be read as JSON"),
        (
            "KEHU_TIER_THRESHOLDS",
            "[0.9, 0.5]",
            "KEHU_TIER_THRESHOLDS: tier thresholds must satisfy",
        ),
    ],
)
def test_a_bad_setting_is_one_line_naming_it_and_exit_2(
    variable: str,
    value: str,
    said: str,
    environment: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment.setenv(variable, value)
    assert run(["db", "upgrade"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: ConfigurationError: {said}"), lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert "pydantic" not in captured.err


def test_an_unknown_variable_does_not_stop_a_command(
    environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environment.setenv("KEHU_FROM_A_NEWER_VERSION", "1")
    environment.setenv("KEHU_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")  # a renamed setting's old name
    assert run(["db", "upgrade"]) == 0
    assert "is up to date" in capsys.readouterr().out


def test_the_kehu_process_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    environment = os.environ | {
        "KEHU_SESSION_TOUCH_SECONDS": "abc",
        "KEHU_DATABASE_URL": f"sqlite:///{tmp_path / 'kehu.db'}",
        "KEHU_DATA_DIR": str(tmp_path / "data"),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "kehu", "user", "list"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.strip().splitlines() == [
        "error: ConfigurationError: KEHU_SESSION_TOUCH_SECONDS: Input should be a valid number, "
        "unable to parse string as a number"
    ]

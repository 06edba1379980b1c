"""Settings refuse a keyword that names no setting (a renamed setting passed by its old name was
silently ignored), while an unknown KEHU_* variable or .env line does not stop the app."""

from __future__ import annotations

from pathlib import Path

import pytest

from kehu.core.config import Settings


def test_a_keyword_that_names_no_setting_is_refused() -> None:
    with pytest.raises(TypeError, match=r"login_max_failures_per_account$"):
        Settings(login_max_failures_per_account=3)
    with pytest.raises(TypeError, match="unknown settings: a_typo, other"):
        Settings(database_url="sqlite://", other=1, a_typo=2)


def test_known_keywords_and_pydantic_settings_options_are_taken() -> None:
    settings = Settings(_env_file=None, login_max_failures_per_account_and_address=3)
    assert settings.login_max_failures_per_account_and_address == 3
    assert Settings(**settings.model_dump()) == settings


def test_unknown_variables_and_env_lines_are_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("KEHU_FROM_A_NEWER_VERSION=1\nKEHU_CURRENCY=CNY\n")
    monkeypatch.setenv("KEHU_LOGIN_MAX_FAILURES_PER_ACCOUNT", "3")  # the old name
    settings = Settings()
    assert settings.currency == "CNY"
    assert settings.login_max_failures_per_account_and_address == 5

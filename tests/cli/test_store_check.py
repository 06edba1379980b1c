"""Commands that open the store check it first: a store that cannot be opened is one line on
standard error naming the URL (password masked) and exit status 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kehu.cli import main
from kehu.cli import serve as serve_command
from kehu.core.config import get_settings

MISSING_DIRECTORY = "sqlite:////nonexistent-dir/kehu.db"
UNREACHABLE_POSTGRES = "postgresql://kehu:s3cret-pw@127.0.0.1:1/kehu"
POSTGRES_SHOWN = "postgresql://kehu:***@127.0.0.1:1/kehu"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    monkeypatch.setenv("KEHU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the message: it must not be wrapped

    def use(url: str) -> None:
        monkeypatch.setenv("KEHU_DATABASE_URL", url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def run(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def _one_error_line(captured: pytest.CaptureResult[str]) -> str:
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize(
    ("url", "shown"),
    [(MISSING_DIRECTORY, MISSING_DIRECTORY), (UNREACHABLE_POSTGRES, POSTGRES_SHOWN)],
)
def test_serve_refuses_a_store_it_cannot_open_in_one_line(
    url: str,
    shown: str,
    store_url: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[object] = []
    monkeypatch.setattr(serve_command, "serve_app", lambda *args, **kwargs: served.append(args))
    store_url(url)
    assert run(["serve", "--port", "1"]) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured)
    assert "ConfigurationError" in line and shown in line
    assert "s3cret-pw" not in captured.err + captured.out
    assert served == []  # nothing started listening


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "upgrade"],
        ["user", "list"],
        ["worker", "run", "--once"],
        ["value"],
        ["report"],
        ["demo", "--no-serve"],
    ],
    ids=lambda argv: " ".join(argv),
)
def test_every_command_that_opens_the_store_checks_it_first(
    argv: list[str], store_url: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    store_url(UNREACHABLE_POSTGRES)
    assert run(argv) == 2
    captured = capsys.readouterr()
    line = _one_error_line(captured)
    assert POSTGRES_SHOWN in line
    assert "s3cret-pw" not in captured.err + captured.out


@pytest.mark.parametrize("command", ["import", "value"])
def test_a_file_is_checked_before_the_store_then_the_store(
    command: str,
    tmp_path: Path,
    store_url: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_url(UNREACHABLE_POSTGRES)
    # issue 9: a bad file fails at once, before the store is opened (exit 3, not 2)
    assert run([command, str(tmp_path / "missing.csv")]) == 3
    assert "no such file" in _one_error_line(capsys.readouterr())
    good = tmp_path / "transactions.csv"
    good.write_text("customer_id,date,amount\nc1,2024-01-01,10\n")
    assert run([command, str(good)]) == 2
    captured = capsys.readouterr()
    assert POSTGRES_SHOWN in _one_error_line(captured)
    assert "s3cret-pw" not in captured.err + captured.out


def test_kehu_serve_process_exits_2_with_one_line(tmp_path: Path) -> None:
    environment = os.environ | {
        "KEHU_DATABASE_URL": UNREACHABLE_POSTGRES,
        "KEHU_DATA_DIR": str(tmp_path / "data"),
    }
    finished = subprocess.run(
        [sys.executable, "-m", "kehu", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=120,
    )
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert POSTGRES_SHOWN in lines[0]
    assert "s3cret-pw" not in finished.stderr + finished.stdout


def test_a_postgres_server_that_never_answers_is_given_up_on(tmp_path: Path) -> None:
    """A hung server (or a stalled network path) accepts the connection and never answers:
    the command gives up after the connect timeout (10 s) instead of waiting for ever."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    environment = os.environ | {
        "KEHU_DATABASE_URL": f"postgresql://kehu:s3cret-pw@127.0.0.1:{port}/kehu",
        "KEHU_DATA_DIR": str(tmp_path / "data"),
    }
    started = time.monotonic()
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "kehu", "db", "upgrade"],
            capture_output=True,
            text=True,
            env=environment,
            cwd=tmp_path,
            timeout=60,
        )
    finally:
        listener.close()
    assert time.monotonic() - started < 40
    assert finished.returncode == 2, finished.stderr
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, finished.stderr
    assert f"postgresql://kehu:***@127.0.0.1:{port}/kehu" in lines[0]
    assert "timeout" in lines[0]
    assert "s3cret-pw" not in finished.stderr + finished.stdout

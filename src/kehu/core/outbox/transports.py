"""How the outbox sends a message: ``file`` (default; a directory of ``.eml`` files), ``console``
and ``smtp`` (``KEHU_SMTP_*`` settings)."""

from __future__ import annotations

import os
import smtplib
import sys
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol, TextIO

from kehu.core.config import Settings
from kehu.errors import ConfigurationError

__all__ = ["ConsoleTransport", "FileTransport", "SmtpTransport", "Transport", "make_transport"]


class Transport(Protocol):
    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None: ...


class FileTransport:
    """Writes each message as ``<dir>/<id>-<purpose>.eml`` (idempotent, atomic)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, outbox_id: int, purpose: str) -> Path:
        return self.directory / f"{outbox_id:08d}-{purpose}.eml"

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path_for(outbox_id, purpose)
        if path.exists():
            return
        temporary = path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_bytes(bytes(message))
        os.replace(temporary, path)


class ConsoleTransport:
    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"--- outbox message {outbox_id} ({purpose}) ---\n{message}\n")
        stream.flush()


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ConfigurationError("the smtp outbox transport needs KEHU_SMTP_HOST")
        self.settings = settings

    def send(self, message: EmailMessage, outbox_id: int, purpose: str) -> None:
        s = self.settings
        assert s.smtp_host is not None
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
            smtp.send_message(message)


def make_transport(settings: Settings) -> Transport:
    if settings.outbox_transport == "console":
        return ConsoleTransport()
    if settings.outbox_transport == "smtp":
        return SmtpTransport(settings)
    return FileTransport(settings.outbox_dir)

"""``kehu serve``: the API and web pages over the configured store, with the job runner."""

from __future__ import annotations

import os
import socket
import threading
from typing import Annotated

import typer
from rich.console import Console

import kehu.domains  # noqa: F401  (every domain registers its jobs)
from kehu.cli.store import open_store
from kehu.core.config import Settings, get_settings, require_public_base_url, serving_settings
from kehu.store.db import Database

console = Console()

HostOption = Annotated[str, typer.Option(help="address to listen on")]
PortOption = Annotated[int, typer.Option(help="port to listen on")]


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve_app(
    database: Database, settings: Settings, *, host: str, port: int, worker: bool = True
) -> None:
    """Serve kehu on ``host:port`` until interrupted; ``worker`` runs the scheduled jobs (SLA
    checks, outbox delivery) in a background thread of the same process.

    Links given to customers are built on ``KEHU_PUBLIC_BASE_URL``; without it production is
    refused (``ConfigurationError``) and development links point to ``http://host:port``."""
    import uvicorn

    from kehu.app import create_app
    from kehu.core.jobs import run_worker

    given_base_url = settings.public_base_url
    settings = serving_settings(settings, host=host, port=port)
    stop = threading.Event()
    thread = None
    if worker:
        owner = f"{socket.gethostname()}:{os.getpid()}:serve"
        thread = threading.Thread(
            target=run_worker,
            args=(database, owner),
            kwargs={"stop": stop, "settings": settings},
            daemon=True,
        )
        thread.start()
    console.print(f"kehu is serving on [bold]http://{host}:{port}/[/] (Ctrl+C stops)")
    if given_base_url is None:
        console.print(
            f"links in messages to customers point to {settings.public_base_url} "
            "(development; set KEHU_PUBLIC_BASE_URL to the address customers reach)",
            highlight=False,
            soft_wrap=True,  # the address stays on one line, to be copied
        )
    try:
        # proxy_headers off: uvicorn would otherwise believe X-Forwarded-For from 127.0.0.1;
        # kehu reads it only from KEHU_TRUSTED_PROXIES (kehu.http.client_address).
        uvicorn.run(
            create_app(settings, database),
            host=host,
            port=port,
            log_level="warning",
            proxy_headers=False,
        )
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)


def serve(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    worker: Annotated[bool, typer.Option(help="run the job runner in-process")] = True,
) -> None:
    """Serve the API (/docs) and the web pages over the store at KEHU_DATABASE_URL.

    KEHU_ENVIRONMENT=production needs KEHU_PUBLIC_BASE_URL (exit 2 without it); in development
    the links given to customers point to the address served here unless it is set."""
    settings = get_settings()
    require_public_base_url(settings)  # before the store is opened: a refused start changes nothing
    database = open_store(settings, migrate=True)
    serve_app(database, settings, host=host, port=port, worker=worker)

"""``kehu db``: the operational store's schema."""

from __future__ import annotations

import typer
from rich.console import Console

from kehu.cli.store import open_store
from kehu.core.config import get_settings
from kehu.store.urls import masked_url

app = typer.Typer(
    help="The operational store (SQLite by default, PostgreSQL via KEHU_DATABASE_URL)."
)
console = Console()


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the store's schema to the latest version."""
    settings = get_settings()
    database = open_store(settings, migrate=True)
    database.dispose()
    console.print(f"store at [bold]{masked_url(settings.database_url)}[/] is up to date")

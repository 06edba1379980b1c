"""Alembic environment: kehu passes its own connection in ``config.attributes``.

The migrations are explicit (they import no domain); ``target_metadata`` is whatever tables the
running process has imported, which only the model comparison test relies on (it imports
:mod:`kehu.domains` first)."""

from __future__ import annotations

from alembic import context

from kehu.store.base import Base, modelled

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - kehu always passes its connection
    raise RuntimeError("run migrations through kehu.store.Database.upgrade()")

context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    include_name=modelled,
)
with context.begin_transaction():
    context.run_migrations()

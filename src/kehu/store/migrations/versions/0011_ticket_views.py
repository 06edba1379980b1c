"""saved views of the ticket queue, and the queue's search indexes (issue 8, must have 2)

``ticket_views``: a name for the queue's filters and sort (``params``, the queue's URL
parameters as a JSON object), owned by a user (``owner_id``, indexed, a foreign key to
``users.id`` like every staff column), shared with every user or not. A user's view names are
unique (``uq_ticket_views_owner_name``).

The queue's words are looked up in the subject and description of tickets and the bodies of
their messages (``ILIKE '%word%'``), and in the customer search index of migration 0005. On
PostgreSQL this migration adds GIN trigram indexes (``gin_trgm_ops``) on those three columns,
which serve such ``ILIKE`` queries; like 0005 it creates the ``pg_trgm`` extension when missing
if the role may, and otherwise leaves the indexes out with a warning giving the statements
(search then reads the tables). On SQLite the words are a scan of the desk's own rows.

Downgrade drops the indexes and the table (the saved views with it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import DBAPIError

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
#: PostgreSQL's trigram indexes of the queue's search (index -> (table, column))
TRIGRAM_INDEXES = {
    "ix_tickets_subject_trgm": ("tickets", "subject"),
    "ix_tickets_description_trgm": ("tickets", "description"),
    "ix_ticket_messages_body_trgm": ("ticket_messages", "body"),
}

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    op.create_table(
        "ticket_views",
        sa.Column("id", ID, primary_key=True),
        sa.Column("owner_id", sa.BigInteger(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("owner_id", "name", name="uq_ticket_views_owner_name"),
    )
    op.create_index("ix_ticket_views_owner_id", "ticket_views", ["owner_id"])
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        schema = _pg_trgm_schema(connection)
        for index, (table, column) in TRIGRAM_INDEXES.items() if schema is not None else ():
            opclass = f'"{schema}".gin_trgm_ops'
            op.execute(f"CREATE INDEX {index} ON {table} USING gin ({column} {opclass})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for index in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {index}")
    op.drop_index("ix_ticket_views_owner_id", table_name="ticket_views")
    op.drop_table("ticket_views")


def _pg_trgm_schema(connection: sa.Connection) -> str | None:
    """The schema of the pg_trgm extension, creating it if missing and the role may; ``None``
    if it may not (a frozen copy of migration 0005's)."""
    installed = (
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
        "WHERE e.extname = 'pg_trgm'"
    )
    schema = connection.exec_driver_sql(installed).scalar()
    if schema is not None:
        return str(schema)
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError as exc:
        statements = " ".join(
            f"CREATE INDEX {index} ON {table} USING gin ({column} gin_trgm_ops);"
            for index, (table, column) in TRIGRAM_INDEXES.items()
        )
        log.warning(
            "ticket search: cannot create the pg_trgm extension (%s); the search indexes are "
            "left out and the queue's search reads the tables. To add them: CREATE EXTENSION "
            "pg_trgm; as a role that may, then %s",
            " ".join(str(exc.orig).split()),
            statements,
        )
        return None
    return str(connection.exec_driver_sql(installed).scalar())

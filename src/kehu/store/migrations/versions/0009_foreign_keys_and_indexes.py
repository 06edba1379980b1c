"""foreign keys to users on every staff user id, an index on every foreign key (issue 7, item 7)

Foreign keys to ``users.id`` on the columns that hold a staff user's id:
``tickets.assignee_id`` and ``created_by``, ``ticket_events.actor_id``,
``ticket_messages.author_id``, ``ticket_attachments.uploaded_by``,
``sla_policy_versions.created_by``, ``escalation_rules.assignee_id``, ``team_members.user_id``,
``customers.owner_user_id``, ``customer_events.actor_user_id``,
``customer_merges.merged_by_user_id`` and ``undone_by_user_id``, ``signed_links.revoked_by``.
No ``ondelete`` (NO ACTION): kehu deactivates users and never deletes them
(``kehu.core.users.service``), so a delete of a user who is still referenced is refused instead
of silently forgetting who was assigned, who wrote or who did what.

Left without a foreign key on purpose: ``audit_events.actor_user_id`` and ``actor_token_id``.
Both are part of what each event's chain hash covers (``kehu.core.audit.service``); nulling an
unknown id there would break the chain's verification, and the audit log must keep naming the
actor (``actor_name``) whatever happens to the account.

Existing rows that name a user id no ``users`` row has (possible until now: there was no
foreign key) do not stop the upgrade: in the nullable columns the id becomes NULL (an event,
message or attachment then has an unknown author; a ticket or a customer no assignee or owner;
the rows themselves stay), and a team membership of an unknown user (``team_members.user_id`` is
NOT NULL, part of the primary key) is deleted. Valid references are untouched.

Indexes on every foreign key column that no index led by it covered (a primary key or a
composite unique constraint whose first column it is covers it): ``tickets.category_id``,
``repeat_of_id``, ``merged_into_id``, ``split_from_id``, ``sla_policy_version_id``,
``created_by``; ``transactions.import_id``; ``teams.calendar_id``;
``sla_policy_versions.calendar_id`` and ``created_by``; ``routing_rules.team_id``;
``escalation_rules.team_id`` and ``assignee_id``; ``ticket_attachments.message_id`` and
``uploaded_by``; ``ticket_events.actor_id``; ``ticket_messages.author_id``;
``customer_events.actor_user_id``; ``customer_merges.merged_by_user_id`` and
``undone_by_user_id``; ``signed_links.revoked_by``. tests/store/test_indexes.py keeps it so.

PostgreSQL: per column, the table is locked against writers (SHARE ROW EXCLUSIVE, what adding
the constraint takes anyway, so no orphan can be written between the cleaning and the check),
orphans are cleaned, and the constraint is added and checked at once. ``NOT VALID`` followed by
``VALIDATE`` would buy nothing here: the whole upgrade is one transaction, which holds its locks
to the end either way.

SQLite cannot add a constraint to an existing table, and recreating a table (Alembic's batch
mode: copy, drop, rename) is not possible for most of these: inside the migration's transaction
foreign keys are on, and dropping ``tickets``, ``ticket_messages``, ``sla_policy_versions`` or
``customers`` is refused once other tables' rows point at them; recreating ``customers`` would
also drop migration 0005's search triggers. So every user id column is swapped in place
instead, with the statements SQLite does have: ``ADD COLUMN <column>__users ... CONSTRAINT
fk_... REFERENCES users (id)``, copy the ids that exist in ``users`` (orphans stay NULL),
``DROP COLUMN`` the old one (its index dropped first), ``RENAME COLUMN`` the new one to the old
name, and create the index again. Every upgraded store thus enforces the foreign keys as a new
one does, and its schema compares equal with the models. The swapped column moves to the end of
its table (nothing in kehu reads columns by position), and the constraint is a column
constraint, which SQLAlchemy reflects without its name: a later migration that removes one does
it the same way (add a plain column, copy, drop, rename), as the downgrade here does.
``team_members`` alone (NOT NULL, in the primary key, referenced by no table) is recreated in
batch mode. Needs SQLite 3.35 or later (``DROP COLUMN``).

Downgrade removes the constraints and the new indexes; the NULLed ids and deleted memberships
stay as the upgrade left them (they named no user).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: Nullable columns holding a staff user id, as (table, column).
USER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("tickets", "assignee_id"),
    ("tickets", "created_by"),
    ("ticket_events", "actor_id"),
    ("ticket_messages", "author_id"),
    ("ticket_attachments", "uploaded_by"),
    ("sla_policy_versions", "created_by"),
    ("escalation_rules", "assignee_id"),
    ("customers", "owner_user_id"),
    ("customer_events", "actor_user_id"),
    ("customer_merges", "merged_by_user_id"),
    ("customer_merges", "undone_by_user_id"),
    ("signed_links", "revoked_by"),
)
#: Those of them that had an index before this revision (the downgrade keeps it).
_INDEXED_BEFORE = {("tickets", "assignee_id"), ("customers", "owner_user_id")}

#: Foreign key columns (to other tables than ``users``) that get their index here.
OTHER_INDEXED: tuple[tuple[str, str], ...] = (
    ("tickets", "category_id"),
    ("tickets", "repeat_of_id"),
    ("tickets", "merged_into_id"),
    ("tickets", "split_from_id"),
    ("tickets", "sla_policy_version_id"),
    ("transactions", "import_id"),
    ("teams", "calendar_id"),
    ("sla_policy_versions", "calendar_id"),
    ("routing_rules", "team_id"),
    ("escalation_rules", "team_id"),
    ("ticket_attachments", "message_id"),
)

_TEAM_MEMBERS_FK = "fk_team_members_user_id_users"


def _fk_name(table: str, column: str) -> str:
    return f"fk_{table}_{column}_users"


def _index_name(table: str, column: str) -> str:
    return f"ix_{table}_{column}"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.execute(
        "DELETE FROM team_members WHERE NOT EXISTS "
        "(SELECT 1 FROM users WHERE users.id = team_members.user_id)"
    )
    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.create_foreign_key(_TEAM_MEMBERS_FK, "users", ["user_id"], ["id"])

    for table, column in USER_COLUMNS:
        if _sqlite():
            _sqlite_swap(table, column, references_users=True)
        else:
            _postgres_add_user_key(table, column)

    for table, column in OTHER_INDEXED:
        op.create_index(_index_name(table, column), table, [column], unique=False)


def _postgres_add_user_key(table: str, column: str) -> None:
    op.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
    op.execute(
        f"UPDATE {table} SET {column} = NULL WHERE {column} IS NOT NULL AND NOT EXISTS "
        f"(SELECT 1 FROM users WHERE users.id = {table}.{column})"
    )
    op.create_foreign_key(_fk_name(table, column), table, "users", [column], ["id"])
    if (table, column) not in _INDEXED_BEFORE:
        op.create_index(_index_name(table, column), table, [column], unique=False)


def _declared_type(table: str, column: str) -> str:
    for row in op.get_bind().exec_driver_sql(f"PRAGMA table_info({table})"):
        if row[1] == column:
            return str(row[2])
    raise RuntimeError(f"{table}.{column} is missing")  # pragma: no cover - 0008's schema has it


def _sqlite_swap(table: str, column: str, *, references_users: bool) -> None:
    """Replace ``column`` by a copy with (or without) the foreign key to ``users``, indexed;
    see the module's docstring. With the key, ids that name no user are not copied."""
    declared = _declared_type(table, column)
    new = f"{column}__users" if references_users else f"{column}__plain"
    constraint = (
        f" CONSTRAINT {_fk_name(table, column)} REFERENCES users (id)" if references_users else ""
    )
    op.execute(f"ALTER TABLE {table} ADD COLUMN {new} {declared}{constraint}")
    only_users = f" AND {column} IN (SELECT id FROM users)" if references_users else ""
    op.execute(f"UPDATE {table} SET {new} = {column} WHERE {column} IS NOT NULL{only_users}")
    op.execute(f"DROP INDEX IF EXISTS {_index_name(table, column)}")
    op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {new} TO {column}")
    if references_users or (table, column) in _INDEXED_BEFORE:
        op.create_index(_index_name(table, column), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(OTHER_INDEXED):
        op.drop_index(_index_name(table, column), table_name=table)

    for table, column in reversed(USER_COLUMNS):
        if _sqlite():
            _sqlite_swap(table, column, references_users=False)
            continue
        op.drop_constraint(_fk_name(table, column), table, type_="foreignkey")
        if (table, column) not in _INDEXED_BEFORE:
            op.drop_index(_index_name(table, column), table_name=table)

    with op.batch_alter_table("team_members", schema=None) as batch_op:
        batch_op.drop_constraint(_TEAM_MEMBERS_FK, type_="foreignkey")

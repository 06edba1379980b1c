"""Every foreign key column has an index that starts with it: joins and the "who still points
at this row" check of a delete read an index, not the whole table."""

from __future__ import annotations

import sqlalchemy as sa

import kehu.domains  # noqa: F401  (every domain's tables)
from kehu.store.base import Base


def _leading_columns(table: sa.Table) -> list[tuple[str, ...]]:
    """The column lists of the table's primary key, indexes and unique constraints (each makes
    an index on both databases)."""
    covers: list[tuple[str, ...]] = []
    if table.primary_key.columns:
        covers.append(tuple(column.name for column in table.primary_key.columns))
    for index in table.indexes:
        covers.append(tuple(column.name for column in index.columns))
    for constraint in table.constraints:
        if isinstance(constraint, sa.UniqueConstraint):
            covers.append(tuple(column.name for column in constraint.columns))
    return covers


def _uncovered_foreign_keys(metadata: sa.MetaData) -> list[str]:
    uncovered = []
    for table in metadata.sorted_tables:
        covers = _leading_columns(table)
        for key in table.foreign_key_constraints:
            columns = tuple(column.name for column in key.columns)
            if not any(cover[: len(columns)] == columns for cover in covers):
                uncovered.append(f"{table.name}.{', '.join(columns)} -> {key.referred_table.name}")
    return uncovered


def test_every_foreign_key_column_leads_an_index() -> None:
    uncovered = _uncovered_foreign_keys(Base.metadata)
    assert uncovered == [], "index these foreign key columns (and migrate): " + "; ".join(uncovered)


def test_the_check_names_a_foreign_key_no_index_leads() -> None:
    metadata = sa.MetaData()
    sa.Table("parents", metadata, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table(
        "children",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.ForeignKey("parents.id")),  # second in an index: not covered
        sa.Column("other_id", sa.ForeignKey("parents.id")),  # leads a unique constraint
        sa.Column("third_id", sa.ForeignKey("parents.id"), index=True),
        sa.Column("name", sa.String(10)),
        sa.Index("ix_children_name_parent", "name", "parent_id"),
        sa.UniqueConstraint("other_id", "name"),
    )
    sa.Table(
        "links",
        metadata,
        sa.Column("parent_id", sa.ForeignKey("parents.id"), primary_key=True),  # the key leads
        sa.Column("child_id", sa.ForeignKey("children.id"), primary_key=True),  # second: not
    )
    assert _uncovered_foreign_keys(metadata) == [
        "children.parent_id -> parents",
        "links.child_id -> children",
    ]

"""Where the store finds every domain's tables (each domain owns its own ``tables.py``)."""

from __future__ import annotations

import importlib

DOMAIN_TABLE_MODULES = (
    "kehu.customers.tables",
    "kehu.value.tables",
    "kehu.desk.tables",
    "kehu.desk.public_tables",
    "kehu.core.users.tables",
    "kehu.core.audit.tables",
    "kehu.api.tables",
)


def import_all_models() -> None:
    """Import every domain's tables so that ``Base.metadata`` knows them all."""
    for module in DOMAIN_TABLE_MODULES:
        importlib.import_module(module)

"""What the customers domain registers with the platform: its permissions and role grants, the
row scope of customers, its own merge references and its timeline source. Imported once by
:mod:`kehu.domains`; nothing else imports it."""

from __future__ import annotations

from kehu.core.auth import register_scope
from kehu.core.auth.permissions import register_permissions
from kehu.customers.tables import Customer

register_permissions(
    "customers",
    {
        "customers:read": "read customers, their contacts and their 360 timeline",
        "customers:write": "create and edit customers, tags, contacts and preferences",
        "customers:merge": "merge duplicate customers and undo merges",
    },
    grants={
        "manager": ["customers:read", "customers:write", "customers:merge"],
        "agent": ["customers:read", "customers:write"],
        "read_only": ["customers:read"],
    },
)

# All staff with customers:read see every customer (no row narrowing yet).
register_scope(Customer, "customers:read")

"""What the customers domain registers with the platform: its permissions and role grants, the
row scope of customers, the outbox's contact policy and address book, and the outbox's customer
reference. Imported once by
:mod:`kehu.domains`; nothing else imports it."""

from __future__ import annotations

from kehu.core.auth import register_scope
from kehu.core.auth.permissions import register_permissions
from kehu.core.outbox import OutboxMessage, register_address_book, register_contact_policy
from kehu.customers.references import register_customer_reference
from kehu.customers.service import may_contact, primary_address
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

# The outbox asks the customer's contact preferences before each message, and finds the address.
register_contact_policy(may_contact)
register_address_book(primary_address)
# Messages queued for a merged customer follow it.
register_customer_reference(OutboxMessage, "customer_id")

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
from kehu.customers.tables import Customer, DuplicateFlag

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
# Stored possible duplicates (kehu.customers.duplicate_flags): read like the customers they name.
register_scope(DuplicateFlag, "customers:read")

# The outbox asks the customer's contact preferences before each message, and finds the address.
register_contact_policy(may_contact)
register_address_book(primary_address)
# Messages queued for a merged customer follow it.
register_customer_reference(OutboxMessage, "customer_id")

# --- personal data (kehu.core.personal_data), erased by kehu.customers.erasure ------------------
# (imported here, not at the top, so that this block stays one appended piece)
from kehu.core.personal_data import (  # noqa: E402
    declare_not_personal,
    register_audit_entity,
    register_personal_fields,
)
from kehu.customers.erasure import erase_event_data, erase_merge_archive, merges_of  # noqa: E402
from kehu.customers.tables import (  # noqa: E402
    ContactPreference,
    CustomerContact,
    CustomerEvent,
    CustomerMerge,
    Membership,
    Tag,
)

# The names, notes and language, and the search keys made of them (rebuilt by the erasure from
# what is left: the external id).
register_personal_fields(
    Customer,
    [
        "name",
        "given_name",
        "family_name",
        "notes",
        "preferred_language",
        "search_text",
        "search_pinyin",
    ],
    customer_column="id",
    erase="null",
)
declare_not_personal(
    Customer,
    ["external_id"],
    "the business's own key of the customer, kept so that the erased record still resolves "
    "and its purchases stay joined (kehu.customers.erasure)",
)
declare_not_personal(Customer, ["kind"], "a code: person or organisation")
register_personal_fields(CustomerContact, ["value", "normalized", "label"], erase="delete_row")
declare_not_personal(CustomerContact, ["type"], "a code (email, phone...); the row is deleted")
register_personal_fields(CustomerEvent, ["data"], erase=erase_event_data)
declare_not_personal(CustomerEvent, ["kind"], "an event code")
register_personal_fields(Membership, ["role"], customer_column="person_id", erase="null")
register_personal_fields(
    CustomerMerge,
    ["reason", "steps"],
    rows=merges_of,
    erase={"reason": "null", "steps": erase_merge_archive},
)
declare_not_personal(
    ContactPreference,
    ["channel", "consent", "preference", "source"],
    "a channel's consent or refusal and where it was stated: kept so that a refusal is still "
    "honoured after the erasure",
)
declare_not_personal(
    DuplicateFlag,
    ["reason", "status"],
    "codes: why a possible duplicate was flagged (same_phone) and what became of it",
)
declare_not_personal(Tag, ["name"], "the business's own labels, shared by many customers")
# The audit events about the customer itself.
register_audit_entity("customer", Customer, customer_column="id")

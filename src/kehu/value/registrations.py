"""What the value domain registers with the platform: its permissions and role grants and the row
scopes of runs, scores and transactions, the merge references and timeline sources of its
tables. Imported once by :mod:`kehu.domains`; nothing else
imports it."""

from __future__ import annotations

from kehu.core.auth import register_scope
from kehu.core.auth.permissions import register_permissions
from kehu.customers.references import register_customer_reference
from kehu.customers.timeline import register_timeline_source
from kehu.value.tables import CostToServe, CustomerScore, Transaction, ValueRun
from kehu.value.timeline import purchase_entries, value_score_entries

register_permissions(
    "value",
    {
        "value:read": "read value figures: runs, scores, tiers, profit",
        "value:run": "import transactions and run the value pipeline",
    },
    grants={"manager": ["value:read", "value:run"], "read_only": ["value:read"]},
)

# Value figures need value:read; a transaction is customer data.
register_scope(ValueRun, "value:read")
register_scope(CustomerScore, "value:read")
register_scope(Transaction, "customers:read")

# Transactions, costs and scores follow a customer merge; one score row per customer: the
# survivor keeps its own, the other's is archived (and restored by an undo).
register_customer_reference(Transaction, "customer_id")
register_customer_reference(CostToServe, "customer_id")
register_customer_reference(CustomerScore, "customer_id", unique_with=(), derived=True)

register_timeline_source("purchases", purchase_entries)
register_timeline_source("value_scores", value_score_entries)

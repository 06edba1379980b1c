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

# --- personal data (kehu.core.personal_data): the value domain keeps none ----------------------
# (imported here, not at the top, so that this block stays one appended piece)
from kehu.core.personal_data import declare_not_personal  # noqa: E402
from kehu.value.tables import ImportBatch, ImportStaging  # noqa: E402

declare_not_personal(
    Transaction,
    ["transaction_key", "external_id", "currency"],
    "the business's own keys of a purchase (built from external ids, which erasure keeps like "
    "customers.external_id) and a currency code",
)
declare_not_personal(
    ImportStaging,
    ["customer_external_id", "transaction_key", "external_id"],
    "the business's own keys of an import's rows, kept like customers.external_id",
)
declare_not_personal(
    ImportBatch,
    ["source", "fingerprint", "currency"],
    "the name of an imported file, its digest and a currency code (one per import)",
)
declare_not_personal(CostToServe, ["currency", "source"], "a currency code and a source code")
declare_not_personal(CustomerScore, ["rfm_segment", "value_tier"], "segment and tier codes")
declare_not_personal(
    ValueRun,
    [
        "status",
        "source",
        "input_fingerprint",
        "currency",
        "settings",
        "models",
        "diagnostics",
        "message",
        "scores_archive",
    ],
    "a run's settings, fitted parameters, diagnostics and the path of its score archive: "
    "figures and codes over all customers, no one's name or address",
)

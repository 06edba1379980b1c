"""The append-only audit log: who changed what, when, before and after, chained by hashes."""

from kehu.core.audit.service import (
    ChainVerification,
    changed,
    erase_personal_data,
    record_audit,
    snapshot,
    verify_chain,
)

__all__ = [
    "ChainVerification",
    "changed",
    "erase_personal_data",
    "record_audit",
    "snapshot",
    "verify_chain",
]

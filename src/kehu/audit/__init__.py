"""The append-only audit log: who changed what, when, before and after, chained by hashes."""

from kehu.audit.service import (
    ChainVerification,
    erase_personal_data,
    record_audit,
    verify_chain,
)

__all__ = ["ChainVerification", "erase_personal_data", "record_audit", "verify_chain"]

"""Record, verify and erase audit events.

Each event stores ``payload_digest = sha256(salt || canonical JSON of {before, after})`` and
``chain_hash = sha256(prev_hash || canonical JSON of the metadata || payload_digest)``, where the
metadata is (seq, time, actor, action, entity, entity id). Erasing personal data sets ``before``,
``after`` and ``salt`` to NULL; :func:`verify_chain` then checks the chain over the stored digests
alone, and still checks every payload that has not been erased against its digest. The salt makes
the digest of an erased payload useless for confirming a guess of what it contained.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kehu.core.audit.tables import AuditChainHead, AuditEvent
from kehu.core.auth import Principal, register_scope
from kehu.store.base import utc_now

GENESIS_HASH = "0" * 64
_HEAD_ID = 1


def _plain(value: Any) -> Any:
    """``value`` as plain JSON types (datetimes as ISO 8601, decimals as strings)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(item) for item in value]
        return sorted(items, key=canonical_json) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return _plain(value.value)
    raise TypeError(f"cannot record {type(value).__name__} in the audit log")


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def payload_digest(salt: str, before: Any, after: Any) -> str:
    return _sha256(salt + canonical_json({"after": after, "before": before}))


def _metadata(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "occurred_at": event.occurred_at.isoformat(),
        "actor_user_id": event.actor_user_id,
        "actor_token_id": event.actor_token_id,
        "actor_name": event.actor_name,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
    }


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return _sha256(prev_hash + canonical_json(_metadata(event)) + event.payload_digest)


def _lock_head(session: Session) -> tuple[int, str]:
    """Take the chain head for this transaction (a row lock on PostgreSQL, the write lock on
    SQLite) and return (last seq, last hash)."""
    for _attempt in range(3):
        statement = (
            update(AuditChainHead)
            .where(AuditChainHead.id == _HEAD_ID)
            .values(last_seq=AuditChainHead.last_seq)
            .returning(AuditChainHead.last_seq, AuditChainHead.last_hash)
        )
        row = session.execute(statement).first()
        if row is not None:
            return int(row[0]), str(row[1])
        try:
            with session.begin_nested():
                session.add(AuditChainHead(id=_HEAD_ID, last_seq=0, last_hash=GENESIS_HASH))
        except IntegrityError:
            continue  # another writer created it first
    raise RuntimeError("could not take the audit chain head")


def record_audit(
    session: Session,
    principal: Principal,
    action: str,
    entity: str,
    entity_id: object,
    before: Any = None,
    after: Any = None,
) -> AuditEvent:
    """Append one event to the audit log, in the caller's transaction.

    ``before`` and ``after`` are JSON-like (dicts, lists, str, numbers, datetimes, decimals);
    leave secrets (password hashes, token digests) out of them.
    """
    before_plain, after_plain = _plain(before), _plain(after)
    last_seq, last_hash = _lock_head(session)
    salt = secrets.token_hex(16)
    event = AuditEvent(
        seq=last_seq + 1,
        occurred_at=utc_now(),
        actor_user_id=principal.user_id,
        actor_token_id=principal.token_id,
        actor_name=principal.display_name or ("system" if principal.is_system else ""),
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before_plain,
        after=after_plain,
        salt=salt,
        payload_digest=payload_digest(salt, before_plain, after_plain),
        prev_hash=last_hash,
    )
    event.chain_hash = chain_hash(last_hash, event)
    session.add(event)
    session.execute(
        update(AuditChainHead)
        .where(AuditChainHead.id == _HEAD_ID)
        .values(last_seq=event.seq, last_hash=event.chain_hash)
    )
    session.flush()
    return event


def snapshot(
    row: object, fields: Iterable[str] | None = None, *, exclude: Iterable[str] = ()
) -> dict[str, Any]:
    """The audited fields of an ORM ``row``: ``fields`` if given, else every mapped column
    except ``exclude`` (leave secrets and large bodies out)."""
    if fields is None:
        table = getattr(row, "__table__")  # noqa: B009 - any mapped class
        fields = [column.key for column in table.columns]
    skipped = set(exclude)
    return {field: getattr(row, field) for field in fields if field not in skipped}


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``before`` and ``after`` narrowed to the fields whose values differ."""
    keys = [key for key in after if before.get(key) != after[key]]
    keys += [key for key in before if key not in after]
    return {k: before.get(k) for k in keys}, {k: after.get(k) for k in keys}


def erase_personal_data(session: Session, entity: str, entity_id: object) -> int:
    """Erase the before/after payloads of every event about one record (e.g. a customer who
    asked to be forgotten); the chain still verifies. Returns the number of events erased."""
    result = session.execute(
        update(AuditEvent)
        .where(
            AuditEvent.entity == entity,
            AuditEvent.entity_id == str(entity_id),
            AuditEvent.erased_at.is_(None),
        )
        .values(before=None, after=None, salt=None, erased_at=utc_now())
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class ChainVerification:
    ok: bool
    events_checked: int
    erased_events: int
    first_bad_seq: int | None = None
    reason: str | None = None


def verify_chain(session: Session, batch_size: int = 1000) -> ChainVerification:
    """Walk the log in order and check every link, every stored payload against its digest,
    the sequence for gaps and the head for a truncated tail."""
    checked = erased = 0
    prev_hash = GENESIS_HASH
    expected_seq = 1

    def bad(seq: int | None, reason: str) -> ChainVerification:
        return ChainVerification(False, checked, erased, seq, reason)

    last_seq = 0
    while True:
        events = (
            session.execute(
                select(AuditEvent)
                .where(AuditEvent.seq > last_seq)
                .order_by(AuditEvent.seq)
                .limit(batch_size)
                .execution_options(populate_existing=True)
            )
            .scalars()
            .all()
        )
        if not events:
            break
        for event in events:
            if event.seq != expected_seq:
                return bad(expected_seq, f"event {expected_seq} is missing")
            if event.prev_hash != prev_hash:
                return bad(event.seq, "the link to the previous event is broken")
            if event.erased_at is None:
                if event.salt is None:
                    return bad(event.seq, "the payload's salt is missing")
                if payload_digest(event.salt, event.before, event.after) != event.payload_digest:
                    return bad(event.seq, "the payload does not match its digest")
            elif event.before is not None or event.after is not None or event.salt is not None:
                return bad(event.seq, "an erased event still carries a payload")
            else:
                erased += 1
            if chain_hash(prev_hash, event) != event.chain_hash:
                return bad(event.seq, "the event's metadata or digest was changed")
            prev_hash = event.chain_hash
            expected_seq += 1
            checked += 1
            last_seq = event.seq
    head = session.get(AuditChainHead, _HEAD_ID, populate_existing=True)
    if head is not None and (head.last_seq != checked or head.last_hash != prev_hash):
        return bad(checked + 1, "events at the end of the log are missing")
    return ChainVerification(True, checked, erased)


register_scope(AuditEvent, "audit:read")

"""What the settings page tests share: posting a form with the session's CSRF token, the
problem a refused form shows in its place, the audit trail of an entity, the page's text."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from web_support import CSRF_TOKEN

from kehu.core.audit.tables import AuditEvent
from kehu.store.db import Database


def text(html: str) -> str:
    """The page's visible text, roughly: tags removed, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def post(client: TestClient, path: str, **form: Any) -> Response:
    return client.post(path, data={"csrf_token": CSRF_TOKEN, **form})


def problem(html: str) -> tuple[str, str]:
    """The refused form's notice: (the field it names, its text)."""
    found = re.search(
        r'<p class="notice notice-error"[^>]*?(?:data-field="([^"]*)")?>(.*?)</p>', html
    )
    assert found is not None, "no problem shown in the form's place"
    return found.group(1) or "", text(found.group(2))


def audit_trail(database: Database, entity: str) -> list[tuple[str, Any, Any]]:
    """(action, before, after) of every audit event about ``entity``, in order."""
    with database.session() as session:
        return [
            (row.action, row.before, row.after)
            for row in session.execute(
                select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
                .where(AuditEvent.entity == entity)
                .order_by(AuditEvent.seq)
            )
        ]


def audit_actions(database: Database, entity: str) -> list[str]:
    return [action for action, _before, _after in audit_trail(database, entity)]

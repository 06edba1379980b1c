"""The SQL statements one request of each page runs, counted in process (no server).

    python benchmarks/web/queries.py --database sqlite:///.data/run/kehu.db \
        "customer 360 page=/customers/1" "queue API=/api/tickets/queue" [--json] [--verbose]

Builds kehu's app (``kehu.app.create_app``) over the store, signs in as ``--user`` like a
browser (session cookie; an API token with ``tickets:read`` for ``/api/`` paths), requests each
page twice and counts the statements of the second request (``before_cursor_execute`` on the
engine), so caches warmed by the first request are not counted. ``--verbose`` prints them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from kehu.app import create_app
from kehu.core.config import get_settings
from kehu.store.db import Database

PASSWORD = "kehu-demo-2026"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("pages", nargs="+", help="name=path")
    parser.add_argument("--database", required=True)
    parser.add_argument("--user", default="agent@demo.kehu")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"database_url": args.database})
    database = Database(args.database)
    statements: list[str] = []

    @event.listens_for(database.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(" ".join(statement.split()))

    app = create_app(settings, database)
    found: dict[str, Any] = {}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        login = client.post("/api/auth/login", json={"email": args.user, "password": PASSWORD})
        login.raise_for_status()
        csrf = login.json()["csrf_token"]
        token = client.post(
            "/api/tokens",
            json={"name": "queries", "scopes": ["tickets:read"]},
            headers={"X-CSRF-Token": csrf},
        )
        token.raise_for_status()
        bearer = {"Authorization": f"Bearer {token.json()['secret']}"}
        for page in args.pages:
            name, _, path = page.partition("=")
            headers = bearer if path.startswith("/api/") else {}
            cookies = None if path.startswith("/api/") else client.cookies
            plain = TestClient(app, base_url="http://127.0.0.1", cookies=cookies)
            plain.get(path, headers=headers).raise_for_status()
            statements.clear()
            response = plain.get(path, headers=headers)
            response.raise_for_status()
            shapes = Counter(s[:160] for s in statements)
            found[name] = {
                "count": len(statements),
                "distinct": len(shapes),
                "repeated": {s: n for s, n in shapes.items() if n > 1},
                "statements": list(statements),
            }
    database.dispose()
    if args.json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    for name, info in found.items():
        print(f"{name}: {info['count']} statements ({info['distinct']} distinct)")
        for statement, n in info["repeated"].items():
            print(f"   x{n} {statement}")
        if args.verbose:
            for statement in info["statements"]:
                print(f"   - {statement[:300]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

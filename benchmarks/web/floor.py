"""The floor: a bare FastAPI + SQLAlchemy app reading the rows the customer 360 page shows.

No authentication, no scopes, no audit, no templates: one endpoint, ``GET /floor/{customer_id}``,
that reads from the same store what kehu's 360 page reads for an agent -- the customer; its
contacts, tags, memberships and channel preferences; its open tickets of the given teams; and the
newest 21 rows of each timeline source (purchases, the customer's change log, the events of its
tickets) -- and answers them as JSON. It imports nothing of kehu, and is served by uvicorn the way
``kehu serve`` serves kehu (one process, ``uvicorn.run(app, host, port, log_level="warning")``,
a synchronous endpoint in the thread pool, one SQLAlchemy session per request, SQLite with the
same pragmas as kehu's store).

    python benchmarks/web/floor.py --database sqlite:///path/kehu.db --port 8101 --teams 1
"""

import argparse
from collections.abc import Iterator
from typing import Annotated, Any

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Request
from sqlalchemy import MetaData, Table, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

#: how many rows of each timeline source a page needs (kehu asks for its page size + 1)
TIMELINE_ROWS = 21
ACTIVE = ("open", "waiting_on_customer")


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _plain(row: Any) -> dict[str, Any]:
    return {
        key: (value if isinstance(value, int | float | str | None) else str(value))
        for key, value in row._mapping.items()
    }


def create_app(url: str, team_ids: list[int]) -> FastAPI:
    engine: Engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _pragmas)
    meta = MetaData()
    names = (
        "customers",
        "customer_contacts",
        "customer_tags",
        "tags",
        "customer_memberships",
        "customer_contact_preferences",
        "customer_events",
        "tickets",
        "ticket_events",
        "transactions",
    )
    meta.reflect(engine, only=names)
    t: dict[str, Table] = {name: meta.tables[name] for name in names}
    sessions = sessionmaker(engine)
    app = FastAPI()

    def db() -> Iterator[Session]:
        with sessions() as session, session.begin():
            yield session

    @app.get("/floor/{customer_id}")
    def customer(
        customer_id: int, request: Request, session: Annotated[Session, Depends(db)]
    ) -> dict[str, Any]:
        c, contacts, tickets, events = (
            t["customers"],
            t["customer_contacts"],
            t["tickets"],
            t["ticket_events"],
        )
        found = session.execute(select(c).where(c.c.id == customer_id)).first()
        if found is None:
            raise HTTPException(404)
        merged = [
            customer_id,
            *session.scalars(select(c.c.id).where(c.c.merged_into_id == customer_id)),
        ]
        tags = t["tags"]
        ct = t["customer_tags"]
        m = t["customer_memberships"]
        mine = tickets.c.team_id.in_(team_ids)
        return {
            "customer": _plain(found),
            "contacts": [
                _plain(r)
                for r in session.execute(
                    select(contacts)
                    .where(contacts.c.customer_id == customer_id)
                    .order_by(contacts.c.type, contacts.c.id)
                )
            ],
            "tags": list(
                session.scalars(
                    select(tags.c.name)
                    .join(ct, ct.c.tag_id == tags.c.id)
                    .where(ct.c.customer_id == customer_id)
                    .order_by(tags.c.name)
                )
            ),
            "memberships": [
                _plain(r)
                for r in session.execute(
                    select(m).where(
                        (m.c.person_id == customer_id) | (m.c.organisation_id == customer_id)
                    )
                )
            ],
            "preferences": [
                _plain(r)
                for r in session.execute(
                    select(t["customer_contact_preferences"]).where(
                        t["customer_contact_preferences"].c.customer_id == customer_id
                    )
                )
            ],
            "open_tickets": [
                _plain(r)
                for r in session.execute(
                    select(tickets)
                    .where(
                        tickets.c.customer_id == customer_id,
                        mine,
                        tickets.c.status_category.in_(ACTIVE),
                        tickets.c.merged_into_id.is_(None),
                    )
                    .order_by(tickets.c.created_at.desc(), tickets.c.id.desc())
                    .limit(200)
                )
            ],
            "purchases": [
                _plain(r)
                for r in session.execute(
                    select(t["transactions"])
                    .where(t["transactions"].c.customer_id == customer_id)
                    .order_by(t["transactions"].c.occurred_at.desc(), t["transactions"].c.id.desc())
                    .limit(TIMELINE_ROWS)
                )
            ],
            "customer_events": [
                _plain(r)
                for r in session.execute(
                    select(t["customer_events"])
                    .where(t["customer_events"].c.customer_id.in_(merged))
                    .order_by(t["customer_events"].c.at.desc(), t["customer_events"].c.id.desc())
                    .limit(TIMELINE_ROWS)
                )
            ],
            "ticket_events": [
                _plain(r)
                for r in session.execute(
                    select(events, tickets.c.subject, tickets.c.status)
                    .join(tickets, tickets.c.id == events.c.ticket_id)
                    .where(tickets.c.customer_id == customer_id, mine)
                    .order_by(events.c.at.desc(), events.c.id.desc())
                    .limit(TIMELINE_ROWS)
                )
            ],
        }

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="SQLAlchemy URL of kehu's store")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8101)
    parser.add_argument("--teams", default="", help="comma-separated team ids (the agent's)")
    args = parser.parse_args()
    teams = [int(x) for x in args.teams.split(",") if x]
    uvicorn.run(
        create_app(args.database, teams), host=args.host, port=args.port, log_level="warning"
    )


if __name__ == "__main__":
    main()

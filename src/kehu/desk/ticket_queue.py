"""The ticket queue's filters and sort as URL query parameters: one parser for the queue page
(``/tickets``), its API (``GET /api/tickets/queue``... and the saved views, whose filters are
these parameters), so that a link other pages build (``/tickets?team=3&promise=breached``)
means the same everywhere.

=============  ==================================================================================
parameter      meaning
=============  ==================================================================================
``q``          words, each of which must appear in the subject, description or a message of the
               ticket, or find its customer (names, contacts, pinyin: the customer search)
``status``     ``active`` (open or waiting on the customer, the default), ``all``, or one status
               category (``open``, ``waiting_on_customer``, ``resolved``, ``closed``)
``team``       a team id
``assignee``   a user id, ``me`` (the viewer: the "Mine" view; ``mine=1`` means the same) or
               ``unassigned``
``kind``       ticket kinds (``complaint``, ``inquiry``, ``request``, ``praise``)
``priority``   priorities (``low``, ``normal``, ``high``, ``urgent``)
``promise``    promise states: ``on_track``, ``at_risk``, ``breached``, ``kept``, ``none``
               (:data:`kehu.desk.ticket_queries.PROMISE_STATES`)
``tier``       the customer's value tier the ticket was filed with (``high``, ``middle``, ``low``)
``tag``        a tag of the customer
``sort``       :data:`kehu.desk.ticket_queries.SORT_KEYS`, comma-separated, ``-`` for descending
               (default ``due,created_at``: the most urgent promise first)
``page``       the page, from 1; ``page_size``: one of :data:`PAGE_SIZES` (default 50)
=============  ==================================================================================

Code filters take several values, repeated (``kind=complaint&kind=inquiry``) or comma-separated
(``kind=complaint,inquiry``). Every value is checked: a wrong one is an
:class:`~kehu.errors.InputError` naming its parameter (422), never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kehu.core.auth import Principal
from kehu.core.sorting import sort_by
from kehu.desk.sla_store import VALUE_TIERS
from kehu.desk.tables import Ticket
from kehu.desk.ticket_queries import PROMISE_STATES, TicketSearch, sort_columns
from kehu.desk.workflow import ACTIVE_CATEGORIES, CATEGORIES, KINDS, PRIORITIES
from kehu.errors import InputError
from kehu.store.base import utc_now

__all__ = [
    "DEFAULT_SORT",
    "PAGE_SIZES",
    "QUEUE_PARAMETERS",
    "STATUS_FILTERS",
    "QueueQuery",
    "page_of",
    "parse_queue_query",
]

#: The queue's status filter: ``active`` (still to work on, the default), ``all``, a category.
STATUS_FILTERS = ("active", *CATEGORIES, "all")
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 50
DEFAULT_SORT = "due,created_at"
#: The parameters a saved view keeps (the filters and the sort, not the page).
QUEUE_PARAMETERS = ("q", "status", "team", "assignee", "kind", "priority", "promise", "tier", "tag")
MAX_WORDS = 200
MAX_TAG = 100
ASSIGNEE_WORDS = ("me", "unassigned")


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters and sort, checked (see the module's table)."""

    words: str = ""
    status: str = "active"
    team_id: int | None = None
    assignee: str = ""  # "", "me", "unassigned" or a user id
    kind: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    promise: tuple[str, ...] = ()
    tier: tuple[str, ...] = ()
    tag: str = ""
    sort: str = DEFAULT_SORT

    def search(self, principal: Principal, now: datetime | None = None) -> TicketSearch:
        """The ticket search this query stands for, for ``principal`` (``me``)."""
        categories: tuple[str, ...] = {"active": ACTIVE_CATEGORIES, "all": ()}.get(
            self.status, (self.status,)
        )
        assignee_id: int | None = None
        if self.assignee == "me":
            # a viewer who is no user (an API token of the system) has nothing assigned
            assignee_id = principal.user_id if principal.user_id is not None else -1
        elif self.assignee.isdigit():
            assignee_id = int(self.assignee)
        return TicketSearch(
            status_category=categories,
            kind=self.kind,
            priority=self.priority,
            promise=self.promise,
            value_tier=self.tier,
            team_id=self.team_id,
            assignee_id=assignee_id,
            unassigned=self.assignee == "unassigned",
            customer_tag=self.tag,
            words=self.words,
            now=now or utc_now(),
        )

    def params(self, *, with_sort: bool = True) -> dict[str, str]:
        """The query as URL parameters, leaving out the defaults (for links and saved views)."""
        values: dict[str, str] = {}
        if self.words:
            values["q"] = self.words
        if self.status != "active":
            values["status"] = self.status
        if self.team_id is not None:
            values["team"] = str(self.team_id)
        if self.assignee:
            values["assignee"] = self.assignee
        for name, codes in (
            ("kind", self.kind),
            ("priority", self.priority),
            ("promise", self.promise),
            ("tier", self.tier),
        ):
            if codes:
                values[name] = ",".join(codes)
        if self.tag:
            values["tag"] = self.tag
        if with_sort and self.sort != DEFAULT_SORT:
            values["sort"] = self.sort
        return values

    def sorted_by(self, key: str) -> QueueQuery:
        """The query sorted by ``key``: ascending, or descending when already ascending by it
        (a click on a column header)."""
        return replace(self, sort=f"-{key}" if self.sort == key else key)


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    given = [raw] if isinstance(raw, str) else list(raw)
    return [v.strip() for value in given for v in str(value).split(",") if v.strip()]


def _one(params: Mapping[str, Any], name: str, limit: int) -> str:
    if name == "q":  # words keep their commas
        raw = params.get("q") or ""
        given = [raw] if isinstance(raw, str) else [str(v) for v in raw]
        values = [v.strip() for v in given if v.strip()]
    else:
        values = _values(params, name)
    if len(values) > 1:
        raise InputError("one value only", column=name, value=",".join(values))
    value = values[0] if values else ""
    if len(value) > limit:
        raise InputError(f"at most {limit} characters", column=name)
    return value


def _codes(params: Mapping[str, Any], name: str, allowed: Sequence[str]) -> tuple[str, ...]:
    values = _values(params, name)
    for value in values:
        if value not in allowed:
            raise InputError(f"one of {', '.join(allowed)}", column=name, value=value)
    return tuple(dict.fromkeys(values))


def parse_queue_query(params: Mapping[str, Any]) -> QueueQuery:
    """The queue's query from URL parameters (a mapping of name to a string or a list of
    strings); a wrong value is an ``InputError`` naming its parameter."""
    status = _one(params, "status", 30) or "active"
    if status not in STATUS_FILTERS:
        raise InputError(f"one of {', '.join(STATUS_FILTERS)}", column="status", value=status)
    team = _one(params, "team", 12)
    if team and not team.isdigit():
        raise InputError("a team id", column="team", value=team)
    assignee = _one(params, "assignee", 12)
    if not assignee and _one(params, "mine", 5) == "1":
        assignee = "me"
    if assignee and assignee not in ASSIGNEE_WORDS and not assignee.isdigit():
        raise InputError("a user id, me or unassigned", column="assignee", value=assignee)
    sort = _one(params, "sort", 200) or DEFAULT_SORT
    # checked against the one list of sort keys (an unknown key names ``sort``)
    sort_by(sort, sort_columns(utc_now()), default=DEFAULT_SORT, tiebreak=Ticket.id)
    return QueueQuery(
        words=_one(params, "q", MAX_WORDS),
        status=status,
        team_id=int(team) if team else None,
        assignee=assignee,
        kind=_codes(params, "kind", KINDS),
        priority=_codes(params, "priority", PRIORITIES),
        promise=_codes(params, "promise", PROMISE_STATES),
        tier=_codes(params, "tier", VALUE_TIERS),
        tag=_one(params, "tag", MAX_TAG),
        sort=sort,
    )


def page_of(params: Mapping[str, Any]) -> tuple[int, int]:
    """``(page, page_size)`` from ``page`` (from 1) and ``page_size`` (:data:`PAGE_SIZES`)."""
    page = _one(params, "page", 7) or "1"
    if not page.isdigit() or int(page) < 1:
        raise InputError("a page number from 1", column="page", value=page)
    size = _one(params, "page_size", 4) or str(DEFAULT_PAGE_SIZE)
    if not size.isdigit() or int(size) not in PAGE_SIZES:
        raise InputError(
            f"one of {', '.join(map(str, PAGE_SIZES))}", column="page_size", value=size
        )
    return int(page), int(size)

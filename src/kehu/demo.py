"""The demo data set: CDNOW's customers and purchases (with a value run), plus generated teams,
users for every role, service promises and tickets with realistic histories.

One calendar for everything: CDNOW's purchases (January 1997 to June 1998) are moved as a whole
so that they end on the demo's "today" (:func:`demo_today`, :func:`shifted_to_end_on`), the
value run observes up to that day, and the tickets came in over the six weeks before it.

Everything is made through the domains' own use cases, so the demo exercises the same rules as
real use. What staff do (log a call, take a ticket, reply, note, transfer, resolve) is done as
the demo's agents, real users; :data:`~kehu.core.auth.SYSTEM` only sets the desk up and files
what comes in by itself (e-mail, web form, chat), and the customers write as customers. Each
ticket follows a plan in its promise's business hours -- most answered and resolved well within
the promise, a few late -- carried out only as far as it got by "now", so the open tickets are
the young ones still being worked on and the service figures and the queue tell one story.
Building twice adds nothing: users, teams and tickets are made only when the store has none yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import ibis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.users.service import create_user, principal_for, set_absence
from kehu.core.users.tables import User
from kehu.customers.schemas import ContactIn, CustomerUpdate
from kehu.customers.service import add_contact, edit_customer, get_customer
from kehu.customers.tables import Customer
from kehu.desk import macros, routing, sla_store, ticket_commands, ticket_messages, ticket_queries
from kehu.desk.assignment import set_assignment_mode
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Ticket
from kehu.errors import EmptyInputError
from kehu.store.db import Database
from kehu.value.queries import customers_by_clv
from kehu.value.tables import ImportBatch, Transaction
from kehu.warehouse import Transactions
from kehu.warehouse._compat import scalar

#: The password of every demo user (printed by ``kehu demo``; a demo store only).
DEMO_PASSWORD = "kehu-demo-2026"

#: The after-sales agent on leave (made by :func:`_demo_assignment`; round robin skips her).
AWAY_AGENT = "agent3@demo.kehu"

DEMO_USERS = (
    ("admin@demo.kehu", "管理员 Admin", "admin", "zh-Hans"),
    ("manager@demo.kehu", "Mei Chen 陈梅", "manager", "en"),
    ("agent@demo.kehu", "Li Wei 李伟", "agent", "zh-Hans"),
    ("agent2@demo.kehu", "Sam Park", "agent", "en"),
    ("viewer@demo.kehu", "Read Only 只读", "read_only", "en"),
)

_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "洋",
    "艳",
    "Anna",
    "Ben",
    "Chloe",
    "David",
]
_FAMILY = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "Smith", "Jones", "Brown", "Garcia"]
_SUBJECTS = {
    "complaint": [
        ("Parcel arrived late", "包裹晚到了三天，影响了我的使用。"),
        ("Damaged CD case", "收到的 CD 盒子破损了。"),
        ("Charged twice", "同一个订单被扣了两次款。"),
    ],
    "inquiry": [
        ("When will the new album ship?", "请问新专辑什么时候发货？"),
        ("Change delivery address", "我想修改收货地址。"),
    ],
    "request": [("Please send an invoice", "请帮我开具发票。")],
    "praise": [("Great service, thank you", "客服很耐心，谢谢！")],
}


#: The label of the demo's import of CDNOW's purchases (kept with its batch in the store).
CDNOW_SOURCE = "CDNOW_master.txt"


def demo_today(database: Database, settings: Settings, now: datetime) -> date:
    """The demo's "today": the day its purchase history ends and its value run observes to.

    The day the demo was first built: the last purchase its CDNOW import stored (in the business
    time zone), so that building again on a later day imports the very same purchases (nothing
    new) and keeps the value run, the tickets and the history on one calendar. Before the first
    build, ``now``'s date in the business time zone."""
    with database.session() as session:
        batch = session.scalar(
            select(func.min(ImportBatch.id)).where(
                ImportBatch.source == CDNOW_SOURCE, ImportBatch.rows_added > 0
            )
        )
        last = (
            session.scalar(
                select(func.max(Transaction.occurred_at)).where(Transaction.import_id == batch)
            )
            if batch is not None
            else None
        )
    return (last or now).astimezone(settings.zone).date()


def demo_now(today: date, now: datetime, settings: Settings) -> datetime:
    """The demo desk's clock: ``now``'s time of day on the demo's ``today`` (``now`` itself
    when the demo is built for the first time)."""
    local = now.astimezone(settings.zone)
    return datetime.combine(today, local.timetz()).astimezone(UTC)


def shifted_to_end_on(transactions: Transactions, today: date) -> tuple[Transactions, int]:
    """The purchases moved by one whole number of days, so that the last one is on ``today``
    (their order, spacing, weekdays-apart and amounts unchanged); and the number of days."""
    table = transactions.table
    last = scalar(table.ts.max())
    if last is None:
        raise EmptyInputError("there are no transactions", file=transactions.source)
    last_day = last.date() if isinstance(last, datetime) else last
    days = (today - last_day).days
    moved = table.mutate(ts=table.ts + ibis.interval(days=days))
    return replace(transactions, table=moved), days


@dataclass
class DemoSummary:
    users: list[tuple[str, str]] = field(default_factory=list)
    teams: int = 0
    tickets: int = 0
    customers_named: int = 0
    #: whether this call built the desk (its work recorded service costs), or found it built
    built: bool = False


def build_demo_desk(
    database: Database,
    settings: Settings,
    *,
    now: datetime | None = None,
    seed: int = 1997,
    tickets: int = 120,
) -> DemoSummary:
    """Users, teams, calendars, promises, categories and ``tickets`` tickets (once), the
    tickets opened over the six weeks before ``now`` and worked by the demo's agents as far as
    they got by ``now``."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    summary = DemoSummary(
        users=[(email, role) for email, _n, role, _l in DEMO_USERS] + [(AWAY_AGENT, "agent, away")]
    )
    with database.session() as session:
        if session.scalar(select(func.count()).select_from(User)):
            summary.tickets = session.scalar(select(func.count()).select_from(Ticket)) or 0
            return summary
        users = {
            email: create_user(
                session,
                SYSTEM,
                email=email,
                display_name=name,
                role=role,
                password=DEMO_PASSWORD,
                settings=settings,
                locale=locale,
            )
            for email, name, role, locale in DEMO_USERS
        }
        calendar, teams = _desk_settings(session, users)
        _demo_macros(session, teams)
        summary.teams = len(teams)
        customers = _name_customers(session, rng, count=60)
        summary.customers_named = len(customers)
    # tickets: acting as the agents, one transaction per ticket like real work
    with database.session() as session:
        staff = {
            team: principal_for(session, users[email])
            for team, email in zip(teams, ("agent@demo.kehu", "agent2@demo.kehu"), strict=True)
        }
        categories = _categories(session)
    for opened in _opening_times(rng, calendar, now, tickets, days=42):
        customer = rng.choice(customers)
        with database.session() as session:
            _one_ticket(
                session,
                rng,
                opened,
                now,
                customer,
                staff,
                staff[teams[0]],
                categories,
                settings,
            )
        summary.tickets += 1
    _demo_notifications(database, settings, now, teams)  # the bell: mentions and assignments
    _demo_assignment(database, settings, teams, now)
    summary.built = True
    return summary


def _demo_assignment(
    database: Database, settings: Settings, teams: list[int], now: datetime
) -> None:
    """Automatic assignment as a desk would set it up, after the history (which was assigned by
    hand): after-sales hands arriving tickets out in turn, key accounts to whoever holds the
    fewest open ones; a second after-sales agent is on leave for a few more days, so round robin
    passes her over until she is back (the settings pages show her away)."""
    after_sales, key_accounts = teams
    with database.session() as session:
        away = create_user(
            session,
            SYSTEM,
            email=AWAY_AGENT,
            display_name="Zhang Min 张敏",
            role="agent",
            password=DEMO_PASSWORD,
            settings=settings,
            locale="zh-Hans",
        )
        routing.add_team_member(session, SYSTEM, after_sales, away.id)
        set_absence(session, SYSTEM, away.id, absent=True, until=now + timedelta(days=5), now=now)
        set_assignment_mode(session, SYSTEM, after_sales, "round_robin")
        set_assignment_mode(session, SYSTEM, key_accounts, "least_open")


def _desk_settings(session: Session, users: dict[str, User]) -> tuple[BusinessCalendar, list[int]]:
    """The desk's calendar, its two teams (after-sales first), routing, promises, categories."""
    hours = BusinessCalendar.office_hours(
        "Asia/Shanghai", time(9), time(18), name="上海办公时间 Shanghai office hours"
    )
    calendar = sla_store.create_calendar(session, SYSTEM, hours)
    after_sales = routing.create_team(
        session, SYSTEM, "售后服务 After-sales", calendar_id=calendar.id
    )
    key_accounts = routing.create_team(
        session, SYSTEM, "大客户 Key accounts", calendar_id=calendar.id
    )
    routing.add_team_member(session, SYSTEM, after_sales.id, users["agent@demo.kehu"].id)
    routing.add_team_member(session, SYSTEM, key_accounts.id, users["agent2@demo.kehu"].id)
    routing.add_team_member(session, SYSTEM, after_sales.id, users["viewer@demo.kehu"].id)
    routing.create_routing_rule(
        session,
        SYSTEM,
        name="high value to key accounts",
        team_id=key_accounts.id,
        position=0,
        value_tiers=["high"],
    )
    routing.create_routing_rule(
        session, SYSTEM, name="everything else", team_id=after_sales.id, position=10
    )
    sla_store.create_policy(
        session,
        SYSTEM,
        name="Urgent 紧急",
        first_response=timedelta(hours=1),
        resolution=timedelta(hours=8),
        calendar_id=calendar.id,
        priorities=["urgent"],
        order=0,
    )
    sla_store.create_policy(
        session,
        SYSTEM,
        name="High value 高价值客户",
        first_response=timedelta(hours=2),
        resolution=timedelta(hours=16),
        calendar_id=calendar.id,
        value_tiers=["high"],
        order=1,
    )
    sla_store.create_policy(
        session,
        SYSTEM,
        name="Standard 标准",
        first_response=timedelta(hours=8),
        resolution=timedelta(hours=40),
        calendar_id=calendar.id,
        order=9,
    )
    delivery = routing.create_category(session, SYSTEM, "Delivery 配送")
    routing.create_category(session, SYSTEM, "Late 延迟", parent_id=delivery.id)
    routing.create_category(session, SYSTEM, "Damaged 破损", parent_id=delivery.id)
    billing = routing.create_category(session, SYSTEM, "Billing 账单")
    routing.create_category(session, SYSTEM, "Wrong charge 错误扣款", parent_id=billing.id)
    routing.create_category(session, SYSTEM, "Product 产品")
    return hours, [after_sales.id, key_accounts.id]


#: The demo's canned replies: (name, team index or None for every team, English, Chinese).
DEMO_MACROS: tuple[tuple[str, int | None, str, str], ...] = (
    (
        "Damaged parcel 包裹破损",
        0,
        "Dear {customer_name},\n\nwe are sorry your parcel arrived damaged. We are sending a "
        "replacement today and will refund the postage. Your ticket number is "
        "#{ticket_number}.\n\n{agent_name}, {team_name}",
        "{customer_name}您好：\n\n很抱歉您收到的包裹破损了。我们今天为您补发，并退还运费。"
        "您的工单编号是 #{ticket_number}。\n\n{team_name} {agent_name}",
    ),
    (
        "We are on it 正在处理",
        None,
        "Dear {customer_name},\n\nthank you for your message. We are looking into it and will "
        "answer by {promise_due}.\n\n{agent_name}",
        "{customer_name}您好：\n\n感谢您的来信，我们正在处理，将于 {promise_due} 前答复您。"
        "\n\n{agent_name}",
    ),
    (
        "Wrong charge refunded 错误扣款已退回",
        1,
        "Dear {customer_name},\n\nthe wrong charge has been refunded to your account; it "
        "shows within three working days.\n\n{agent_name}, {team_name}",
        "{customer_name}您好：\n\n错误扣款已退回您的账户，三个工作日内到账。\n\n"
        "{team_name} {agent_name}",
    ),
    (
        "Thank you 感谢反馈",
        None,
        "",
        "{customer_name}您好，感谢您的反馈！如还有问题，请直接回复此邮件（工单 "
        "#{ticket_number}）。",
    ),
)


def _demo_macros(session: Session, teams: list[int]) -> None:
    """The canned replies of :data:`DEMO_MACROS` (teams: after-sales first)."""
    for name, team, english, chinese in DEMO_MACROS:
        team_id = None if team is None else teams[team]
        macros.create_macro(
            session, SYSTEM, name=name, team_id=team_id, body_en=english, body_zh=chinese
        )


def _categories(session: Session) -> list[int]:
    return [category.id for category in routing.list_categories(session)]


def _name_customers(session: Session, rng: random.Random, count: int) -> list[tuple[int, str]]:
    """Give the most valuable CDNOW customers (and some others) names and contacts; their ids
    with the language they prefer."""
    top = customers_by_clv(session, count)
    others = list(session.scalars(select(Customer.id).order_by(Customer.id).limit(count * 3)))
    chosen = list(dict.fromkeys(top + rng.sample(others, min(len(others), count // 2))))
    named = []
    for customer_id in chosen:
        detail = get_customer(session, SYSTEM, customer_id)
        family, given = rng.choice(_FAMILY), rng.choice(_GIVEN)
        latin = family.isascii()
        edit_customer(
            session,
            SYSTEM,
            customer_id,
            CustomerUpdate(
                version=detail.version,
                family_name=family,
                given_name=given,
                name=f"{given} {family}" if latin else f"{family}{given}",
                preferred_language="en" if latin else "zh-Hans",
            ),
        )
        named.append((customer_id, "en" if latin else "zh-Hans"))
        add_contact(
            session,
            SYSTEM,
            customer_id,
            ContactIn(type="email", value=f"customer{customer_id}@example.com", is_primary=True),
        )
        add_contact(
            session,
            SYSTEM,
            customer_id,
            ContactIn(
                type="phone", value=f"+86 138-{rng.randrange(10**4):04d}-{customer_id % 10**4:04d}"
            ),
        )
    return named


#: What the desk writes, by kind of step (Chinese and English customers alike read Chinese and
#: English in this demo's market).
_FIRST_REPLIES = (
    "您好，我们已收到您的问题，正在处理。",
    "Thank you for getting in touch, we are looking into it now.",
    "您好，已为您登记，我们会尽快给您答复。",
)
_ASK_DETAILS = (
    "请提供一下订单号，方便我们查询。",
    "Could you send us the order number and a photo, please?",
)
_CUSTOMER_DETAILS = ("订单号是 CD-{n:05d}。", "The order number is CD-{n:05d}.")
_PROGRESS = (
    "已联系仓库核实，预计今天给您结果。",
    "We have asked the warehouse and expect an answer today.",
)
_TAKE_OVER = ("您好，由我来继续跟进您的问题。", "Hello, I am taking over your request from here.")
_NOTES = ("客户是老会员，优先处理。", "Checked the order history: first complaint of this kind.")
_DONE = ("已为您处理完毕，如有问题请随时联系。", "It is sorted now; write to us any time.")
_AGAIN = ("问题又出现了。", "The problem is back, unfortunately.")


@dataclass(frozen=True)
class _Plan:
    """How a ticket will go, in business time of its promise's calendar (what the SLA clock
    counts): the first reply ``first_response`` after it was opened, resolved once
    ``resolution`` of business time has run (the time waiting on the customer does not count)."""

    first_response: timedelta
    resolution: timedelta
    asks_details: bool
    customer_answers: bool
    transfer: bool
    note: bool
    progress_reply: bool
    reopened: bool


def _plan(rng: random.Random, kind: str, first_target: timedelta, target: timedelta) -> _Plan:
    """Most promises kept with room to spare; a few answered late, a few resolved late."""
    outcome = rng.choices(["kept", "late_answer", "late_resolution"], [86, 5, 9])[0]
    if outcome == "late_answer":
        first = first_target * rng.uniform(1.1, 2.2)
    else:
        first = first_target * rng.uniform(0.05, 0.8)
    if outcome == "late_resolution":
        resolution = target * rng.uniform(1.05, 1.7)
    else:
        resolution = target * rng.uniform(0.15, 0.85)
    resolution = max(resolution, first + target * 0.1)
    asks = kind != "praise" and rng.random() < 0.35
    return _Plan(
        first_response=first,
        resolution=resolution,
        asks_details=asks,
        customer_answers=asks and rng.random() < 0.88,
        transfer=kind == "complaint" and rng.random() < 0.12,
        note=rng.random() < 0.2,
        progress_reply=kind != "praise" and rng.random() < 0.3,
        reopened=kind == "complaint" and rng.random() < 0.08,
    )


def _opening_times(
    rng: random.Random, calendar: BusinessCalendar, now: datetime, count: int, days: int
) -> list[datetime]:
    """When the tickets came in over the last ``days``, a quarter of them in the last four days
    (the work in hand): mostly in office hours, some at night or at the weekend (web forms and
    e-mail); oldest first, the newest a few minutes ago."""
    times = []
    for index in range(count):
        start = now - timedelta(days=4 if index % 4 == 0 else days)
        if rng.random() < 0.75:
            at = calendar.add_business_time(
                start, calendar.business_time_between(start, now) * rng.random()
            )
        else:
            at = start + (now - start) * rng.random()
        times.append(min(at, now - timedelta(minutes=5)))
    return sorted(times)


class _Desk:
    """The demo's agents working one ticket, step by step, never past ``now``: a step that
    would happen later has not happened yet, and the ticket is left as it stands."""

    def __init__(
        self,
        session: Session,
        rng: random.Random,
        now: datetime,
        staff: dict[int, Principal],
        settings: Settings,
    ) -> None:
        self.session, self.rng, self.now, self.staff, self.settings = (
            session,
            rng,
            now,
            staff,
            settings,
        )

    def seconds(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def work(self, ticket: Ticket, kind: str, language: str) -> None:
        inputs = ticket_queries.sla_inputs(self.session, ticket)
        if inputs is None:  # pragma: no cover - every demo ticket has a promise
            return
        policy, _events = inputs
        calendar = policy.calendar
        plan = _plan(self.rng, kind, policy.first_response_target, policy.resolution_target)
        zh = 0 if language == "zh-Hans" else 1
        rng, opened = self.rng, ticket.created_at
        agent = self.staff[ticket.team_id or 0]
        # the first reply (the agent takes the ticket as they answer)
        answered = calendar.add_business_time(opened, plan.first_response)
        if answered > self.now:
            return
        ticket_commands.assign(
            self.session, agent, ticket.id, agent.user_id, now=answered, settings=self.settings
        )
        body = _ASK_DETAILS[zh] if plan.asks_details else rng.choice(_FIRST_REPLIES)
        ticket_messages.reply(
            self.session,
            agent,
            ticket.id,
            body,
            wait_for_customer=plan.asks_details,
            handling_seconds=self.seconds(120, 900),
            now=answered,
            settings=self.settings,
        )
        running_from, consumed = answered, plan.first_response
        if plan.asks_details:
            if not plan.customer_answers:
                # no answer: the agent resolves it a few working days later
                gave_up = calendar.add_business_time(
                    answered + timedelta(days=rng.uniform(3, 5)), timedelta(minutes=30)
                )
                if gave_up <= self.now:
                    ticket_commands.resolve(
                        self.session,
                        agent,
                        ticket.id,
                        handling_seconds=self.seconds(60, 300),
                        now=gave_up,
                        resolution="未收到客户回复 no reply from the customer",
                        settings=self.settings,
                    )
                return
            wrote = answered + timedelta(hours=rng.uniform(0.5, 30))
            if wrote > self.now:
                return
            ticket_messages.add_customer_reply(
                self.session,
                SYSTEM,
                ticket.id,
                _CUSTOMER_DETAILS[zh].format(n=rng.randrange(10**5)),
                now=wrote,
                settings=self.settings,
            )
            running_from = wrote
        # the rest of the work, at fractions of the business time left until resolution
        left = plan.resolution - consumed
        steps: list[tuple[float, str]] = [(1.0, "resolve")]
        if plan.transfer and len(self.staff) > 1:
            moved = rng.uniform(0.1, 0.3)
            steps += [(moved, "transfer"), (moved + rng.uniform(0.05, 0.15), "take_over")]
        if plan.note:
            steps.append((rng.uniform(0.2, 0.8), "note"))
        if plan.progress_reply or plan.asks_details:
            steps.append((rng.uniform(0.45, 0.9), "progress"))
        for fraction, step in sorted(steps):
            at = calendar.add_business_time(running_from, left * fraction)
            if at > self.now:
                return
            if step == "transfer":
                target = next(team for team in self.staff if team != ticket.team_id)
                ticket_commands.transfer(
                    self.session,
                    agent,
                    ticket.id,
                    target,
                    reason="需要另一组处理 needs the other team",
                    handling_seconds=self.seconds(60, 300),
                    now=at,
                    settings=self.settings,
                )
                agent = self.staff[target]
            elif step == "take_over":
                ticket_commands.assign(
                    self.session, agent, ticket.id, agent.user_id, now=at, settings=self.settings
                )
                self._reply(agent, ticket.id, _TAKE_OVER[zh], at)
            elif step == "note":
                ticket_messages.add_note(
                    self.session,
                    agent,
                    ticket.id,
                    rng.choice(_NOTES),
                    handling_seconds=self.seconds(30, 180),
                    now=at,
                    settings=self.settings,
                )
            elif step == "progress":
                self._reply(agent, ticket.id, _PROGRESS[zh], at)
            else:
                if plan.asks_details or plan.transfer:
                    self._reply(agent, ticket.id, _DONE[zh], at)
                ticket_commands.resolve(
                    self.session,
                    agent,
                    ticket.id,
                    handling_seconds=self.seconds(300, 1800),
                    now=at,
                    resolution="已解决 resolved",
                    settings=self.settings,
                )
        if plan.reopened:
            self._reopen(ticket, agent, calendar, plan, policy.resolution_target, zh)

    def _reply(self, agent: Principal, ticket_id: int, body: str, at: datetime) -> None:
        ticket_messages.reply(
            self.session,
            agent,
            ticket_id,
            body,
            handling_seconds=self.seconds(120, 900),
            now=at,
            settings=self.settings,
        )

    def _reopen(
        self,
        ticket: Ticket,
        agent: Principal,
        calendar: BusinessCalendar,
        plan: _Plan,
        target: timedelta,
        zh: int,
    ) -> None:
        """The customer writes again after the resolution; the agent solves it for good within
        what is left of the promise (if it was still being kept)."""
        resolved_at = ticket.resolved_at
        if resolved_at is None:
            return
        wrote = resolved_at + timedelta(hours=self.rng.uniform(12, 96))
        if wrote > self.now:
            return
        ticket_messages.add_customer_reply(
            self.session, SYSTEM, ticket.id, _AGAIN[zh], now=wrote, settings=self.settings
        )
        extra = max(target - plan.resolution, timedelta(minutes=20)) * self.rng.uniform(0.2, 0.7)
        answered = calendar.add_business_time(wrote, extra / 2)
        if answered > self.now:
            return
        self._reply(agent, ticket.id, _DONE[zh], answered)
        done = calendar.add_business_time(wrote, extra)
        if done > self.now:
            return
        ticket_commands.resolve(
            self.session,
            agent,
            ticket.id,
            handling_seconds=self.seconds(300, 1200),
            now=done,
            resolution="再次处理 fixed again",
            settings=self.settings,
        )


def _one_ticket(
    session: Session,
    rng: random.Random,
    opened: datetime,
    now: datetime,
    customer: tuple[int, str],
    staff: dict[int, Principal],
    front_line: Principal,
    categories: list[int],
    settings: Settings,
) -> None:
    customer_id, language = customer
    kind = rng.choices(["complaint", "inquiry", "request", "praise"], [5, 3, 2, 1])[0]
    subject, description = rng.choice(_SUBJECTS[kind])
    priority = rng.choices(["low", "normal", "high", "urgent"], [2, 6, 2, 1])[0]
    channel = rng.choice(["phone", "email", "web_form", "chat", "in_person"])
    # a call or a visit is logged by the agent who took it; the rest comes in on its own
    spoken = channel in ("phone", "in_person")
    ticket = ticket_commands.create_ticket(
        session,
        front_line if spoken else SYSTEM,
        TicketCreate.model_validate(
            {
                "customer_id": customer_id,
                "kind": kind,
                "channel": channel,
                "subject": subject,
                "description": description,
                "priority": priority,
                "category_id": rng.choice(categories),
            }
        ),
        now=opened,
        acknowledge=False,
        handling_seconds=rng.randint(120, 600) if spoken else 0,
        settings=settings,
    )
    _Desk(session, rng, now, staff, settings).work(ticket, kind, language)


# -- notifications: a few @mentions and assignments, through the real use cases -----------------

_MENTIONS = (
    # (writer, team index, the note) -- each mentions a colleague who may see the ticket
    ("manager@demo.kehu", 0, "@agent 客户很着急，请今天回电。Please call back today."),
    ("manager@demo.kehu", 1, "@agent2 this is a key account, please handle it personally."),
    ("agent@demo.kehu", 0, "@manager 需要您批准退款 please approve the refund."),
)


def _demo_notifications(
    database: Database, settings: Settings, now: datetime, teams: list[int]
) -> None:
    """Notes that mention colleagues on open tickets, and a ticket the manager gives an agent,
    so that the demo agents' and the manager's bells have something to show. Written a little
    before ``now`` by the demo's staff, through the note and assign use cases (which notify)."""
    with database.session() as session:
        people = {
            user.email: principal_for(session, user)
            for user in session.scalars(select(User).where(User.email.like("%@demo.kehu")))
        }
        open_tickets = {
            team: list(
                session.scalars(
                    select(Ticket.id)
                    .where(Ticket.team_id == team, Ticket.status.in_(("new", "in_progress")))
                    .order_by(Ticket.created_at.desc(), Ticket.id)
                    .limit(3)
                )
            )
            for team in teams
        }
    for minutes, (writer, team_index, body) in enumerate(_MENTIONS, start=1):
        tickets = open_tickets.get(teams[team_index]) or []
        if not tickets:
            continue
        with database.session() as session:
            ticket_messages.add_note(
                session,
                people[writer],
                tickets[0],
                body,
                handling_seconds=60,
                now=now - timedelta(minutes=40 - 10 * minutes),
                settings=settings,
            )
    # the manager gives Sam Park a ticket: one of his team nobody holds yet, else an after-sales
    # ticket nobody holds, moved to key accounts for him (Sam holds every key-accounts ticket
    # at some hours of the day the demo is built; the bell must show an assignment whatever
    # the hour)
    sam = people["agent2@demo.kehu"].user_id
    manager = people["manager@demo.kehu"]
    still_open = ("new", "in_progress", "waiting_on_customer")
    with database.session() as session:
        unheld = {
            team: session.scalar(
                select(Ticket.id)
                .where(
                    Ticket.team_id == team,
                    Ticket.status.in_(still_open),
                    Ticket.assignee_id.is_(None),
                )
                .order_by(Ticket.id)
                .limit(1)
            )
            for team in (teams[1], teams[0])
        }
        at = now - timedelta(minutes=5)
        in_his_team, in_after_sales = unheld[teams[1]], unheld[teams[0]]
        if in_his_team is not None:
            ticket_commands.assign(session, manager, in_his_team, sam, now=at, settings=settings)
        elif in_after_sales is not None:
            ticket_commands.transfer(
                session,
                manager,
                in_after_sales,
                teams[1],
                reason="大客户 key account customer",
                assignee_id=sam,
                now=at,
                settings=settings,
            )

"""The demo data set: CDNOW's customers and purchases (with a value run), plus generated teams,
users for every role, service promises and tickets with realistic histories.

Everything is made through the domains' own use cases (acting as :data:`~kehu.core.auth.SYSTEM` or
as
the demo agents), so the demo exercises the same rules as real use. Building twice adds nothing:
users, teams and tickets are made only when the store has none yet.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.core.users.service import create_user, principal_for
from kehu.core.users.tables import User
from kehu.customers.schemas import ContactIn, CustomerUpdate
from kehu.customers.service import add_contact, edit_customer, get_customer
from kehu.customers.tables import Customer
from kehu.desk import routing, sla_store, ticket_commands, ticket_messages
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.schemas import TicketCreate
from kehu.desk.tables import Ticket
from kehu.store.db import Database
from kehu.value.queries import customers_by_clv

#: The password of every demo user (printed by ``kehu demo``; a demo store only).
DEMO_PASSWORD = "kehu-demo-2026"

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


@dataclass
class DemoSummary:
    users: list[tuple[str, str]] = field(default_factory=list)
    teams: int = 0
    tickets: int = 0
    customers_named: int = 0


def build_demo_desk(
    database: Database, settings: Settings, *, now: datetime | None = None, seed: int = 1997
) -> DemoSummary:
    """Users, teams, calendars, promises, categories and tickets (once)."""
    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    summary = DemoSummary(users=[(email, role) for email, _n, role, _l in DEMO_USERS])
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
        teams = _desk_settings(session, users)
        summary.teams = len(teams)
        customers = _name_customers(session, rng, count=60)
        summary.customers_named = len(customers)
    # tickets: acting as the agents, one transaction per ticket like real work
    with database.session() as session:
        agents = [
            principal_for(session, users[email])
            for email in ("agent@demo.kehu", "agent2@demo.kehu")
        ]
        categories = _categories(session)
    for index in range(120):
        customer_id = rng.choice(customers)
        with database.session() as session:
            _one_ticket(session, rng, now, index, customer_id, agents, categories, settings)
        summary.tickets += 1
    return summary


def _desk_settings(session: Session, users: dict[str, User]) -> list[int]:
    calendar = sla_store.create_calendar(
        session,
        SYSTEM,
        BusinessCalendar.office_hours(
            "Asia/Shanghai", time(9), time(18), name="上海办公时间 Shanghai office hours"
        ),
    )
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
    return [after_sales.id, key_accounts.id]


def _categories(session: Session) -> list[int]:
    return [category.id for category in routing.list_categories(session)]


def _name_customers(session: Session, rng: random.Random, count: int) -> list[int]:
    """Give the most valuable CDNOW customers (and some others) names and contacts."""
    top = customers_by_clv(session, count)
    others = list(session.scalars(select(Customer.id).order_by(Customer.id).limit(count * 3)))
    chosen = list(dict.fromkeys(top + rng.sample(others, min(len(others), count // 2))))
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
    return chosen


def _one_ticket(
    session: Session,
    rng: random.Random,
    now: datetime,
    index: int,
    customer_id: int,
    agents: list[Principal],
    categories: list[int],
    settings: Settings,
) -> None:
    kind = rng.choices(["complaint", "inquiry", "request", "praise"], [5, 3, 2, 1])[0]
    subject, description = rng.choice(_SUBJECTS[kind])
    priority = rng.choices(["low", "normal", "high", "urgent"], [2, 6, 2, 1])[0]
    opened = now - timedelta(hours=rng.uniform(1, 24 * 45))
    ticket = ticket_commands.create_ticket(
        session,
        SYSTEM,
        TicketCreate.model_validate(
            {
                "customer_id": customer_id,
                "kind": kind,
                "channel": rng.choice(["phone", "email", "web_form", "chat", "in_person"]),
                "subject": subject,
                "description": description,
                "priority": priority,
                "category_id": rng.choice(categories),
            }
        ),
        now=opened,
        acknowledge=False,
        settings=settings,
    )
    agent = agents[0] if ticket.team_id is None or index % 2 == 0 else agents[1]
    clock = opened
    # most tickets get worked on; the youngest stay open so the queue has work in it
    stage = rng.random() if (now - opened) > timedelta(hours=4) else 0.0
    actor = SYSTEM if agent.team_ids.isdisjoint({ticket.team_id}) else agent
    if stage > 0.15:
        clock += timedelta(minutes=rng.uniform(10, 300))
        ticket_messages.reply(
            session,
            actor,
            ticket.id,
            "您好，我们已收到您的问题，正在处理。",
            wait_for_customer=stage > 0.6,
            handling_seconds=rng.randint(120, 900),
            now=clock,
            settings=settings,
        )
    if stage > 0.6:
        clock += timedelta(hours=rng.uniform(1, 30))
        ticket_messages.add_customer_reply(
            session, SYSTEM, ticket.id, "谢谢，补充一下订单号。", now=clock, settings=settings
        )
    if stage > 0.45 and rng.random() < 0.2:
        clock += timedelta(minutes=rng.uniform(5, 120))
        other = [t for t in {*agents[0].team_ids, *agents[1].team_ids} if t != ticket.team_id]
        if other:
            ticket_commands.transfer(
                session,
                SYSTEM,
                ticket.id,
                other[0],
                reason="needs the key-account team",
                handling_seconds=rng.randint(60, 300),
                now=clock,
                settings=settings,
            )
    if stage > 0.35:
        clock += timedelta(hours=rng.uniform(0.5, 20))
        ticket_commands.resolve(
            session,
            SYSTEM,
            ticket.id,
            handling_seconds=rng.randint(300, 1800),
            now=clock,
            resolution="已解决 resolved",
            settings=settings,
        )
        if rng.random() < 0.1:
            clock += timedelta(hours=rng.uniform(1, 24))
            ticket_messages.add_customer_reply(
                session, SYSTEM, ticket.id, "问题又出现了。", now=clock, settings=settings
            )

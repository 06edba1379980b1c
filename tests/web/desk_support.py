"""A realistic service desk for the customer, ticket and service-figure pages (and the screenshots
in docs/): contacts, tags and consent for the seeded customers, purchases, three teams, two
service promises on a Shanghai office calendar, and tickets with their events over four months,
all written through the domain's use cases.

Team ids are fixed: 1 一线客服 (the test agent's team), 2 账务组, 3 物流组.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from kehu.core.auth import SYSTEM, Principal
from kehu.core.config import Settings
from kehu.customers import service as customers
from kehu.customers.schemas import ContactIn, PreferenceIn
from kehu.customers.tables import Customer
from kehu.desk import macros, routing, sla_store, ticket_commands, ticket_messages
from kehu.desk.calendars import BusinessCalendar
from kehu.desk.schemas import TicketCreate
from kehu.store.base import utc_now
from kehu.store.db import Database
from kehu.value.tables import Transaction
from staff_support import add_staff

TEAMS = ("一线客服", "账务组", "物流组")
CATEGORIES = ("账单", "退款", "配送")
POLICIES = ("标准服务承诺", "紧急服务承诺")
TAGS = ("VIP", "老客户", "华东区", "经销商")
#: Subjects and texts of the seeded tickets (for the translation test, which strips data).
SUBJECTS = (
    "快递外包装破损，杯子碎了",
    "发票抬头开错了",
    "退款三周还没到账",
    "会员积分没有到账",
    "想改送货地址",
    "配送员态度很好，特此表扬",
    "订单重复扣款",
    "The invoice total does not match the order",
    "Delivery is two weeks late",
    "大批量采购的报价",
    "退货后运费未退",
    "账户无法登录",
)
TEXTS = (
    "您好，收到的包裹外箱压坏了，里面的杯子碎了两只。",
    "您好，非常抱歉给您带来不便。请拍照发给我们，我们马上补发。",
    "已拍照，请查收。",
    "客户是老客户，先补发再走理赔流程。",
    "转给物流组处理理赔。",
    "补发已安排，单号稍后短信通知。",
    "已补发并退还运费。",
    "Please check the attached invoice, the total is off by 120 yuan.",
)
SETTINGS = Settings(  # type: ignore[call-arg]
    _env_file=None,
    reporting_timezone="Asia/Shanghai",
    handling_cost_per_hour=Decimal("60"),
)
SHANGHAI_OFFICE = BusinessCalendar.office_hours("Asia/Shanghai", name="上海办公时间")


@dataclass
class SeededDesk:
    teams: dict[str, int]
    tickets: dict[str, int]  # subject -> id
    customer_ids: dict[str, int]
    now: datetime
    texts: tuple[str, ...] = field(default=())

    @property
    def front_ticket(self) -> int:
        """An open ticket of team 1 (the test agent's team)."""
        return self.tickets[SUBJECTS[0]]

    @property
    def other_team_ticket(self) -> int:
        """An open ticket of team 2 (not the test agent's)."""
        return self.tickets[SUBJECTS[2]]


#: The seeded canned replies: (name, team index or None for every team, English, Chinese).
MACROS: tuple[tuple[str, int | None, str, str], ...] = (
    (
        "破损补发",
        0,
        "Dear {customer_name}, we are sorry your parcel arrived damaged. We are sending a "
        "replacement for ticket #{ticket_number}. {agent_name}, {team_name}",
        "{customer_name}您好，很抱歉包裹破损。我们将为工单 #{ticket_number} 补发。"
        "{agent_name}，{team_name}",
    ),
    ("Refund confirmed", 1, "Dear {customer_name}, your refund is on its way.", ""),
    ("感谢反馈", None, "", "{customer_name}您好，感谢您的反馈！"),
)


def data_texts() -> tuple[str, ...]:
    """Every piece of seeded text a page may show (the translation test ignores them)."""
    macro_texts = tuple(text for macro in MACROS for text in (macro[0], *macro[2:]) if text)
    return (
        *TEAMS,
        *CATEGORIES,
        *POLICIES,
        *TAGS,
        *SUBJECTS,
        *TEXTS,
        SHANGHAI_OFFICE.name,
        *macro_texts,
    )


def seed_macros(database: Database, teams: dict[str, int]) -> dict[str, int]:
    """The canned replies of :data:`MACROS` (name -> id)."""
    with database.session() as session:
        return {
            name: macros.create_macro(
                session,
                SYSTEM,
                name=name,
                team_id=None if team is None else teams[TEAMS[team]],
                body_en=english,
                body_zh=chinese,
            ).id
            for name, team, english, chinese in MACROS
        }


def _customer_details(database: Database, ids: dict[str, int]) -> None:
    with database.session() as session:
        for customer in session.scalars(select(Customer)):
            customers.refresh_search_text(session, customer)
        zhang = ids.get("张伟")
        if zhang:
            for contact in (
                ContactIn(type="phone", value="+86 138 0013 8000", is_primary=True),
                ContactIn(type="email", value="zhang.wei@example.com"),
                ContactIn(type="wechat", value="zhangwei_88"),
            ):
                customers.add_contact(session, SYSTEM, zhang, contact)
            for tag in ("VIP", "老客户"):
                customers.tag_customer(session, SYSTEM, zhang, tag)
            customers.set_contact_preference(
                session,
                SYSTEM,
                zhang,
                PreferenceIn(channel="email", consent="granted", source="web form"),
            )
            customers.set_contact_preference(
                session,
                SYSTEM,
                zhang,
                PreferenceIn(channel="sms", preference="refused", source="phone call"),
            )
        for i, (name, customer_id) in enumerate(sorted(ids.items(), key=lambda kv: kv[1])):
            if name == "张伟":
                continue
            if i % 3 == 0:
                customers.add_contact(
                    session,
                    SYSTEM,
                    customer_id,
                    ContactIn(type="phone", value=f"+86 139 {1000 + i:04d} {2000 + 7 * i:04d}"),
                )
            if i % 4 == 1:
                customers.add_contact(
                    session,
                    SYSTEM,
                    customer_id,
                    ContactIn(type="email", value=f"service{i}@example.com"),
                )
            if i % 5 == 2:
                customers.tag_customer(session, SYSTEM, customer_id, TAGS[2 + i % 2])


def _purchases(database: Database, customer_id: int, now: datetime) -> None:
    with database.session() as session:
        for n, (days, amount) in enumerate(
            ((300, 89_900), (160, 12_800), (45, 256_000), (12, -12_800))
        ):
            session.add(
                Transaction(
                    customer_id=customer_id,
                    transaction_key=f"id:web-{customer_id}-{n}",
                    external_id=f"SO-2026{customer_id:03d}{n}",
                    occurred_at=now - timedelta(days=days),
                    amount_minor=amount,
                    cost_minor=abs(amount) // 2,
                    currency="CNY",
                )
            )


def seed_desk(
    database: Database, customer_ids: dict[str, int], agent_user_id: int = 2
) -> SeededDesk:
    """The desk over the customers of ``seed_value_run`` (``customer_ids``: name -> id)."""
    now = utc_now().replace(microsecond=0)
    _customer_details(database, customer_ids)
    names = sorted(customer_ids, key=lambda n: customer_ids[n])
    zhang = customer_ids.get("张伟", customer_ids[names[0]])
    _purchases(database, zhang, now)
    with database.session() as session:
        calendar = sla_store.create_calendar(session, SYSTEM, SHANGHAI_OFFICE)
        sla_store.create_policy(
            session,
            SYSTEM,
            name=POLICIES[0],
            first_response=timedelta(hours=4),
            resolution=timedelta(hours=16),
            calendar_id=calendar.id,
        )
        sla_store.create_policy(
            session,
            SYSTEM,
            name=POLICIES[1],
            first_response=timedelta(hours=1),
            resolution=timedelta(hours=4),
            calendar_id=calendar.id,
            priorities=["urgent"],
            order=1,
        )
        teams = {name: routing.create_team(session, SYSTEM, name).id for name in TEAMS}
        billing = routing.create_category(session, SYSTEM, CATEGORIES[0])
        refund = routing.create_category(session, SYSTEM, CATEGORIES[1], billing.id)
        delivery = routing.create_category(session, SYSTEM, CATEGORIES[2])
        add_staff(session, 1, agent_user_id)  # the manager's and the agent's principals
        routing.add_team_member(session, SYSTEM, teams[TEAMS[0]], agent_user_id)
    categories = {"billing": billing.id, "refund": refund.id, "delivery": delivery.id}
    front, bills, logistics = (teams[t] for t in TEAMS)
    ids: dict[str, int] = {}
    agent = Principal.for_user(agent_user_id, ["agent"], [front], display_name="Agent")
    manager = Principal.for_user(1, ["manager"], display_name="Manager")
    team_of: dict[int, int] = {}

    def file(subject: str, customer: str, age: timedelta, team: int, **fields: object) -> int:
        with database.session() as session:
            ticket = ticket_commands.create_ticket(
                session,
                SYSTEM,
                TicketCreate(
                    customer_id=customer_ids.get(customer, zhang),
                    subject=subject,
                    team_id=team,
                    **{"kind": "complaint", "channel": "web_form", **fields},  # type: ignore[arg-type]
                ),
                now=now - age,
                settings=SETTINGS,
            )
            ids[subject] = ticket.id
            team_of[ticket.id] = team
            return ticket.id

    def act(
        ticket_id: int,
        at: timedelta,
        what: str,
        body: str = "",
        *,
        wait_for_customer: bool = False,
        team_id: int = 0,
        reason: str = "",
    ) -> None:
        moment = now - at
        staff = agent if team_of[ticket_id] == front else manager
        with database.session() as session:
            if what == "reply":
                ticket_messages.reply(
                    session,
                    staff,
                    ticket_id,
                    body,
                    wait_for_customer=wait_for_customer,
                    handling_seconds=600,
                    now=moment,
                    settings=SETTINGS,
                )
            elif what == "customer":
                ticket_messages.add_customer_reply(
                    session, SYSTEM, ticket_id, body, now=moment, settings=SETTINGS
                )
            elif what == "note":
                ticket_messages.add_note(
                    session,
                    staff,
                    ticket_id,
                    body,
                    handling_seconds=120,
                    now=moment,
                    settings=SETTINGS,
                )
            elif what == "transfer":
                ticket_commands.transfer(
                    session,
                    SYSTEM,
                    ticket_id,
                    team_id,
                    reason=reason,
                    now=moment,
                    settings=SETTINGS,
                )
            elif what == "resolve":
                ticket_commands.resolve(
                    session, SYSTEM, ticket_id, handling_seconds=300, now=moment, settings=SETTINGS
                )
            elif what == "reopen":
                ticket_commands.reopen(session, SYSTEM, ticket_id, now=moment, settings=SETTINGS)

    h, d = timedelta(hours=1), timedelta(days=1)
    # open tickets of the agent's team: one fresh, one overdue, one waiting on the customer
    first = file(
        SUBJECTS[0], "张伟", 3 * h, front, description=TEXTS[0], category_id=categories["delivery"]
    )
    file(
        SUBJECTS[1],
        "上海明远贸易有限公司",
        9 * d,
        front,
        kind="request",
        channel="email",
        category_id=categories["billing"],
    )
    waiting = file(SUBJECTS[3], "李娜", 2 * d, front, kind="inquiry", channel="phone")
    act(waiting, 47 * h, "reply", TEXTS[1], wait_for_customer=True)
    urgent = file(
        SUBJECTS[6],
        "Northwind Traders",
        40 * timedelta(minutes=1),
        front,
        priority="urgent",
        channel="chat",
        category_id=categories["billing"],
    )
    # open tickets of the other teams
    file(SUBJECTS[2], "王芳", 6 * d, bills, category_id=categories["refund"], priority="high")
    file(
        SUBJECTS[7],
        "Contoso Retail",
        26 * h,
        bills,
        kind="inquiry",
        channel="email",
        description=TEXTS[7],
    )
    file(
        SUBJECTS[8],
        "Fabrikam Foods",
        4 * h,
        logistics,
        channel="email",
        category_id=categories["delivery"],
    )
    # resolved over the last months: kept and broken promises, transfers, reopenings
    for k, (subject, customer, days) in enumerate(
        (
            (SUBJECTS[4], "刘洋", 95),
            (SUBJECTS[5], "陈静", 70),
            (SUBJECTS[9], "北京华信科技有限公司", 52),
            (SUBJECTS[10], "赵磊", 33),
            (SUBJECTS[11], "孙悦", 20),
        )
    ):
        team = (front, bills, logistics)[k % 3]
        ticket = file(
            subject,
            customer,
            days * d,
            team,
            kind=("request", "praise", "inquiry", "complaint", "complaint")[k],
            channel=("phone", "email", "email", "web_form", "chat")[k],
            category_id=(None, None, None, categories["refund"], None)[k],
        )
        act(ticket, days * d - 2 * h, "reply", TEXTS[1])
        if k == 3:
            act(ticket, days * d - 3 * h, "transfer", team_id=logistics, reason=TEXTS[4])
            act(ticket, days * d - 5 * h, "customer", TEXTS[2])
            act(ticket, (days - 9) * d, "resolve")
            act(ticket, (days - 10) * d, "reopen")
            act(ticket, (days - 11) * d, "resolve")
        else:
            act(ticket, days * d - (3 + 20 * (k == 4)) * h, "resolve")
    # the first ticket's conversation: a reply, the customer's answer, a note and a transfer
    act(first, 2 * h, "reply", TEXTS[1])
    act(first, 90 * timedelta(minutes=1), "customer", TEXTS[2])
    act(first, 80 * timedelta(minutes=1), "note", TEXTS[3])
    act(urgent, 20 * timedelta(minutes=1), "note", TEXTS[3])
    seed_macros(database, teams)
    return SeededDesk(
        teams=teams, tickets=ids, customer_ids=customer_ids, now=now, texts=data_texts()
    )

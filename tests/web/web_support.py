"""Helpers of the web page tests: an app with the pages, a fake principal, a seeded value run.

The pages take who is acting, the store and the language from the dependencies of
``kehu.web.deps``; here they are overridden with a principal chosen per test and the migrated
``database`` of ``tests/conftest.py``. Translations are strict: a message without a translation
fails the page instead of falling back to English.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np
from fastapi import FastAPI
from sqlalchemy import select

from kehu.analytics.rfm import SEGMENTS
from kehu.analytics.tiers import value_tiers
from kehu.core.auth.principal import Principal
from kehu.core.auth.scoping import register_scope, scoped
from kehu.core.config import Settings
from kehu.customers.tables import Customer
from kehu.http.errors import install_error_handlers
from kehu.store.db import Database
from kehu.value.tables import CustomerScore, ValueRun
from kehu.web import deps, install

SCRIPT_NAME = "<script>alert(1)</script>"
CSRF_TOKEN = "csrf-token-for-tests"

#: Realistic customers for the pages (and the screenshots in docs/).
CUSTOMER_NAMES = (
    "上海明远贸易有限公司",
    "北京华信科技有限公司",
    "张伟",
    "李娜",
    "Northwind Traders",
    "王芳",
    "杭州云帆电子商务有限公司",
    "刘洋",
    "Contoso Retail",
    "陈静",
    "深圳恒达物流有限公司",
    "赵磊",
    "Fabrikam Foods",
    "孙悦",
    "广州嘉禾餐饮管理有限公司",
    "周杰",
    "Tailspin Outfitters",
    "吴敏",
    "成都天府茶业有限公司",
    "郑浩",
    "Adventure Works",
    "黄丽",
    "南京金陵文化传媒有限公司",
    "徐强",
    "Alpine Ski House",
    "胡婷",
    "苏州工业园区精工机械有限公司",
    "朱磊",
    "Blue Yonder Airlines",
    "高洁",
    "武汉长江医药有限公司",
    "林峰",
    "Coho Winery",
    "何雪",
    "西安古城旅游有限公司",
    "郭涛",
)


def ensure_scopes() -> None:
    """The entities the pages query must have a scope; register the plain ones a domain has not
    registered yet (the permission layer is never bypassed)."""
    for entity, permission in (
        (ValueRun, "value:read"),
        (CustomerScore, "value:read"),
        (Customer, "customers:read"),
    ):
        try:
            scoped(select(entity), MANAGER, entity)
        except LookupError:
            register_scope(entity, permission)


MANAGER = Principal.for_user(1, ["manager"], display_name="王经理")
AGENT = Principal.for_user(2, ["agent"], team_ids=[1], display_name="Agent Smith")


@dataclass
class WebApp:
    """The app under test and the knobs a test turns."""

    app: FastAPI
    database: Database
    settings: Settings
    principal: Principal | None = field(default=MANAGER)
    csrf_token: str = CSRF_TOKEN


def make_app(database: Database, settings: Settings | None = None) -> WebApp:
    """The pages over ``database`` in an app of their own (for a test that serves several apps
    at once, or serves one in a thread across tests)."""
    ensure_scopes()
    app = FastAPI()
    install_error_handlers(app)  # as create_app: the pages leave 403/404 to the one error map
    install(app)
    web = WebApp(app, database, settings or Settings(currency="CNY", timezone="Asia/Shanghai"))
    _override(app, lambda: web)
    return web


def _override(app: FastAPI, current: Callable[[], WebApp]) -> None:
    app.dependency_overrides[deps.get_database] = lambda: current().database
    app.dependency_overrides[deps.get_settings] = lambda: current().settings
    app.dependency_overrides[deps.get_optional_principal] = lambda: current().principal
    app.dependency_overrides[deps.get_csrf_token] = lambda: current().csrf_token


class _SharedPages:
    """One app of the pages per test process, pointed at each test's store in turn.

    FastAPI analyses every route's dependencies for each new app (signatures, parameter
    models): a third of a page test's time went into building an app per test. Tests in a
    process run one after another, so one app serves them all; each test gets its own
    :class:`WebApp` (store, settings, principal), which the app's overrides read."""

    app: FastAPI | None = None
    current: WebApp | None = None

    @classmethod
    def for_test(cls, database: Database, settings: Settings | None) -> WebApp:
        ensure_scopes()
        if cls.app is None:
            cls.app = FastAPI()
            install_error_handlers(cls.app)
            install(cls.app)
            _override(cls.app, cls._current)
        cls.current = WebApp(
            cls.app, database, settings or Settings(currency="CNY", timezone="Asia/Shanghai")
        )
        return cls.current

    @classmethod
    def _current(cls) -> WebApp:
        assert cls.current is not None, "no test has asked for the shared pages"
        return cls.current


def shared_app(database: Database, settings: Settings | None = None) -> WebApp:
    """The pages over ``database`` for one test, in the process's one shared app (the ``web``
    fixture); a test that keeps an app across tests or serves two at once uses
    :func:`make_app`."""
    return _SharedPages.for_test(database, settings)


@dataclass(frozen=True)
class SeededRun:
    run_id: int
    customer_ids: dict[str, int]  # name -> id
    clv_minor: dict[str, int]
    tiers: dict[str, str]
    probability_alive: dict[str, float]


def _segment(tier: str, p_alive: float, i: int) -> str:
    """A plausible RFM segment for a customer of ``tier`` with ``p_alive``."""
    if p_alive < 0.3:
        return "cannot_lose_them" if tier == "high" else "hibernating"
    if p_alive < 0.5:
        return "at_risk"
    if p_alive < 0.7:
        return "need_attention"
    choices = {
        "high": ("champions", "loyal_customers"),
        "middle": ("loyal_customers", "potential_loyalists"),
        "low": ("promising", "new_customers"),
    }[tier]
    segment = choices[i % 2]
    assert segment in SEGMENTS
    return segment


def seed_value_run(
    database: Database,
    names: tuple[str, ...] = CUSTOMER_NAMES,
    *,
    currency: str = "CNY",
    seed: int = 12,
) -> SeededRun:
    """Customers, a finished value run and its scores, inserted directly (as the value engine
    saves them), with a heavy-tailed CLV so that the tiers and the Pareto curve look real."""
    rng = np.random.default_rng(seed)
    n = len(names)
    clv = np.round(1_500_000 * rng.pareto(1.3, n) + 80_000).astype(np.int64)  # minor units
    tiers = value_tiers(clv.astype(float))
    p_alive = np.round(rng.beta(5.0, 1.6, n), 3)
    # the two largest customers are slipping away: the at-risk table is never empty
    order = np.argsort(-clv)
    p_alive[order[:2]] = (0.12, 0.31)[: min(n, 2)]
    frequency = rng.integers(0, 25, n)
    spend = np.round(clv * rng.uniform(0.6, 1.8, n)).astype(np.int64)
    now = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    with database.session() as session:
        run = ValueRun(
            started_at=now,
            finished_at=now,
            status="succeeded",
            source="demo purchases",
            input_fingerprint="0" * 64,
            currency=currency,
            settings={
                "observation_end": date(2026, 2, 28).isoformat(),
                "unit": "week",
                "horizon": 52,
                "model": "bgnbd",
                "currency": currency,
                "minor_units": 2,
                "tier_thresholds": [0.8, 0.95],
            },
            models=[],
            diagnostics={},
            n_customers=n,
        )
        session.add(run)
        customers = [
            Customer(external_id=f"C-{i + 1:04d}", name=name) for i, name in enumerate(names)
        ]
        session.add_all(customers)
        session.flush()
        for i, customer in enumerate(customers):
            margin = int(spend[i] * 0.3)
            cost = int(rng.integers(0, 2_000))
            session.add(
                CustomerScore(
                    customer_id=customer.id,
                    run_id=run.id,
                    frequency=int(frequency[i]),
                    recency=float(rng.uniform(1, 50)),
                    age=52.0,
                    monetary_value_minor=int(spend[i] // max(int(frequency[i]), 1)),
                    total_spend_minor=int(spend[i]),
                    rfm_recency=int(rng.integers(1, 6)),
                    rfm_frequency=int(rng.integers(1, 6)),
                    rfm_monetary=int(rng.integers(1, 6)),
                    rfm_segment=_segment(str(tiers[i]), float(p_alive[i]), i),
                    probability_alive=float(p_alive[i]),
                    expected_purchases=(expected := float(rng.uniform(0, 5))),
                    expected_spend_minor=int(clv[i] // 2),
                    clv_minor=int(clv[i]),
                    # the run's 90 % intervals: wide, as for a small customer base
                    probability_alive_low=float(p_alive[i] * 0.8),
                    probability_alive_high=float(min(1.0, p_alive[i] * 1.1)),
                    expected_purchases_low=float(expected * 0.7),
                    expected_purchases_high=float(expected * 1.35),
                    clv_low_minor=int(clv[i] * 0.65),
                    clv_high_minor=int(clv[i] * 1.55),
                    value_tier=str(tiers[i]),
                    margin_minor=margin,
                    cost_to_serve_minor=cost,
                    profit_minor=margin - cost,
                )
            )
        session.flush()
        ids = {c.name or "": c.id for c in customers}
        run_id = run.id
    return SeededRun(
        run_id=run_id,
        customer_ids=ids,
        clv_minor=dict(zip(names, (int(v) for v in clv), strict=True)),
        tiers=dict(zip(names, (str(t) for t in tiers), strict=True)),
        probability_alive=dict(zip(names, (float(p) for p in p_alive), strict=True)),
    )

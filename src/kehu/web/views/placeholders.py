"""Areas whose pages are still to come: the navigation already leads somewhere sensible.

Replace a route here with the real page (same route name) when the area lands.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from kehu.web.rendering import NAV_ITEMS, Page, StaffPage

router = APIRouter()


def _coming_soon(page: Page, key: str) -> HTMLResponse:
    item = next(item for item in NAV_ITEMS if item.key == key)
    assert page.principal is not None
    if item.permission and not page.principal.can(item.permission):
        return page.forbidden()
    return page.render("pages/coming_soon.html", {"item": item}, active=key)


@router.get("/customers", name="web_customers")
def customers(page: StaffPage) -> HTMLResponse:
    return _coming_soon(page, "customers")


@router.get("/tickets", name="web_tickets")
def tickets(page: StaffPage) -> HTMLResponse:
    return _coming_soon(page, "tickets")


@router.get("/service", name="web_service_figures")
def service_figures(page: StaffPage) -> HTMLResponse:
    return _coming_soon(page, "service")

"""Every router of the API, in the order they are mounted (each module exposes ``router``)."""

from __future__ import annotations

from fastapi import APIRouter

from kehu.api.routes import (
    audit,
    auth,
    customers,
    desk_admin,
    duplicate_flags,
    privacy,
    public,
    service_figures,
    system,
    tickets,
    tokens,
    users,
    value,
    web_auth,
)

ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    auth.router,
    users.router,
    tokens.router,
    value.router,
    customers.router,
    duplicate_flags.router,
    tickets.router,
    desk_admin.router,
    service_figures.router,
    audit.router,
    web_auth.router,
    public.router,
    privacy.router,
)

"""Every router of the API, in the order they are mounted (each module exposes ``router``)."""

from __future__ import annotations

from fastapi import APIRouter

from kehu.api.routes import (
    assignment,
    audit,
    auth,
    calibration,
    customers,
    desk_admin,
    duplicate_flags,
    follow_up,
    macros,
    notifications,
    privacy,
    public,
    service_figures,
    survey_invitations,
    survey_results,
    surveys,
    system,
    themes,
    ticket_queue,
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
    ticket_queue.router,
    desk_admin.router,
    macros.router,
    assignment.router,
    service_figures.router,
    calibration.router,
    surveys.router,
    survey_invitations.router,
    themes.router,
    follow_up.router,
    survey_results.router,
    audit.router,
    notifications.router,
    web_auth.router,
    public.router,
    privacy.router,
)

"""The FastAPI application: ``create_app(settings=None, database=None)``.

Routers are listed once in :data:`ROUTER_MODULES`; each module there exposes ``router``
(a ``fastapi.APIRouter``). OpenAPI is served at ``/openapi.json`` and a self-contained docs
page at ``/docs`` (nothing is fetched from the internet).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import kehu
import kehu.domains
from kehu.api.errors import install_error_handlers
from kehu.api.middleware import (
    BodyLimitMiddleware,
    CompleteMultipartMiddleware,
    IdempotencyMiddleware,
    SecurityHeadersMiddleware,
)
from kehu.config import Settings, get_settings, require_public_base_url
from kehu.desk.settings import get_service_settings
from kehu.store.db import Database

#: Every router of the API, one module per line (each exposes ``router``).
ROUTER_MODULES = (
    "kehu.api.routes.system",
    "kehu.api.routes.auth",
    "kehu.api.routes.users",
    "kehu.api.routes.tokens",
    "kehu.api.routes.value",
    "kehu.api.routes.customers",
    "kehu.api.routes.tickets",
    "kehu.api.routes.desk_admin",
    "kehu.api.routes.service_figures",
    "kehu.api.routes.audit",
    "kehu.api.routes.web_auth",
    "kehu.api.routes.public",
    "kehu.api.routes.privacy",
)


#: Where files are uploaded: the only requests allowed bodies above ``max_request_bytes``.
ATTACHMENT_UPLOAD_PATH = re.compile(r"/api/tickets/\d+/attachments")


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the API over ``database`` (default: the store at ``settings.database_url``; a
    database created here is disposed of when the app shuts down).

    ``ConfigurationError`` in production without ``public_base_url``: the links given to
    customers are built only from it (:func:`kehu.config.public_url`)."""
    settings = settings or get_settings()
    require_public_base_url(settings)
    owns_database = database is None
    store = database if database is not None else Database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:
            store.dispose()

    app = FastAPI(
        title="kehu",
        summary="Customer value and customer experience management.",
        version=getattr(kehu, "__version__", "0"),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.database = store
    install_error_handlers(app)
    # Added innermost first: the last one added runs first.
    app.add_middleware(IdempotencyMiddleware, database=store, settings=settings)
    app.add_middleware(CompleteMultipartMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        # an attachment upload carries the file plus the multipart framing and form fields
        upload_max_bytes=get_service_settings().attachment_max_bytes + 64 * 1024,
        upload_paths=ATTACHMENT_UPLOAD_PATH,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    for module_name in ROUTER_MODULES:
        module = importlib.import_module(module_name)
        app.include_router(module.router)
    from kehu.web import install as install_web_pages

    install_web_pages(app)
    return app

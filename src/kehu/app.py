"""The application: ``create_app(settings=None, database=None)`` puts the two HTTP front doors
together, the API (its routers listed in :mod:`kehu.api.routers`) and the pages (:mod:`kehu.web`),
behind the shared middlewares of :mod:`kehu.http`. OpenAPI is served at ``/openapi.json`` and a
self-contained docs page at ``/docs`` (nothing is fetched from the internet).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import kehu
import kehu.domains
from kehu.api.routers import ROUTERS
from kehu.core.config import Settings, get_settings, require_public_base_url
from kehu.http.errors import install_error_handlers
from kehu.http.middleware import (
    BodyLimitMiddleware,
    CompleteMultipartMiddleware,
    IdempotencyMiddleware,
    SecurityHeadersMiddleware,
)
from kehu.store.db import Database
from kehu.web import install as install_web_pages

#: Where files are uploaded: the only requests allowed bodies above ``max_request_bytes`` (the
#: API's upload, and the ticket page's reply and note forms, which may carry a file).
ATTACHMENT_UPLOAD_PATH = re.compile(r"/api/tickets/\d+/attachments|/tickets/\d+/(reply|note)")


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the API over ``database`` (default: the store at ``settings.database_url``; a
    database created here is disposed of when the app shuts down).

    ``ConfigurationError`` in production without ``public_base_url``: the links given to
    customers are built only from it (:func:`kehu.core.config.public_url`)."""
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
    app.add_middleware(IdempotencyMiddleware, state=app.state)
    app.add_middleware(CompleteMultipartMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_request_bytes,
        # an attachment upload carries the file plus the multipart framing and form fields
        upload_max_bytes=settings.attachment_max_bytes + 64 * 1024,
        upload_paths=ATTACHMENT_UPLOAD_PATH,
    )
    app.add_middleware(SecurityHeadersMiddleware)
    for router in ROUTERS:
        app.include_router(router)
    install_web_pages(app)
    return app

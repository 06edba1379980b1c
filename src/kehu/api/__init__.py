"""The HTTP API (FastAPI): one router module per area under :mod:`kehu.api.routes`, listed in
:mod:`kehu.api.routers`; :func:`kehu.app.create_app` mounts them beside the pages."""

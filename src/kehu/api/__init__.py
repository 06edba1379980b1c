"""The HTTP API (FastAPI): ``kehu.api.app.create_app`` builds it.

This package imports nothing heavy at import time, so that the store can import
:mod:`kehu.core.idempotency` without FastAPI.
"""

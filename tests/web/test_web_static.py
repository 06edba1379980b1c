"""Static assets are kehu's own files, served by kehu: nothing comes from the internet."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from kehu.web.rendering import STATIC_DIR, TEMPLATE_DIR

HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"


def test_stylesheet_and_htmx_are_served(client: TestClient) -> None:
    css = client.get("/static/css/kehu.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    htmx = client.get("/static/vendor/htmx.min.js")
    assert htmx.status_code == 200
    assert "javascript" in htmx.headers["content-type"]
    assert hashlib.sha256(htmx.content).hexdigest() == HTMX_SHA256


def test_vendored_htmx_is_the_recorded_release_with_its_licence() -> None:
    vendor = STATIC_DIR / "vendor"
    assert hashlib.sha256((vendor / "htmx.min.js").read_bytes()).hexdigest() == HTMX_SHA256
    assert HTMX_SHA256 in (vendor / "README.md").read_text(encoding="utf-8")
    assert "Zero-Clause BSD" in (vendor / "htmx.LICENSE.txt").read_text(encoding="utf-8")


def test_only_files_inside_the_static_folder_are_served(client: TestClient) -> None:
    for path in (
        "/static/%2e%2e/deps.py",
        "/static/..%2fdeps.py",
        "/static/css",
        "/static/missing.js",
        "/static/%2fetc%2fpasswd",
    ):
        assert client.get(path).status_code == 404, path


def test_pages_and_styles_reference_nothing_outside_kehu() -> None:
    external = re.compile(
        r"""(?:src|href|action)\s*=\s*["'](?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import"""
    )
    files = [*TEMPLATE_DIR.rglob("*.html"), *STATIC_DIR.rglob("*.css")]
    assert files
    for path in files:
        assert not external.search(path.read_text(encoding="utf-8")), path

"""Liveness, readiness and the API's own documentation page."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from kehu.http.deps import get_database
from kehu.http.errors import error_response
from kehu.store.db import Database

router = APIRouter(tags=["system"])


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(resources.files("kehu.store") / "migrations"))
    return frozenset(ScriptDirectory.from_config(config).get_heads())


def store_readiness(database: Database) -> str | None:
    """``None`` when the store answers and is migrated to the latest revision, else why not."""
    from alembic.runtime.migration import MigrationContext

    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except Exception as exc:  # any driver error means "not ready"
        return f"the store cannot be reached: {type(exc).__name__}"
    if current != migration_heads():
        return "the store's schema is not at the latest migration: run `kehu db upgrade`"
    return None


@router.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store is reachable and migrated",
    responses={503: {"description": "not ready"}},
)
def readyz(request: Request) -> Any:
    problem = store_readiness(get_database(request))
    if problem is not None:
        return error_response(503, "StoreError", problem)
    return JSONResponse({"status": "ready"})


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kehu API</title>
<style>
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
details { border: 1px solid #ddd; border-radius: 4px; margin: .4rem 0; padding: .3rem .6rem; }
summary { cursor: pointer; } code, pre { font: 13px ui-monospace, monospace; }
pre { background: #f6f6f6; padding: .5rem; overflow: auto; }
.m { display: inline-block; width: 4.5rem; font-weight: bold; text-transform: uppercase; }
.get { color: #0a6; } .post { color: #06c; } .patch, .put { color: #c70; } .delete { color: #c22; }
table { border-collapse: collapse; } td, th { padding: .15rem .6rem; text-align: left; }
</style>
</head>
<body>
<h1>kehu API</h1>
<p>The machine-readable description is at <a href="/openapi.json">/openapi.json</a>.
Authenticate with <code>Authorization: Bearer kehu_…</code> (an API token) or a session cookie
from <code>POST /api/auth/login</code> plus its CSRF token in <code>X-CSRF-Token</code> on writes.
Every write accepts an <code>Idempotency-Key</code> header. Errors have the body
<code>{"error": {"type", "message", "field"?}}</code>.</p>
<div id="api">Loading…</div>
<script>
(function () {
  "use strict";
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function schemaName(schema) {
    if (!schema) { return ""; }
    if (schema.$ref) { return schema.$ref.split("/").pop(); }
    if (schema.type === "array") { return schemaName(schema.items) + "[]"; }
    if (schema.anyOf) { return schema.anyOf.map(schemaName).join(" | "); }
    return schema.type || "";
  }
  fetch("/openapi.json").then(function (r) { return r.json(); }).then(function (spec) {
    var root = document.getElementById("api");
    root.textContent = "";
    var groups = {};
    Object.keys(spec.paths).forEach(function (path) {
      Object.keys(spec.paths[path]).forEach(function (method) {
        var op = spec.paths[path][method];
        var tag = (op.tags && op.tags[0]) || "other";
        (groups[tag] = groups[tag] || []).push([method, path, op]);
      });
    });
    Object.keys(groups).sort().forEach(function (tag) {
      root.appendChild(el("h2", "", tag));
      groups[tag].forEach(function (entry) {
        var method = entry[0], path = entry[1], op = entry[2];
        var box = el("details");
        var head = el("summary");
        head.appendChild(el("span", "m " + method, method));
        head.appendChild(el("code", "", path));
        head.appendChild(document.createTextNode(" " + (op.summary || "")));
        box.appendChild(head);
        if (op.description) { box.appendChild(el("p", "", op.description)); }
        if (op.parameters && op.parameters.length) {
          var table = el("table");
          op.parameters.forEach(function (p) {
            var row = el("tr");
            row.appendChild(el("td", "", p["in"]));
            row.appendChild(el("td", "", p.name + (p.required ? " *" : "")));
            row.appendChild(el("td", "", schemaName(p.schema)));
            row.appendChild(el("td", "", p.description || ""));
            table.appendChild(row);
          });
          box.appendChild(table);
        }
        var body = op.requestBody && op.requestBody.content &&
          op.requestBody.content["application/json"];
        if (body) { box.appendChild(el("p", "", "body: " + schemaName(body.schema))); }
        Object.keys(op.responses || {}).forEach(function (code) {
          var content = op.responses[code].content || {};
          var json = content["application/json"];
          box.appendChild(el("p", "", code + " " + (op.responses[code].description || "") +
            (json ? " — " + schemaName(json.schema) : "")));
        });
        root.appendChild(box);
      });
    });
    if (spec.components && spec.components.schemas) {
      root.appendChild(el("h2", "", "schemas"));
      Object.keys(spec.components.schemas).sort().forEach(function (name) {
        var box = el("details");
        box.appendChild(el("summary", "", name));
        box.appendChild(el("pre", "", JSON.stringify(spec.components.schemas[name], null, 2)));
        root.appendChild(box);
      });
    }
  }).catch(function (error) {
    document.getElementById("api").textContent = "Could not load /openapi.json: " + error;
  });
})();
</script>
</body>
</html>
"""


@router.get("/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return HTMLResponse(
        DOCS_PAGE,
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'; "
            "style-src 'self' 'unsafe-inline'; connect-src 'self'; frame-ancestors 'none'"
        },
    )

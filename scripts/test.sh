#!/usr/bin/env bash
# Set up kehu with its test tools, then lint, type-check and run the tests (warnings are errors).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dev
bash scripts/setup-browser.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache   # the layers (pyproject.toml, [tool.importlinter])
# Two workers (the machines have two cores); a test file stays on one worker, so module-scoped
# stores and browsers are made once. KEHU_TEST_WORKERS=0 runs in this one process.
.venv/bin/python -m pytest -n "${KEHU_TEST_WORKERS:-2}" --dist loadfile "$@"

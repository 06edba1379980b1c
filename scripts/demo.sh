#!/usr/bin/env bash
# Set up kehu and run its main job on the embedded default (SQLite + DuckDB, no server).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/kehu demo "$@"

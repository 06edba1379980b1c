#!/usr/bin/env bash
# Benchmark kehu's pages against a bare FastAPI + SQLAlchemy floor with wrk, and write the tables
# into benchmarks/web/README.md.
#
#   bash benchmarks/web/run.sh [run.py options]     e.g. --label after, --profile, --duration 15
#
# KEHU_PYTHON: a Python with kehu installed (default: the active venv's, else the repo's .venv).
# Installs wrk (Debian package) when missing. --profile uses py-spy from its own venv
# (benchmarks/.venvs/profile, gitignored; created on first use), never kehu's dependencies.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [[ -z "${KEHU_PYTHON:-}" ]]; then
  if [[ -n "${VIRTUAL_ENV:-}" ]]; then KEHU_PYTHON="$VIRTUAL_ENV/bin/python"; else KEHU_PYTHON="$ROOT/.venv/bin/python"; fi
fi
if ! "$KEHU_PYTHON" -c "import kehu" >/dev/null 2>&1; then
  echo "$KEHU_PYTHON cannot import kehu: set KEHU_PYTHON or activate kehu's venv" >&2; exit 1
fi
if ! command -v wrk >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then
    apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
  else
    echo "needs wrk (apt-get install wrk)" >&2; exit 1
  fi
fi
args=()
for arg in "$@"; do
  if [[ "$arg" == "--profile" ]]; then
    PROFILE_VENV="$ROOT/benchmarks/.venvs/profile"
    if [[ ! -x "$PROFILE_VENV/bin/py-spy" ]]; then
      echo "creating the profiler venv in $PROFILE_VENV" >&2
      "$KEHU_PYTHON" -m venv "$PROFILE_VENV"
      "$PROFILE_VENV/bin/pip" install --quiet "py-spy==0.4.3"
    fi
    args+=(--profile "$PROFILE_VENV/bin/py-spy")
  else
    args+=("$arg")
  fi
done
exec "$KEHU_PYTHON" "$HERE/run.py" ${args[@]+"${args[@]}"}

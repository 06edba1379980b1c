#!/usr/bin/env bash
# Run every value benchmark (kehu against lifetimes 0.11.3) and write benchmarks/value/results.md.
#
#   benchmarks/value/run.sh [run.py options]      e.g. --quick, --profile, --skip-lifetimes
#
# KEHU_PYTHON: a Python with kehu installed (default: the active venv's, else python3).
# LIFETIMES_VENV: where lifetimes' own venv lives (default: benchmarks/.venvs/lifetimes, gitignored);
# it is created on first use from requirements-lifetimes.txt with LIFETIMES_BASE_PYTHON (python3.11).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
if [[ -z "${KEHU_PYTHON:-}" ]]; then
  if [[ -n "${VIRTUAL_ENV:-}" ]]; then KEHU_PYTHON="$VIRTUAL_ENV/bin/python"; else KEHU_PYTHON=python3; fi
fi
if ! "$KEHU_PYTHON" -c "import kehu" >/dev/null 2>&1; then
  echo "$KEHU_PYTHON cannot import kehu: set KEHU_PYTHON or activate kehu's venv" >&2; exit 1
fi
LIFETIMES_VENV="${LIFETIMES_VENV:-$ROOT/benchmarks/.venvs/lifetimes}"
BASE="${LIFETIMES_BASE_PYTHON:-python3.11}"

if ! "$LIFETIMES_VENV/bin/python" -c "import lifetimes" >/dev/null 2>&1; then
  echo "creating the lifetimes venv in $LIFETIMES_VENV" >&2
  "$BASE" -m venv "$LIFETIMES_VENV"
  "$LIFETIMES_VENV/bin/pip" install --quiet -r "$HERE/requirements-lifetimes.txt"
fi

if [[ ! -x /usr/bin/time ]]; then  # GNU time: wall clock and peak RSS of a fresh process
  if [[ "$(id -u)" == 0 ]]; then
    apt-get install -y -qq time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
  else
    echo "needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1
  fi
fi

exec "$KEHU_PYTHON" "$HERE/run.py" --lifetimes-python "$LIFETIMES_VENV/bin/python" "$@"

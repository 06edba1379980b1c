#!/usr/bin/env bash
# The browser tests drive Debian's chromium (never a browser download): install it when missing.
set -euo pipefail
# fonts-noto-cjk: without it Chinese pages render as boxes in screenshots
if [ -x /usr/bin/chromium ] && [ -d /usr/share/fonts/opentype/noto ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ]; then
  sudo=""
elif command -v sudo >/dev/null 2>&1; then
  sudo="sudo"
else
  echo "setup-browser: /usr/bin/chromium is missing and there is no root to install it" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
echo "setup-browser: installed $(/usr/bin/chromium --version)"

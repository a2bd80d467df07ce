#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests if it is missing and we may install.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
  echo "Chromium is missing: the browser tests will be skipped." >&2
  echo "Install it with: sudo apt-get install -y chromium" >&2
fi

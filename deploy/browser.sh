#!/usr/bin/env bash
# Browser tests need Debian's chromium and Node.js (playwright-core drives the system chromium;
# no browser is downloaded). Installs what is missing, then the test's locked npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
    echo "browser: installing ${missing[*]}" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --prefix crates/server/tests/browser --no-audit --no-fund --loglevel=error >/dev/null

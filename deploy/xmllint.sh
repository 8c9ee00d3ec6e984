#!/usr/bin/env bash
# The tests validate what zbor writes and reads in ISO 20022 (camt.053 test statements) against
# the real schemas in ../shared/iso20022 with libxml2's xmllint (Debian package libxml2-utils).
# Installs it if missing.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! command -v xmllint >/dev/null; then
    echo "xmllint: installing libxml2-utils" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libxml2-utils >/dev/null
fi

#!/usr/bin/env bash
# The README's run command: services up, build, then `zbor dev` (create database, migrate, serve).
# Arguments go to `zbor dev`: `deploy/dev.sh --demo` seeds a demo to click through.
#
# The development profile, not release: the test command (`deploy/test.sh`) builds this same
# binary, so after it this only links; and from a clean clone it is the shorter build of the two
# (a release build after the test build took about 16 minutes on a 2-core machine).
# ZBOR_DEV_PROFILE=release builds and runs the optimised binary instead (for load tests).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/services.sh
# The README's walkthrough reads the API's answers with jq (as root or with sudo, as services.sh).
if ! command -v jq >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    if ! { command -v apt-get >/dev/null &&
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jq >/dev/null; }; then
        echo "dev.sh: jq is not installed (the README's walkthrough uses it): apt-get install jq" >&2
    fi
fi
. deploy/rust.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zbor}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
profile="${ZBOR_DEV_PROFILE:-dev}"
case "$profile" in
    dev) directory=debug ;;
    release) directory=release ;;
    *) echo "ZBOR_DEV_PROFILE is dev or release, not '$profile'" >&2; exit 1 ;;
esac
cargo build --locked --profile "$profile" --bin zbor
exec "target/$directory/zbor" dev "$@"

#!/usr/bin/env bash
# The README's run command: services up, build, then `zbor dev` (create database, migrate, serve).
# Arguments go to `zbor dev`: `deploy/dev.sh --demo` seeds a demo to click through.
#
# The binary is built as the test command (`deploy/test.sh`) builds it: the same profile and, with
# `cargo test --workspace`, the same features (the tests' dev-dependencies switch features on in
# sqlx, redis, axum, reqwest, ...), so after the test command nothing is compiled here; a plain
# `cargo build --bin zbor` would compile those crates and every zbor crate again. `--test cli`
# adds only the small test of the command line, whose build makes target/debug/zbor.
# A release build (the run command before) took about 16 minutes on a 2-core machine after the
# test build. ZBOR_DEV_PROFILE=release builds and runs the optimised binary instead (load tests).
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
if [ "${ZBOR_DEV_PROFILE:-dev}" = release ]; then
    cargo build --locked --release --bin zbor
    exec target/release/zbor dev "$@"
fi
cargo test --workspace --locked --no-run --test cli
exec target/debug/zbor dev "$@"

#!/usr/bin/env bash
# The README's test command: services up, lints, then every test of the workspace against the
# real PostgreSQL and Redis. Each test makes its own database (zbor_test_*) or Redis key prefix.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/services.sh
# pgBackRest (Debian's package), for the backup-and-restore test.
deploy/backup.sh install
deploy/browser.sh
deploy/xmllint.sh
# The deployment files (Dockerfile, compose, Caddy, Kubernetes) against their schemas, offline.
deploy/validate.sh
ZBOR_SCHEMATHESIS="$(deploy/schemathesis.sh)"
export ZBOR_SCHEMATHESIS
# Debian's Prometheus: the alert rules checked and unit-tested by promtool; the tests run it.
ZBOR_PROMETHEUS="$(deploy/prometheus.sh)"
export ZBOR_PROMETHEUS
. deploy/rust.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"

# Databases left behind by an earlier run that was interrupted.
psql -w -h 127.0.0.1 -U postgres -d postgres -Atqc \
    "select datname from pg_database where datname like 'zbor\_test\_%'" |
    while read -r db; do
        psql -w -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists \"$db\" with (force)" >/dev/null
    done

# What may enter the dependency tree (deny.toml): licenses, banned crates, crates.io only.
# No network needed past crates.io; advisories fetch the RustSec database: `cargo deny check advisories`.
CARGO_DENY_VERSION=0.20.2
if [ "$(cargo deny --version 2>/dev/null)" != "cargo-deny $CARGO_DENY_VERSION" ]; then
    cargo install --locked cargo-deny --version "$CARGO_DENY_VERSION"
fi
cargo deny --locked check --hide-inclusion-graph licenses bans sources

# The production build (--no-default-features, what deploy/Dockerfile builds) compiles and has no
# Stripe simulator in it.
cargo check --locked -p zbor-server --no-default-features --bin zbor
if cargo tree --locked -p zbor-server --no-default-features -e normal --prefix none | grep -q '^zbor-stripe-sim '; then
    echo "the production build must not contain the Stripe simulator" >&2
    exit 1
fi

cargo fmt --all -- --check
if cargo clippy --version >/dev/null 2>&1; then
    cargo clippy --workspace --all-targets --locked -- -D warnings
fi
# Bounded parallelism: each test opens its own pool, and PostgreSQL allows 100 connections.
# A hung test fails the run (exit 124) instead of eating CI's whole time budget.
RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}" timeout 45m cargo test --workspace --locked

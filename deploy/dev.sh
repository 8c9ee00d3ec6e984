#!/usr/bin/env bash
# The README's run command: services up, build, then `zbor dev` (create database, migrate, serve).
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/services.sh
. deploy/rust.sh
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zbor}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
cargo build --release --locked --bin zbor
exec target/release/zbor dev "$@"

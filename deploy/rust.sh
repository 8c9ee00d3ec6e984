#!/usr/bin/env bash
# Sourced by the README commands: puts cargo on PATH, or says how to get it.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if ! command -v cargo >/dev/null 2>&1; then
    echo "zbor needs Rust 1.89 or newer: install it with rustup (https://rustup.rs), then run this again." >&2
    exit 1
fi

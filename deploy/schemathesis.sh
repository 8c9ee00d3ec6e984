#!/usr/bin/env bash
# Schemathesis (PyPI), pinned, in a virtualenv of its own: the API fuzzer the tests run against a
# live `zbor serve` (crates/server/tests/schemathesis.rs). Prints the path of its `st` command.
set -euo pipefail
SCHEMATHESIS_VERSION=4.32.5
dir="${ZBOR_TOOLS_DIR:-$HOME/.cache/zbor}/schemathesis-$SCHEMATHESIS_VERSION"
if [ -x "$dir/bin/st" ]; then
    echo "$dir/bin/st"
    exit 0
fi
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    $sudo apt-get install -y -qq python3 python3-venv >&2
fi
rm -rf "$dir"
python3 -m venv "$dir" >&2
"$dir/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
echo "$dir/bin/st"

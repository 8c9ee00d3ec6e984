#!/usr/bin/env bash
# zbor's Prometheus alerts, checked with the real promtool: the rules (deploy/prometheus/alerts.yml),
# their unit tests (alerts_test.yml: every alert fires on a crafted series and stays silent on a
# healthy one) and the example scrape configuration (prometheus.yml, which names the rules).
# Installs Debian's `prometheus` package if promtool is missing (as root or with sudo) and stops
# the service that package starts: tests run their own Prometheus on a free port.
# Also checks that every alert has a test and a runbook section in docs/OPERATIONS.md.
# Prints the path of the `prometheus` binary as its last line on stdout; everything else goes to
# stderr. Idempotent; a second run only checks (about a second).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=deploy/prometheus
runbook=docs/OPERATIONS.md
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { echo "prometheus: $*" >&2; }

# Debian's package enables and starts a Prometheus on :9090 (systemd, or its init script where
# there is no systemd). Stop it and keep it from starting at boot; with systemd not running
# (a container), stop the daemon the install started: the `prometheus` system user's process.
stop_packaged_service() {
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    else
        $SUDO service prometheus stop >/dev/null 2>&1 || true
        if command -v update-rc.d >/dev/null; then
            $SUDO update-rc.d prometheus disable >/dev/null 2>&1 || true
        fi
    fi
    local pids
    pids=$(pgrep -u prometheus -x prometheus 2>/dev/null || true)
    if [ -n "$pids" ]; then
        log "stopping the packaged Prometheus (pid $pids)"
        # shellcheck disable=SC2086 # one id per word
        $SUDO kill $pids 2>/dev/null || true
    fi
}

if ! command -v promtool >/dev/null; then
    if ! command -v apt-get >/dev/null; then
        log "promtool is missing and there is no apt-get to install it (Debian and Ubuntu only)"
        exit 1
    fi
    log "installing Debian's prometheus package (promtool, prometheus)"
    # env inside sudo: sudo drops DEBIAN_FRONTEND. Waits for a dpkg lock another install holds.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
        --no-install-recommends prometheus >/dev/null
    stop_packaged_service
fi

prometheus_bin=$(command -v prometheus || true)
if [ -z "$prometheus_bin" ] && [ -x /usr/bin/prometheus ]; then prometheus_bin=/usr/bin/prometheus; fi
if [ -z "$prometheus_bin" ]; then
    log "promtool is here but the prometheus binary is not (install the prometheus package)"
    exit 1
fi

log "$(promtool --version 2>&1 | head -n 1)"
promtool check rules "$dir/alerts.yml" >&2
promtool test rules "$dir/alerts_test.yml" >&2
# Also checks the rule files the configuration names (relative to the configuration file).
promtool check config "$dir/prometheus.yml" >&2

# Every alert has a unit test and a runbook section that exists. Runbook links look like
# docs/OPERATIONS.md#webhook-errors; a heading's anchor is GitHub's: lower case, punctuation
# dropped, spaces as hyphens (headings inside code blocks do not count).
alerts=$(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "$dir/alerts.yml" | sort -u)
tested=$(sed -n 's/^ *alertname: *\([A-Za-z0-9_]*\).*/\1/p' "$dir/alerts_test.yml" | sort -u)
untested=$(comm -23 <(echo "$alerts") <(echo "$tested"))
if [ -n "$untested" ]; then
    log "alerts without a test in $dir/alerts_test.yml: $(echo "$untested" | tr '\n' ' ')"
    exit 1
fi
count=$(echo "$alerts" | grep -c .)
linked=$(grep -c '^ *runbook_url: ' "$dir/alerts.yml" || true)
if [ "$count" -ne "$linked" ]; then
    log "$count alerts but $linked runbook_url annotations in $dir/alerts.yml"
    exit 1
fi
anchors=$(awk '/^```/ { fence = !fence; next } !fence && /^#+ / { sub(/^#+ +/, ""); print }' "$runbook" |
    tr '[:upper:]' '[:lower:]' | sed -e 's/[^a-z0-9 _-]//g' -e 's/ /-/g' | sort -u)
links=$(grep -o "$runbook#[a-z0-9_-]*" "$dir/alerts.yml" | sed 's/.*#//' | sort -u)
missing=$(comm -23 <(echo "$links") <(echo "$anchors"))
if [ -n "$missing" ]; then
    log "runbook sections named in $dir/alerts.yml but not headings of $runbook: $(echo "$missing" | tr '\n' ' ')"
    exit 1
fi
log "ok: $count alerts, each tested and linked to a section of $runbook"

echo "$prometheus_bin"

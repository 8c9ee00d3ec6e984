#!/usr/bin/env bash
# A production-like topology on this machine's loopback: 3 `zbor serve` behind HAProxy (Debian's
# package, installed if missing), 2 `zbor worker`, the Stripe simulator delivering its webhooks
# through the load balancer, one PostgreSQL and one Redis (deploy/services.sh).
#
#   deploy/cluster.sh up DIR      start everything; DIR gets the logs, pids and cluster.env
#   deploy/cluster.sh down DIR    stop everything started in DIR (SIGTERM, then SIGKILL)
#   deploy/cluster.sh start DIR NAME   (re)start one process: serve-1..3, worker-1..2
#   deploy/cluster.sh stop DIR NAME [SIGNAL]   stop one (default TERM: a graceful drain)
#
# Settings (environment): ZBOR_BIN (the zbor binary, default target/release/zbor, built with the
# default features: the simulator is in it), DATABASE_URL, REDIS_URL, ZBOR_REDIS_PREFIX,
# ZBOR_CLUSTER_PORT (first of 10 consecutive ports, default 18080; keep them below the ephemeral
# range, /proc/sys/net/ipv4/ip_local_port_range, or a restarted node may find its port taken as
# the source port of an outgoing connection). cluster.env lists what a
# client needs: the load balancer's address, each node's, the simulator's, the admin token.
# Secrets for this cluster (ZBOR_ADMIN_TOKEN, ZBOR_DATA_KEY, STRIPE_WEBHOOK_SECRET) are taken
# from the environment or made at `up`, and kept in DIR (mode 0600): a development cluster.
set -euo pipefail

command=${1:-}
dir=${2:-}
if [ -z "$command" ] || [ -z "$dir" ]; then
    sed -n '2,18p' "$0" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
repo=$(pwd)

log() { echo "cluster: $*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

ensure_haproxy() {
    if command -v haproxy >/dev/null; then return; fi
    log "installing haproxy"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
    # Debian's package starts its own service with an empty configuration: not ours, stop it.
    $SUDO service haproxy stop >/dev/null 2>&1 || true
}

# Waits until `url` answers 200, or fails after 30 s.
wait_ready() {
    local url=$1 name=$2
    for _ in $(seq 1 150); do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then return 0; fi
        sleep 0.2
    done
    log "$name did not become ready ($url); its log: $dir/$name.log"
    tail -n 20 "$dir/$name.log" >&2 || true
    return 1
}

load_env() {
    # shellcheck disable=SC1091
    . "$dir/cluster.env"
    ZBOR_ADMIN_TOKEN=$(cat "$dir/admin-token")
    ZBOR_DATA_KEY=$(cat "$dir/data-key")
    STRIPE_WEBHOOK_SECRET=$(cat "$dir/webhook-secret")
    export ZBOR_ADMIN_TOKEN ZBOR_DATA_KEY STRIPE_WEBHOOK_SECRET
}

# The environment every zbor process of the cluster shares.
common_env() {
    export DATABASE_URL REDIS_URL ZBOR_REDIS_PREFIX
    export STRIPE_SECRET_KEY="$CLUSTER_STRIPE_KEY"
    export STRIPE_API_BASE="http://$CLUSTER_SIMULATOR/"
    export ZBOR_PUBLIC_URL="http://$CLUSTER_LB"
    # HAProxy on loopback is the one proxy whose X-Forwarded-For is believed
    export ZBOR_TRUSTED_PROXIES=127.0.0.1
    export ZBOR_DATABASE_CONNECTIONS_MAX=16
    export ZBOR_LOG_FORMAT=json
    export ZBOR_LOG="${ZBOR_LOG:-info,sqlx=warn}"
}

start_one() {
    local name=$1
    load_env
    common_env
    local port metrics
    case "$name" in
        serve-1) port=$CLUSTER_SERVE_1; metrics=$CLUSTER_METRICS_1 ;;
        serve-2) port=$CLUSTER_SERVE_2; metrics=$CLUSTER_METRICS_2 ;;
        serve-3) port=$CLUSTER_SERVE_3; metrics=$CLUSTER_METRICS_3 ;;
        worker-1) metrics=$CLUSTER_WORKER_METRICS_1 ;;
        worker-2) metrics=$CLUSTER_WORKER_METRICS_2 ;;
        *) log "no process named $name"; exit 2 ;;
    esac
    case "$name" in
        serve-*)
            ZBOR_LISTEN=$port ZBOR_METRICS_LISTEN=$metrics \
                setsid "$ZBOR_BIN" serve >>"$dir/$name.log" 2>&1 </dev/null &
            echo $! >"$dir/$name.pid"
            wait_ready "http://$port/health/ready" "$name"
            ;;
        worker-*)
            ZBOR_WORKERS=2 ZBOR_METRICS_LISTEN=$metrics \
                setsid "$ZBOR_BIN" worker >>"$dir/$name.log" 2>&1 </dev/null &
            echo $! >"$dir/$name.pid"
            wait_ready "http://$metrics/health/live" "$name"
            ;;
    esac
}

# Stops one process with SIGNAL and waits for it to exit; prints how long that took (ms).
stop_one() {
    local name=$1 signal=${2:-TERM}
    local pidfile="$dir/$name.pid"
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    local started
    started=$(date +%s%3N)
    kill "-$signal" "$pid" 2>/dev/null || true
    for _ in $(seq 1 700); do
        if ! kill -0 "$pid" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "$name did not stop within 70 s of SIG$signal; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo $(($(date +%s%3N) - started))
}

write_haproxy_config() {
    cat >"$dir/haproxy.cfg" <<EOF
# Written by deploy/cluster.sh: HAProxy in front of three zbor serve processes.
global
    log stderr format raw local0 warning
    # each connection is two descriptors (client and server side): keep under the open-files limit
    maxconn 4000
    pidfile $dir/haproxy.pid

defaults
    mode http
    log global
    option dontlognull
    timeout connect 2s
    timeout client 60s
    # a live stream sends a comment every 15 s: a minute of silence is a dead server
    timeout server 60s
    timeout http-request 10s
    # A connection refused (a node stopping, or killed) is retried on another node: the request
    # never reached zbor, so even a POST is safe to send again. Anything that did reach a node is
    # answered by it, or fails to the client (Stripe retries its webhooks).
    retries 3
    retry-on conn-failure empty-response
    option redispatch 1

frontend zbor
    bind $CLUSTER_LB
    option forwardfor
    default_backend serve

backend serve
    balance roundrobin
    # out of rotation within a second of failing readiness (PostgreSQL or Redis gone, or stopping)
    option httpchk GET /health/ready
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2
    server serve-1 $CLUSTER_SERVE_1 check
    server serve-2 $CLUSTER_SERVE_2 check
    server serve-3 $CLUSTER_SERVE_3 check
EOF
}

up() {
    mkdir -p "$dir"
    chmod 700 "$dir"
    ensure_haproxy
    deploy/services.sh
    ZBOR_BIN=${ZBOR_BIN:-$repo/target/release/zbor}
    if [ ! -x "$ZBOR_BIN" ]; then
        log "no zbor binary at $ZBOR_BIN: cargo build --release --bin zbor, or set ZBOR_BIN"
        exit 1
    fi
    local base=${ZBOR_CLUSTER_PORT:-18080}
    umask 077
    # given ones are used (a test shares them with its own process), otherwise made here
    echo "${ZBOR_ADMIN_TOKEN:-$(openssl rand -hex 32)}" >"$dir/admin-token"
    echo "${ZBOR_DATA_KEY:-$(openssl rand -hex 32)}" >"$dir/data-key"
    echo "${STRIPE_WEBHOOK_SECRET:-whsec_cluster_$(openssl rand -hex 16)}" >"$dir/webhook-secret"
    cat >"$dir/cluster.env" <<EOF
ZBOR_BIN=$ZBOR_BIN
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/zbor_cluster}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
ZBOR_REDIS_PREFIX=${ZBOR_REDIS_PREFIX:-zbor-cluster:}
CLUSTER_LB=127.0.0.1:$base
CLUSTER_SERVE_1=127.0.0.1:$((base + 1))
CLUSTER_SERVE_2=127.0.0.1:$((base + 2))
CLUSTER_SERVE_3=127.0.0.1:$((base + 3))
CLUSTER_METRICS_1=127.0.0.1:$((base + 4))
CLUSTER_METRICS_2=127.0.0.1:$((base + 5))
CLUSTER_METRICS_3=127.0.0.1:$((base + 6))
CLUSTER_WORKER_METRICS_1=127.0.0.1:$((base + 7))
CLUSTER_WORKER_METRICS_2=127.0.0.1:$((base + 8))
CLUSTER_SIMULATOR=127.0.0.1:$((base + 9))
CLUSTER_STRIPE_KEY=sk_test_cluster
EOF
    load_env
    common_env
    "$ZBOR_BIN" migrate >>"$dir/migrate.log" 2>&1
    setsid "$ZBOR_BIN" simulator --address "$CLUSTER_SIMULATOR" --webhook-url "http://$CLUSTER_LB/webhooks/stripe" \
        >>"$dir/simulator.log" 2>&1 </dev/null &
    echo $! >"$dir/simulator.pid"
    write_haproxy_config
    haproxy -c -q -f "$dir/haproxy.cfg"
    haproxy -D -f "$dir/haproxy.cfg" 2>>"$dir/haproxy.log"
    for name in serve-1 serve-2 serve-3 worker-1 worker-2; do
        start_one "$name"
    done
    wait_ready "http://$CLUSTER_LB/health/ready" "haproxy"
    log "up: load balancer http://$CLUSTER_LB, simulator http://$CLUSTER_SIMULATOR, files in $dir"
}

down() {
    [ -f "$dir/cluster.env" ] || return 0
    for name in serve-1 serve-2 serve-3 worker-1 worker-2 simulator; do
        stop_one "$name" TERM >/dev/null
    done
    if [ -f "$dir/haproxy.pid" ]; then
        kill "$(cat "$dir/haproxy.pid")" 2>/dev/null || true
        rm -f "$dir/haproxy.pid"
    fi
}

case "$command" in
    up) up ;;
    down) down ;;
    start) start_one "${3:?name}" ;;
    stop) stop_one "${3:?name}" "${4:-TERM}" ;;
    *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on loopback (127.0.0.1:5432, 127.0.0.1:6379).
# Uses them when they already run; otherwise installs them from the distribution's packages
# (Debian/Ubuntu, as root or with sudo) and starts them bound to loopback only.
# Idempotent: run it as often as you like. Both README commands start with it.
set -euo pipefail

PG_PORT=5432
REDIS_PORT=6379
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { echo "services: $*" >&2; }

as_postgres() { # run a command as the postgres system user
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

apt_updated=""
apt_install() {
    if ! command -v apt-get >/dev/null; then
        log "cannot install $* here: no apt-get (this script supports Debian and Ubuntu)"
        exit 1
    fi
    if [ -z "$apt_updated" ]; then
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    log "installing $*"
    # env inside sudo: sudo drops DEBIAN_FRONTEND, and tzdata would then wait for an answer.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, command...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@"; then return 0; fi
        sleep 0.5
    done
    log "$name did not come up within 30 s"
    return 1
}

postgres_accepts_us() {
    PGCONNECT_TIMEOUT=3 psql -w -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1
}

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null || ! command -v psql >/dev/null; then
        if port_open "$PG_PORT" && command -v psql >/dev/null; then :; else
            apt_install postgresql postgresql-client
        fi
    fi
    if ! port_open "$PG_PORT"; then
        local version
        version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
        if [ -z "$version" ]; then
            log "PostgreSQL is installed but has no cluster; creating one"
            version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
            $SUDO pg_createcluster "$version" main >/dev/null
        fi
        # Loopback only: the ledger is never exposed beyond this machine in development.
        $SUDO sed -i "s/^#\?listen_addresses *=.*/listen_addresses = 'localhost'/" \
            "/etc/postgresql/$version/main/postgresql.conf"
        log "starting PostgreSQL $version"
        $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null \
            || $SUDO pg_ctlcluster "$version" main start
        wait_for PostgreSQL port_open "$PG_PORT"
    fi
    if ! postgres_accepts_us; then
        # A fresh Debian cluster asks for a password over TCP. For a development machine, trust
        # loopback connections (as the project's CI machines do); never do this on a shared host.
        local hba
        hba=$(as_postgres psql -Atqc 'show hba_file' 2>/dev/null || true)
        if [ -z "$hba" ]; then
            hba=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | sort -V | tail -n 1 || true)
        fi
        if [ -z "$hba" ] || [ ! -f "$hba" ]; then
            log "PostgreSQL on 127.0.0.1:$PG_PORT refuses user postgres without a password and is not a"
            log "local Debian cluster this script can configure: set DATABASE_URL with credentials instead"
            exit 1
        fi
        log "allowing password-less loopback connections in $hba (development machine)"
        $SUDO sed -i '1i host all all 127.0.0.1/32 trust # zbor development\nhost all all ::1/128 trust # zbor development' "$hba"
        as_postgres psql -Atqc 'select pg_reload_conf()' >/dev/null 2>&1 \
            || $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main reload
        wait_for "PostgreSQL (trust)" postgres_accepts_us
    fi
    log "PostgreSQL ok on 127.0.0.1:$PG_PORT"
}

redis_answers() {
    if command -v redis-cli >/dev/null; then
        [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
    else
        port_open "$REDIS_PORT"
    fi
}

ensure_redis() {
    if redis_answers; then
        log "Redis ok on 127.0.0.1:$REDIS_PORT"
        return
    fi
    if ! command -v redis-server >/dev/null; then
        apt_install redis-server
    fi
    if ! redis_answers; then
        # Redis holds only work in flight and hot copies; PostgreSQL can rebuild all of it, so
        # nothing is written to disk.
        log "starting Redis"
        $SUDO mkdir -p /var/lib/redis /var/log/redis
        $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
            --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/zbor.log
        wait_for Redis redis_answers
    fi
    log "Redis ok on 127.0.0.1:$REDIS_PORT"
}

ensure_postgres
ensure_redis

#!/usr/bin/env bash
# Backups of zbor's PostgreSQL with pgBackRest: a full backup weekly, a differential daily, and
# every WAL segment archived as PostgreSQL writes it, so the database can be brought back to any
# moment since the oldest full backup kept (point-in-time recovery). docs/BACKUPS.md says when
# to run what and how to restore; this script is the only way the project touches pgBackRest.
#
#   deploy/backup.sh install                  pgBackRest from the distribution, if missing
#   deploy/backup.sh configure                write pgbackrest.conf; print what PostgreSQL needs
#   deploy/backup.sh stanza-create            initialise the (encrypted) repository
#   deploy/backup.sh check                    archiving works end to end (switches WAL, waits)
#   deploy/backup.sh backup [full|diff|incr]  take a backup (default diff; full if none yet)
#   deploy/backup.sh info [pgbackrest args]   backups and WAL range in the repository
#   deploy/backup.sh restore --target-dir DIR [--target-time 'YYYY-MM-DD HH:MM:SS+00']
#                             [--set LABEL] [--target-action promote|pause]
#                             [--archive-mode off|preserve] [--config-from DIR]
#
# Only PostgreSQL is backed up. Redis holds queues in flight and hot copies, never the only copy
# of anything: PostgreSQL is the system of record, and after Redis is lost the outbox relay and
# the payout sweeper publish again what PostgreSQL says is unfinished (docs/ARCHITECTURE.md).
#
# Runs as root (pgBackRest itself runs as the postgres user through runuser) or as a user with
# sudo. Settings come from the environment; the defaults fit Debian's main cluster.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

log() { echo "backup: $*" >&2; }
die() { log "$*"; exit 1; }

pg_version_default() {
    # Debian installs each major version under /usr/lib/postgresql/VERSION; the newest is the
    # one deploy/services.sh would have created a cluster for.
    # shellcheck disable=SC2012 # version numbers, no odd file names
    ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1
}

STANZA=${ZBOR_BACKUP_STANZA:-zbor}
CONFIG_PATH=${ZBOR_BACKUP_CONFIG_PATH:-/etc/pgbackrest}
# The repository belongs on another disk or machine than PGDATA: a backup next to the data dies
# with it. The default is a local path only so that a first `configure` works anywhere.
REPO=${ZBOR_BACKUP_REPO:-/var/lib/pgbackrest}
# The passphrase lives in a file of its own, outside any git repository, readable by root alone;
# `configure` copies it into pgBackRest's configuration, which only root and postgres can read.
PASSPHRASE_FILE=${ZBOR_BACKUP_PASSPHRASE_FILE:-/etc/zbor/credentials/backup-passphrase}
PG_VERSION=${ZBOR_BACKUP_PG_VERSION:-$(pg_version_default)}
PGDATA=${PGDATA:-/var/lib/postgresql/${PG_VERSION:-15}/main}
PGPORT=${PGPORT:-5432}
# pgBackRest reaches PostgreSQL over its Unix socket only; PGHOST counts when it is a directory.
case "${PGHOST:-}" in
    /*) PG_SOCKET=$PGHOST ;;
    *) PG_SOCKET=/var/run/postgresql ;;
esac
LOG_PATH=${ZBOR_BACKUP_LOG_PATH:-/var/log/pgbackrest}
LOCK_PATH=${ZBOR_BACKUP_LOCK_PATH:-/tmp/pgbackrest}
SPOOL_PATH=${ZBOR_BACKUP_SPOOL_PATH:-/var/spool/pgbackrest}
# Four weekly full backups: a month of points to return to. WAL is kept as long as the oldest
# full backup it belongs to, so the point-in-time window is the same month.
RETENTION_FULL=${ZBOR_BACKUP_RETENTION_FULL:-4}
# Differentials kept (each depends on its full): a week of daily ones.
RETENTION_DIFF=${ZBOR_BACKUP_RETENTION_DIFF:-7}
PROCESS_MAX=${ZBOR_BACKUP_PROCESS_MAX:-2}
# At most this many seconds of committed donations live only in an unarchived WAL segment: the
# most a restore after losing the machine can lose. Lower costs a 16 MB segment per switch.
ARCHIVE_TIMEOUT=${ZBOR_BACKUP_ARCHIVE_TIMEOUT:-60}

as_postgres() { # a command as the postgres system user, from a directory it may enter
    if [ "$(id -u)" -eq 0 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        (cd / && sudo -u postgres -- "$@")
    fi
}

pgbackrest_bin() {
    command -v pgbackrest || die "pgBackRest is not installed: run deploy/backup.sh install"
}

pgb() { # pgBackRest on this stanza, as postgres, with the configuration configure wrote
    local bin
    bin=$(pgbackrest_bin)
    [ -r "$CONFIG_PATH/pgbackrest.conf" ] || $SUDO test -f "$CONFIG_PATH/pgbackrest.conf" \
        || die "no $CONFIG_PATH/pgbackrest.conf: run deploy/backup.sh configure first"
    as_postgres "$bin" --config-path="$CONFIG_PATH" --stanza="$STANZA" "$@"
}

apt_install() { # as deploy/services.sh does it
    command -v apt-get >/dev/null || die "cannot install $* here: no apt-get (Debian and Ubuntu only)"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    log "installing $*"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

cmd_install() {
    if ! command -v pgbackrest >/dev/null; then
        apt_install pgbackrest
    fi
    log "$(pgbackrest version)"
}

read_passphrase() {
    [ -n "$PASSPHRASE_FILE" ] || die "ZBOR_BACKUP_PASSPHRASE_FILE is empty"
    $SUDO test -f "$PASSPHRASE_FILE" || die "no passphrase file $PASSPHRASE_FILE. Make one, readable by root \
alone, and keep a copy away from this machine (without it no backup can be read):
    install -d -m 700 $(dirname "$PASSPHRASE_FILE")
    (umask 077; openssl rand -base64 48 | tr -d '\\n' > $PASSPHRASE_FILE)"
    local mode dir
    mode=$($SUDO stat -c %a "$PASSPHRASE_FILE")
    case "$mode" in
        *00) ;;
        *) die "$PASSPHRASE_FILE is readable by others (mode $mode): chmod 600 it, and consider it seen" ;;
    esac
    # One `git add -A` away from a public repository is no place for it.
    dir=$(dirname "$PASSPHRASE_FILE")
    if command -v git >/dev/null && $SUDO git -C "$dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        die "$PASSPHRASE_FILE is inside a git work tree: keep it outside any repository"
    fi
    local pass
    pass=$($SUDO cat "$PASSPHRASE_FILE")
    pass=${pass%$'\n'}
    case "$pass" in
        *$'\n'*) die "$PASSPHRASE_FILE holds more than one line" ;;
    esac
    # A guessable passphrase would make the encryption decorative against an adversary who can
    # seize the repository and try passphrases offline for as long as they like.
    [ "${#pass}" -ge 32 ] || die "the passphrase in $PASSPHRASE_FILE is shorter than 32 characters"
    printf '%s' "$pass"
}

write_for_postgres() { # stdin into FILE: root writes, postgres reads, nobody else either
    # The database's own user must not be able to change what is backed up where. Written
    # beside and renamed, so a reader never sees half a file; umask first, so no moment exists
    # in which the passphrase is readable by others.
    # shellcheck disable=SC2016 # $1 is expanded by the inner shell, on purpose
    $SUDO sh -c 'umask 027; cat > "$1.tmp" && chown root:postgres "$1.tmp" && mv "$1.tmp" "$1"' sh "$1"
}

cmd_configure() {
    local pass bin
    bin=$(pgbackrest_bin)
    pass=$(read_passphrase)
    id -u postgres >/dev/null 2>&1 || die "no postgres user: install PostgreSQL first (deploy/services.sh)"

    $SUDO install -d -m 755 "$CONFIG_PATH"
    $SUDO install -d -m 750 -o root -g postgres "$CONFIG_PATH/conf.d"
    # postgres writes the repository, logs and spool; nobody else needs to read them.
    $SUDO install -d -m 750 -o postgres -g postgres "$REPO" "$LOG_PATH" "$SPOOL_PATH"

    local conf
    conf=$(cat <<EOF
# Written by zbor's deploy/backup.sh configure; run it again rather than editing this file.
[global]
repo1-path=$REPO
# Backups and archived WAL hold every donor's sealed details and every beneficiary's sealed
# payment details, plus in clear who paid how much to which campaign and when. Whoever copies the
# repository (a seized disk, a compromised storage provider) must get nothing readable.
repo1-cipher-type=aes-256-cbc
repo1-retention-full-type=count
repo1-retention-full=$RETENTION_FULL
repo1-retention-diff=$RETENTION_DIFF
# A backup starts with an immediate checkpoint instead of waiting up to checkpoint_timeout.
start-fast=y
process-max=$PROCESS_MAX
compress-type=zst
log-path=$LOG_PATH
lock-path=$LOCK_PATH
spool-path=$SPOOL_PATH
log-level-file=detail

[$STANZA]
pg1-path=$PGDATA
pg1-port=$PGPORT
pg1-socket-path=$PG_SOCKET
EOF
)
    printf '%s\n' "$conf" | write_for_postgres "$CONFIG_PATH/pgbackrest.conf"
    # The passphrase in a file of its own (pgBackRest reads conf.d/*.conf under the config path),
    # so pgbackrest.conf can be shown or compared without showing it. printf is a shell builtin:
    # the passphrase never appears on a command line.
    printf '[global]\nrepo1-cipher-pass=%s\n' "$pass" | write_for_postgres "$CONFIG_PATH/conf.d/$STANZA-cipher.conf"
    log "wrote $CONFIG_PATH/pgbackrest.conf and $CONFIG_PATH/conf.d/$STANZA-cipher.conf (stanza $STANZA, repository $REPO)"
    log "PostgreSQL needs these settings (stdout; archive_mode takes a restart), then: deploy/backup.sh stanza-create"
    cat <<EOF
wal_level = replica
archive_mode = on
archive_command = '$bin --config-path=$CONFIG_PATH --stanza=$STANZA archive-push %p'
archive_timeout = $ARCHIVE_TIMEOUT
EOF
}

cmd_backup() {
    local type=${1:-diff}
    case "$type" in
        full | diff | incr) ;;
        *) die "backup type must be full, diff or incr, not '$type'" ;;
    esac
    pgb --log-level-console=info --type="$type" backup
}

# PostgreSQL reads a time without an offset in the server's time zone, which is whatever the
# restoring machine says: an explicit offset makes the target mean the same moment everywhere.
TARGET_TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?[+-][0-9]{2}(:?[0-9]{2})?$'

adopt_config() { # source dir, target dir: Debian keeps postgresql.conf outside PGDATA
    local from=$1 dir=$2 f
    for f in postgresql.conf pg_hba.conf pg_ident.conf; do
        [ -f "$from/$f" ] || die "--config-from: no $from/$f"
        $SUDO install -m 600 -o postgres -g postgres "$from/$f" "$dir/$f"
    done
    # These name the original cluster's files and directories; the copy must not use them.
    $SUDO sed -i -E \
        's/^[[:space:]]*(data_directory|hba_file|ident_file|external_pid_file|include_dir|cluster_name)[[:space:]]*=/# (restored copy) &/' \
        "$dir/postgresql.conf"
    log "copied postgresql.conf, pg_hba.conf and pg_ident.conf from $from (data_directory, include_dir and the like commented out)"
}

cmd_restore() {
    local target_dir="" target_time="" set="" action=promote archive_mode=off config_from=""
    while [ $# -gt 0 ]; do
        case "$1" in
            --target-dir) target_dir=${2:?--target-dir needs a directory}; shift 2 ;;
            --target-time) target_time=${2:?--target-time needs a time}; shift 2 ;;
            --set) set=${2:?--set needs a backup label}; shift 2 ;;
            --target-action) action=${2:?}; shift 2 ;;
            --archive-mode) archive_mode=${2:?}; shift 2 ;;
            --config-from) config_from=${2:?}; shift 2 ;;
            *) die "restore: unknown argument '$1'" ;;
        esac
    done
    [ -n "$target_dir" ] || die "restore needs --target-dir DIR: a new, empty data directory"
    case "$action" in promote | pause) ;; *) die "--target-action is promote or pause" ;; esac
    case "$archive_mode" in off | preserve) ;; *) die "--archive-mode is off or preserve" ;; esac
    if [ -n "$target_time" ] && ! [[ "$target_time" =~ $TARGET_TIME_RE ]]; then
        die "--target-time must look like '2026-11-22 14:05:00+00' (with the UTC offset), not '$target_time'"
    fi

    # Never over a running cluster, or over the one being backed up: a restore goes into a new
    # directory, and the old data stays untouched until someone has checked the new one.
    case "$target_dir" in /*) ;; *) die "--target-dir must be an absolute path" ;; esac
    local real_target real_pgdata
    real_target=$(realpath -m "$target_dir")
    real_pgdata=$(realpath -m "$PGDATA")
    [ "$real_target" != "$real_pgdata" ] || die "refusing to restore over PGDATA ($PGDATA): pick a new directory"
    if $SUDO test -e "$real_target"; then
        $SUDO test -d "$real_target" || die "$target_dir exists and is not a directory"
        [ -z "$($SUDO ls -A "$real_target")" ] || die "$target_dir is not empty: restore only into a new, empty directory"
    fi
    $SUDO install -d -m 700 -o postgres -g postgres "$real_target"

    local args=(--log-level-console=info --pg1-path="$real_target" --archive-mode="$archive_mode")
    if [ -n "$set" ]; then args+=(--set="$set"); fi
    if [ -n "$target_time" ]; then
        args+=(--type=time --target="$target_time" --target-action="$action")
    fi
    # archive-mode=off: a copy under test must not push its new timeline's WAL into the
    # repository the production cluster archives to. Pass preserve for the copy that is to
    # become production, then take a full backup of it.
    pgb "${args[@]}" restore

    if ! $SUDO test -f "$real_target/postgresql.conf"; then
        if [ -n "$config_from" ]; then
            adopt_config "$config_from" "$real_target"
        else
            log "$target_dir has no postgresql.conf (Debian keeps it in /etc/postgresql/VERSION/NAME):"
            log "run the restore again with --config-from /etc/postgresql/$PG_VERSION/main, or copy one in"
        fi
    fi
    log "restored into $target_dir. Start it on a free port, wait for recovery to finish, then verify:"
    log "  runuser -u postgres -- /usr/lib/postgresql/$PG_VERSION/bin/pg_ctl -D $real_target -o '-p 5433' -l $real_target/restore.log -w start"
    log "  DATABASE_URL=postgres://...@127.0.0.1:5433/zbor zbor ledger verify && zbor audit verify"
}

main() {
    local command=${1:-}
    [ $# -gt 0 ] && shift
    case "$command" in
        install) cmd_install ;;
        configure) cmd_configure ;;
        stanza-create) pgb --log-level-console=info stanza-create ;;
        check) pgb --log-level-console=info check ;;
        backup) cmd_backup "$@" ;;
        info) pgb info "$@" ;;
        restore) cmd_restore "$@" ;;
        *)
            sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
            [ -z "$command" ] || [ "$command" = help ] || [ "$command" = --help ] || exit 2
            ;;
    esac
}

main "$@"

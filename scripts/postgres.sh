#!/usr/bin/env bash
# A throwaway PostgreSQL server for Reservo's tests, on 127.0.0.1 only.
#
#   scripts/postgres.sh run -- <command> [args...]
#       Starts a fresh cluster, runs the command with RESERVO_PG_URL set,
#       stops the server and deletes the cluster, exiting with the command's
#       exit code.
#   eval "$(scripts/postgres.sh start)"
#       Starts a fresh cluster and prints `export RESERVO_PG_URL=...`,
#       `export RESERVO_PG_TLS=...` and `export RESERVO_PG_DIR=...` lines to
#       evaluate.
#   scripts/postgres.sh stop [DIR]
#       Stops the cluster in DIR (default: $RESERVO_PG_DIR) and deletes it.
#
# The server offers TLS with a certificate for `localhost` (not for
# 127.0.0.1) signed by a throwaway CA: RESERVO_PG_TLS names the directory
# holding that CA's `ca.crt`, and `other-ca.crt`, a CA that signed nothing.
# The role `reservo_cert` logs in only over TLS with a client certificate
# (`cert` in pg_hba.conf): `client.crt` and `client.key` in that directory,
# signed by the same CA; it may create tables in the test database.
#
# The server runs with `fsync=off` (tests do not need to survive a power
# cut, and flushing would slow them down); RESERVO_PG_FSYNC=on starts it
# flushing like a production server instead (for the durable benches).
#
# Installs Debian's `postgresql` package first if initdb/pg_ctl are missing.
# PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user (created by the package); otherwise as the caller.
# Progress goes to stderr; stdout carries only the export lines.
set -euo pipefail
shopt -s inherit_errexit

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 2; }

# Finds the directory holding initdb and pg_ctl, installing them if needed.
find_bindir() {
    local dir candidates=()
    if command -v pg_ctl >/dev/null; then
        candidates+=("$(dirname "$(command -v pg_ctl)")")
    fi
    mapfile -t -O "${#candidates[@]}" candidates < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -Vr)
    for dir in "${candidates[@]}"; do
        if [[ -x $dir/initdb && -x $dir/pg_ctl && -x $dir/psql ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

ensure_installed() {
    if ! find_bindir >/dev/null; then
        [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed; run as root to install it with apt-get"
        log "installing PostgreSQL from Debian's packages"
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    fi
    find_bindir || die "initdb/pg_ctl still missing after installing postgresql"
}

# Runs a command as the server's user.
as_server_user() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Asks the kernel for a free TCP port on the loopback interface.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Writes a throwaway CA and a server certificate for `localhost` signed by
# it into DIR, and a second CA that signed nothing.
make_certificates() {
    local dir=$1 name
    mkdir -p "$dir"
    for name in ca other-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/$name.key" -out "$dir/$name.crt" -days 7 -subj "/CN=reservo test $name" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
            2>/dev/null
    done
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/server.key" -out "$dir/server.csr" -subj /CN=localhost 2>/dev/null
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/server.crt" -days 7 -extfile <(printf '%s\n' \
            'subjectAltName=DNS:localhost' 'basicConstraints=critical,CA:FALSE' \
            'keyUsage=critical,digitalSignature' 'extendedKeyUsage=serverAuth') 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$dir/client.key" -out "$dir/client.csr" -subj /CN=reservo_cert 2>/dev/null
    openssl x509 -req -in "$dir/client.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
        -CAcreateserial -out "$dir/client.crt" -days 7 -extfile <(printf '%s\n' \
            'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature' \
            'extendedKeyUsage=clientAuth') 2>/dev/null
    chmod 600 "$dir"/*.key
}

start() {
    local bindir dir port user fsync=${RESERVO_PG_FSYNC:-off}
    [[ $fsync == on || $fsync == off ]] || die "RESERVO_PG_FSYNC must be on or off, not '$fsync'"
    bindir=$(ensure_installed)
    # Under /tmp, not $TMPDIR: as root the server's user must reach it.
    dir=$(mktemp -d /tmp/reservo-pg.XXXXXX)
    user=$(id -un)
    if [[ $(id -u) -eq 0 ]]; then
        chown postgres: "$dir"
        user=postgres
    fi
    # Whatever fails from here on must not leave a server or files behind.
    trap 'stop "$dir" 2>/dev/null' ERR
    command -v openssl >/dev/null || die "openssl is missing (Debian's postgresql package pulls it in)"
    make_certificates "$dir/tls"
    if [[ $(id -u) -eq 0 ]]; then
        chown -R postgres: "$dir/tls"
    fi
    as_server_user "$bindir/initdb" -D "$dir/data" -U "$user" -A trust -E UTF8 \
        --no-locale --no-sync >/dev/null
    # The first matching line wins: reservo_cert needs TLS and a certificate.
    local hba="$dir/data/pg_hba.conf"
    { printf 'hostssl all reservo_cert 127.0.0.1/32 cert\nhost all reservo_cert all reject\n'
      cat "$hba"; } > "$hba.new"
    as_server_user cp "$hba.new" "$hba"
    rm -f "$hba.new"
    # A free port can be taken between asking and binding: try a few.
    local attempt
    for attempt in 1 2 3; do
        port=$(free_port)
        if as_server_user "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=$fsync -c max_connections=200 \
                -c ssl=on -c ssl_cert_file=$dir/tls/server.crt -c ssl_key_file=$dir/tls/server.key \
                -c ssl_ca_file=$dir/tls/ca.crt" \
            start >/dev/null; then
            break
        fi
        [[ $attempt -lt 3 ]] || { cat "$dir/server.log" >&2; rm -rf "$dir"; die "server did not start"; }
    done
    as_server_user "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U "$user" -d postgres \
        -c "CREATE DATABASE reservo_test" -c "CREATE ROLE reservo_cert LOGIN" >/dev/null
    as_server_user "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U "$user" -d reservo_test \
        -c "GRANT CREATE, USAGE ON SCHEMA public TO reservo_cert" >/dev/null
    trap - ERR
    printf 'export RESERVO_PG_URL=%q\n' "postgres://$user@127.0.0.1:$port/reservo_test"
    printf 'export RESERVO_PG_TLS=%q\n' "$dir/tls"
    printf 'export RESERVO_PG_DIR=%q\n' "$dir"
}

stop() {
    local dir=${1:-${RESERVO_PG_DIR:-}} bindir
    [[ -n $dir && -d $dir ]] || die "no cluster to stop (give DIR or set RESERVO_PG_DIR)"
    if [[ -f $dir/data/postmaster.pid ]] && bindir=$(find_bindir); then
        as_server_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
}

run() {
    [[ ${1:-} == -- ]] && shift
    [[ $# -gt 0 ]] || die "usage: postgres.sh run -- <command> [args...]"
    local exports status=0
    exports=$(start)
    eval "$exports"
    trap 'stop "$RESERVO_PG_DIR"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    log "server up at $RESERVO_PG_URL"
    "$@" || status=$?
    return "$status"
}

case ${1:-} in
    start) start ;;
    stop) shift; stop "$@" ;;
    run) shift; run "$@" ;;
    *) die "usage: postgres.sh start | stop [DIR] | run -- <command> [args...]" ;;
esac

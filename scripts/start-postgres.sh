#!/usr/bin/env bash
# Start a local PostgreSQL for calculatice's tests and development, and print its URL.
#
# Uses Debian's server (installed with apt-get when missing), in a cluster of
# its own under $CALCULATICE_PG_DIR (default /tmp/calculatice-pg), listening on
# 127.0.0.1:$CALCULATICE_PG_PORT (default 54329) only, with role and database
# "calculatice" (password "calculatice"). Safe to run again: a running server
# is left alone. Must run as root; the server runs as the "postgres" user.
# Everything but the URL goes to stderr; the URL is the last line on stdout:
#
#   export CALCULATICE_TEST_PG_URL="$(scripts/start-postgres.sh | tail -n 1)"
#
# Stop it with: runuser -u postgres -- /usr/lib/postgresql/*/bin/pg_ctl stop -D /tmp/calculatice-pg
set -euo pipefail

data_dir="${CALCULATICE_PG_DIR:-/tmp/calculatice-pg}"
port="${CALCULATICE_PG_PORT:-54329}"
role="calculatice"
url="postgresql+psycopg://${role}:${role}@127.0.0.1:${port}/${role}"

say() { echo "start-postgres: $*" >&2; }

# Debian's binaries, newest version first; /usr/local/bin/pg_ctl may be another program.
find_bin_dir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" && -x "$dir/postgres" ]]; then
            echo "$dir"
            return 0
        fi
    done
    return 1
}

as_postgres() { runuser -u postgres -- "$@"; }

if [[ $(id -u) -ne 0 ]]; then
    say "must run as root (it installs packages and runs the server as 'postgres')"
    exit 1
fi
# runuser keeps the working directory, which 'postgres' may not be allowed to enter.
cd /

if ! bin_dir="$(find_bin_dir)"; then
    say "installing Debian's postgresql server"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y postgresql >&2
    bin_dir="$(find_bin_dir)"
fi
version="$(basename "$(dirname "$bin_dir")")"

if [[ ! -s "$data_dir/PG_VERSION" ]]; then
    say "creating a PostgreSQL $version cluster in $data_dir"
    mkdir -p "$data_dir"
    chown postgres:postgres "$data_dir"
    chmod 700 "$data_dir"
    as_postgres "$bin_dir/initdb" -D "$data_dir" --username=postgres --encoding=UTF8 \
        --locale=C --auth-local=trust --auth-host=scram-sha-256 >&2
elif [[ "$(cat "$data_dir/PG_VERSION")" != "$version" ]]; then
    say "$data_dir holds a PostgreSQL $(cat "$data_dir/PG_VERSION") cluster," \
        "but the server here is $version: remove it or set CALCULATICE_PG_DIR"
    exit 1
fi

if as_postgres "$bin_dir/pg_ctl" status -D "$data_dir" >/dev/null 2>&1; then
    say "already running in $data_dir"
else
    say "starting on 127.0.0.1:$port"
    # The socket goes into the data directory: /var/run/postgresql may not exist.
    as_postgres "$bin_dir/pg_ctl" start -D "$data_dir" -l "$data_dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $data_dir" >&2 || {
        say "the server did not start; its log follows"
        tail -n 20 "$data_dir/server.log" >&2
        exit 1
    }
fi

for _ in $(seq 1 60); do
    if as_postgres "$bin_dir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
        break
    fi
    sleep 0.5
done
if ! as_postgres "$bin_dir/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    say "the server does not accept connections on 127.0.0.1:$port"
    exit 1
fi

psql_admin() {
    as_postgres "$bin_dir/psql" -h "$data_dir" -p "$port" -U postgres -d postgres \
        -v ON_ERROR_STOP=1 -tAq "$@"
}
if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" ]]; then
    say "creating role $role"
    psql_admin -c "CREATE ROLE $role LOGIN PASSWORD '$role'"
fi
if [[ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$role'")" ]]; then
    say "creating database $role"
    psql_admin -c "CREATE DATABASE $role OWNER $role ENCODING 'UTF8'"
fi

echo "$url"

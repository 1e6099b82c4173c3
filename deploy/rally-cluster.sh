#!/usr/bin/env bash
# Serve the rally page from several `calculatice serve` processes behind nginx, one shared
# database. Everything (logs, pid files, nginx's configuration) goes under one folder.
#
#   deploy/rally-cluster.sh start DB_URL [PROCESSES] [LISTEN_PORT] [FOLDER]
#   deploy/rally-cluster.sh stop [FOLDER]
#
# DB_URL        sqlite:////absolute/path/rally.sqlite (processes on this machine only), or
#               postgresql+psycopg://user:password@host:port/database; migrated at start
# PROCESSES     how many server processes (default: the number of CPUs)
# LISTEN_PORT   nginx's port on 127.0.0.1 (default 8080); processes take the next ones
# FOLDER        default /tmp/calculatice-cluster
#
# Environment: CALCULATICE_PYTHON (default .venv/bin/python), CALCULATICE_RALLY_SECRET
# (the pairs' token key, shared by every process; drawn and kept in FOLDER if unset),
# CALCULATICE_LISTEN (default 127.0.0.1; set 0.0.0.0 behind a firewall on a real server).
# Needs Debian's nginx (apt-get install nginx-light) and curl. See deploy/README.md.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
project="$(dirname "$here")"
python="${CALCULATICE_PYTHON:-$project/.venv/bin/python}"
say() { echo "rally-cluster: $*" >&2; }

start() {
    local db_url="$1" processes="${2:-$(nproc)}" listen_port="${3:-8080}"
    local folder="${4:-/tmp/calculatice-cluster}" listen="${CALCULATICE_LISTEN:-127.0.0.1}"
    mkdir -p "$folder"
    if [[ -z "${CALCULATICE_RALLY_SECRET:-}" ]]; then
        [[ -s "$folder/secret" ]] || (umask 077; "$python" -c \
            "import secrets; print(secrets.token_hex(32))" > "$folder/secret")
        CALCULATICE_RALLY_SECRET="$(cat "$folder/secret")"
    fi
    export CALCULATICE_RALLY_SECRET CALCULATICE_DB_URL="$db_url"

    # Migrate once, before the processes start (each would wait for the others' lock).
    "$python" -c "from calculatice.store import open_store; open_store().close()"

    local upstreams="" index port
    for ((index = 0; index < processes; index++)); do
        port=$((listen_port + 1 + index))
        mkdir -p "$folder/server-$index"
        nohup "$python" -m calculatice serve --no-demo --pool-size 0 --host 127.0.0.1 \
            --port "$port" --state-dir "$folder/server-$index/state" \
            --dashboards "$project/dashboards" --bank "$project/exercices" \
            > "$folder/server-$index/log" 2>&1 &
        echo $! > "$folder/server-$index/pid"
        upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;"$'\n'
    done

    mkdir -p "$folder/nginx"
    local template="$here/nginx-rally.conf.template"
    "$python" - "$template" "$folder/nginx/nginx.conf" "$listen:$listen_port" \
        "$folder/nginx" "$upstreams" <<'PY'
import sys
template, target, listen, prefix, upstreams = sys.argv[1:]
text = open(template).read()
text = text.replace("@LISTEN@", listen).replace("@PREFIX@", prefix)
open(target, "w").write(text.replace("@UPSTREAMS@\n", upstreams))
PY
    nginx -t -q -p "$folder/nginx" -c "$folder/nginx/nginx.conf"
    nginx -p "$folder/nginx" -c "$folder/nginx/nginx.conf"

    for ((index = 0; index < processes; index++)); do
        port=$((listen_port + 1 + index))
        for _ in $(seq 1 180); do
            if curl -sf "http://127.0.0.1:$port/calculatice/health" > /dev/null; then
                break
            fi
            sleep 0.5
        done
    done
    say "$processes process(es) behind http://$listen:$listen_port/rallye"
}

stop() {
    local folder="${1:-/tmp/calculatice-cluster}" pid_file
    if [[ -s "$folder/nginx/nginx.pid" ]]; then
        nginx -p "$folder/nginx" -c "$folder/nginx/nginx.conf" -s quit || true
    fi
    local pids=() pid
    for pid_file in "$folder"/server-*/pid; do
        [[ -s "$pid_file" ]] || continue
        pids+=("$(cat "$pid_file")")
        kill -TERM "${pids[-1]}" 2>/dev/null || true
        rm -f "$pid_file"
    done
    # Voilà takes a few seconds to shut down; a process still there after 30 s is killed.
    for pid in "${pids[@]}"; do
        for _ in $(seq 1 60); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$pid" 2>/dev/null || true
    done
    say "stopped"
}

case "${1:-}" in
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    *) echo "usage: $0 start DB_URL [PROCESSES] [LISTEN_PORT] [FOLDER] | stop [FOLDER]" >&2; exit 2 ;;
esac

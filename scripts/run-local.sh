#!/usr/bin/env bash
# `make run`: the whole service on one machine (the embedded defaults): Redis (started here when
# none answers), the inference worker, a Celery worker + beat, and the portal under gunicorn,
# on SQLite in var/. On first run creates a demo tenant, its key and its owner `demo` (who is
# also the local operator) and prints the key, the password and a curl line, once.
# Ctrl-C stops everything this script started, in a few seconds, and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
PORTAL_PORT="${PORTAL_PORT:-8000}"
WORKER_PORT="${WORKER_PORT:-8080}"
export IPCAI_MODEL_DIR="${IPCAI_MODEL_DIR:-$(cd .. && pwd)/shared/models}"
export IPCAI_MODEL="${IPCAI_MODEL:-deimv2_femto}"  # the worker's measured default (docs/BENCHMARKS.md)
export IPCAI_WORKER_URL="${IPCAI_WORKER_URL:-http://127.0.0.1:${WORKER_PORT}}"
export DJANGO_SETTINGS_MODULE=portal.settings
# The embedded defaults of one machine (webhooks to 127.0.0.1, ...), where not set already.
while IFS='=' read -r name value; do
    case "$name" in '' | \#*) continue ;; esac
    [ -n "${!name+set}" ] || export "$name=$value"
done <scripts/local-defaults.env
mkdir -p var/log
# This checkout's own secret, made once: the portal refuses the placeholder in the source, and
# sessions and API-key hashes depend on it staying the same between runs.
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    [ -s var/secret_key ] || (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(48))" >var/secret_key)
    DJANGO_SECRET_KEY="$(cat var/secret_key)"
    export DJANGO_SECRET_KEY
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$PORTAL_PORT" "$WORKER_PORT"; do
    if port_busy "$port"; then
        echo "port $port is already in use; set PORTAL_PORT / WORKER_PORT to free ports" >&2
        exit 1
    fi
done

scripts/ensure-services.sh  # a local Redis when none answers
# A clone without the shared models downloads the model once; a verified copy is left alone.
"$PY" -m gpu_worker fetch "$IPCAI_MODEL" --dir "$IPCAI_MODEL_DIR"
# The face finder behind redaction (docs/PRIVACY.md), fetched and checksum-verified the same way.
"$PY" -m gpu_worker fetch yunet_n --dir "$IPCAI_MODEL_DIR"

pids=()
# Every service runs in its own session (setsid): Ctrl-C reaches this script (and the
# supervisors below), never a service directly, so each gets one SIGTERM, in order, and stops
# the way it is meant to (gunicorn and Celery finish what they are doing). A service still
# running STOP_DEADLINE_S later is killed, and this says so.
STOP_DEADLINE_S="${STOP_DEADLINE_S:-15}"
stop_all() {
    trap - INT TERM EXIT
    trap '' PIPE  # `make run | tee run.log`: a closed pipe must not cut the cleanup short
    echo "stopping..." >&2
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    local deadline=$((SECONDS + STOP_DEADLINE_S)) pid running
    while :; do
        running=()
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && running+=("$pid"); done
        [ ${#running[@]} -eq 0 ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "still running after ${STOP_DEADLINE_S}s, killed: pids ${running[*]}" >&2
            kill -KILL "${running[@]}" 2>/dev/null || true
            break
        fi
        sleep 0.1
    done
    echo "stopped." >&2
}
# Ctrl-C / SIGTERM is how this is meant to end: a clean stop, exit 0 (make says nothing).
trap 'stop_all; exit 0' INT TERM
trap stop_all EXIT

wait_for() {  # wait_for NAME URL: poll until it answers 200, or give up after 120 s
    for _ in $(seq 600); do
        if "$PY" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$2" 2>/dev/null; then
            return 0
        fi
        sleep 0.2
    done
    echo "$1 did not come up; see var/log/" >&2
    exit 1
}

"$PY" manage.py migrate --verbosity 0
"$PY" manage.py collectstatic --noinput --verbosity 0

# First run only: "api_key KEY", "username demo", "password PASSWORD" (see setup_demo).
demo="$("$PY" manage.py setup_demo)"
demo_key="$(awk '$1 == "api_key" {print $2}' <<<"$demo")"
demo_password="$(awk '$1 == "password" {print $2}' <<<"$demo")"

supervise() {  # supervise NAME LOG CMD...: run CMD, and whenever it dies say so and restart it
    local name=$1 log=$2 child=""
    shift 2
    # Stopped (Ctrl-C or the script's SIGTERM): one SIGTERM to the service, then wait for it.
    trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null && wait "$child"; exit 0' INT TERM
    while true; do
        setsid "$@" >>"$log" 2>&1 &
        child=$!
        rc=0
        wait "$child" || rc=$?
        echo "!!! $name died (exit status $rc): restarting it; see $log" >&2
        sleep 2
    done
}

PORT="$WORKER_PORT" HOST=127.0.0.1 setsid "$PY" -m gpu_worker >var/log/worker.log 2>&1 &
pids+=($!)
# Celery worker and beat are separate and supervised: a dead beat used to stop usage draining,
# spool replay, the archive sweep and retention in silence. Both come back at once;
# /healthz/celery shows the heartbeats. --without-gossip/--without-mingle: closing gossip's
# pub/sub channel once Redis is gone made the worker exit on a Redis restart (kombu#582); a
# lone worker pool needs neither (docs/ARCHIVING.md).
# nice 19: archiving and usage draining yield the CPU to requests (archive bench: -30% -> -10%).
queue="${IPCAI_CELERY_QUEUE:-celery}"
supervise celery var/log/celery.log nice -n 19 "$PY" -m celery -A portal worker -Q "$queue" \
    --loglevel INFO --concurrency 2 --without-gossip --without-mingle &
pids+=($!)
# Webhook attempts on their own queue and worker (portal/settings.py IPCAI_WEBHOOK_QUEUE): a
# tenant's slow receiver holds these two processes (each attempt at most
# IPCAI_WEBHOOK_DEADLINE_S), never the archive, the usage drain or exports.
supervise webhooks var/log/webhooks.log nice -n 19 "$PY" -m celery -A portal worker \
    -Q "${IPCAI_WEBHOOK_QUEUE:-$queue-webhooks}" --hostname "webhooks@%h" \
    --loglevel INFO --concurrency 2 --without-gossip --without-mingle &
pids+=($!)
supervise beat var/log/beat.log "$PY" -m celery -A portal beat --loglevel INFO \
    --schedule var/celerybeat-schedule &
pids+=($!)
# A stop gives gunicorn's workers 5 s to finish their requests (production: 30 s).
PORT="$PORTAL_PORT" HOST=127.0.0.1 GUNICORN_GRACEFUL_TIMEOUT="${GUNICORN_GRACEFUL_TIMEOUT:-5}" \
    setsid "$PY" -m gunicorn -c portal/gunicorn.conf.py portal.wsgi >var/log/portal.log 2>&1 &
pids+=($!)

wait_for worker "http://127.0.0.1:${WORKER_PORT}/ping"
wait_for portal "http://127.0.0.1:${PORTAL_PORT}/healthz"

base="http://127.0.0.1:${PORTAL_PORT}"
echo
echo "IPC AI SaaS is running (logs in var/log/):"
echo "  portal + API   $base   (docs: $base/api/docs/, admin: $base/admin/)"
echo "  background     $base/healthz/celery   (beat, usage drain, archive sweep; metrics: $base/metrics)"
echo "  worker         $IPCAI_WORKER_URL"
if [ -n "$demo_key" ]; then
    echo
    echo "Demo tenant 'demo' created. Shown only this once, store them now:"
    echo "  API key    $demo_key"
    if [ -n "$demo_password" ]; then
        echo "  sign in    $base/  as  demo / $demo_password   (tenant owner and operator)"
    fi
    echo
    echo "Try it:"
    echo "  curl -s -H 'x-api-key: $demo_key' -H 'Content-Type: application/json' --data @../shared/images/post_data.txt $base/inference"
else
    echo
    echo "Demo tenant 'demo' exists: sign in at $base/ as demo (new password:"
    echo "  $PY manage.py changepassword demo). Keys are shown only once; for a new one:"
    echo "  $PY manage.py issue_api_key demo"
    echo "then:"
    echo "  curl -s -H 'x-api-key: KEY' -H 'Content-Type: application/json' --data @../shared/images/post_data.txt $base/inference"
fi
echo
echo "More people: $PY manage.py add_member demo USER --role owner --create.  Ctrl-C stops everything."
wait -n "${pids[@]}"
echo "a process exited; see var/log/" >&2

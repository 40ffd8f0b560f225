#!/usr/bin/env bash
# Make sure the services the test suite talks to answer: Redis (started here when none answers).
# PostgreSQL is used when it answers on 127.0.0.1:5432; tests that need it skip otherwise.
set -euo pipefail
REDIS_PORT="${REDIS_PORT:-6379}"

if ! command -v redis-server >/dev/null 2>&1; then
    echo "redis-server not found; installing Debian's redis-server" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "starting a local redis-server on port $REDIS_PORT" >&2
    mkdir -p var/redis
    # appendonly: Redis is also the Celery broker; queued archive tasks survive a restart.
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
        --appendonly yes --dir "$(pwd)/var/redis" --logfile "$(pwd)/var/redis/redis.log"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -p "$REDIS_PORT" ping >/dev/null

# The dashboard's browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download cannot run in a closed network).
if [ ! -x /usr/bin/chromium ]; then
    echo "chromium not found; installing Debian's chromium for the browser tests" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

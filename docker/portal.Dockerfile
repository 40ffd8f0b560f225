# syntax=docker/dockerfile:1
# The portal: Django behind gunicorn. The same image runs the Celery worker and Celery beat with
# another command (the portal stack's task definitions do this):
#   web:     (default command) gunicorn on port 8000
#   worker:  celery -A portal worker --loglevel INFO
#   beat:    celery -A portal beat --loglevel INFO --schedule /tmp/celerybeat-schedule
#   once:    python manage.py migrate | create_tenant SLUG --services ...
# Build from the repository root:
#   docker build -f docker/portal.Dockerfile -t ipcai-portal .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The project is installed in editable mode so `portal` and `apps` always import from /app,
# where the settings find templates/ and static/ (gunicorn, celery and manage.py alike).
COPY pyproject.toml constraints.txt README.md ./
COPY portal ./portal
COPY apps ./apps
COPY templates ./templates
COPY static ./static
COPY manage.py ./
RUN pip install -c constraints.txt -e '.[portal]'

# Static files are collected at build time and served by WhiteNoise. The key is a placeholder:
# collectstatic needs settings, not secrets.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput

# Unprivileged user; var/ holds the archive spool and other local state.
RUN useradd --uid 1000 --home-dir /app --no-create-home portal \
 && mkdir -p var && chown portal:portal var
USER portal

ENV DJANGO_DEBUG=false \
    WEB_CONCURRENCY=2
EXPOSE 8000

# gthread workers: a request mostly waits on the inference endpoint, threads keep the CPU busy
# meanwhile. WEB_CONCURRENCY sets the worker processes. The load balancer is the only client
# (security group), so its X-Forwarded-* headers are trusted.
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "8", "--graceful-timeout", "30", "--forwarded-allow-ips", "*", "--access-logfile", "-"]

# syntax=docker/dockerfile:1
# The portal: Django behind gunicorn. The same image runs the Celery worker and Celery beat with
# another command (the portal stack's task definitions do this):
#   web:     (default command) gunicorn on port 8000
#   worker:  celery -A portal worker --loglevel INFO
#   beat:    celery -A portal beat --loglevel INFO --schedule /tmp/celerybeat-schedule
#   once:    python manage.py migrate | create_tenant SLUG --services ...
# Build from the repository root:
#   docker build -f docker/portal.Dockerfile -t ipcai-portal .

# The dashboard's browser libraries (Chart.js), pinned by package-lock.json; only the installed
# files reach the image (served as static files, nothing fetched at run time).
FROM node:20-bookworm-slim AS dashboard-assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

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
COPY --from=dashboard-assets /assets/node_modules ./node_modules
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
    HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

# portal/gunicorn.conf.py: threaded workers (a request mostly waits on the inference endpoint),
# sized by GUNICORN_WORKERS / GUNICORN_THREADS, bound to HOST:PORT.
CMD ["gunicorn", "--config", "portal/gunicorn.conf.py", "portal.wsgi"]

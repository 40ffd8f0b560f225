"""Portal settings, all from the environment (django-environ) with safe local defaults.

The defaults run the embedded single-machine setup (SQLite, local Redis, worker on
localhost:8080); production sets DATABASE_URL, REDIS_URL, IPCAI_WORKER_URL or
IPCAI_SAGEMAKER_ENDPOINT, DJANGO_SECRET_KEY and DJANGO_ALLOWED_HOSTS (see README).
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
_LOCAL_SECRET = "insecure-local-only-secret-set-DJANGO_SECRET_KEY-in-production"
SECRET_KEY = env("DJANGO_SECRET_KEY", default=_LOCAL_SECRET)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc as static files: /api/docs/ works offline
    "apps.core",
    "apps.tenants",
    "apps.cameras",
    "apps.usage",
    "apps.archive",
    "apps.alerts",
    "apps.detection",
    "apps.reports",
    "apps.operator",
    "apps.dashboard",
]

MIDDLEWARE = [
    # Before anything can read a body (apps/core/middleware.py).
    "apps.core.middleware.RequestBodyLimitMiddleware",
    "portal.health.HealthCheckMiddleware",  # before any Host check: see portal/health.py
    "django.middleware.security.SecurityMiddleware",
    "apps.core.middleware.AdminNetworkMiddleware",
    "apps.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite on one machine, PostgreSQL (DATABASE_URL) in production -------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the Celery drain write while gunicorn threads read; IMMEDIATE avoids
    # "database is locked" upgrades from read to write transactions.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE", "timeout": 20}
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS L2 2.1.1: at least 12 characters.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Dashboard sign-in, and the e-mail that password resets send ---------------------------
LOGIN_URL = "dashboard:login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "dashboard:login"
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("DJANGO_EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("DJANGO_EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("DJANGO_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DJANGO_DEFAULT_FROM_EMAIL", default="IPC AI <noreply@localhost>")
# Where the dashboard tells tenants to ask for another service (operators enable services).
IPCAI_SUPPORT_EMAIL = env("IPCAI_SUPPORT_EMAIL", default="")

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=VAR_DIR / "static")
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # The dashboard's charts: Chart.js from npm (package-lock.json), installed by `make install`.
    ("vendor/chart.js", BASE_DIR / "node_modules" / "chart.js" / "dist"),
]
# Serve app static files (admin, API docs) straight from the apps when collectstatic has not run.
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=True)

# --- Production hardening, switched on by the environment behind TLS ----------------------
# X-Forwarded-Proto says "https" only if a TLS-terminating proxy set it; without one in front,
# any client could send it and make Django treat plain HTTP as secure.
DJANGO_BEHIND_TLS_PROXY = env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
if DJANGO_BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Addresses of our own proxies (load balancer), CIDR blocks: only from them is X-Forwarded-For
# believed, for the per-IP limits and the admin allow-list (apps/core/client_ip.py).
IPCAI_TRUSTED_PROXIES = env.list("IPCAI_TRUSTED_PROXIES", default=[])
# /admin/ answers only these client networks (CIDR blocks); empty: every network.
IPCAI_ADMIN_PATH = "/admin/"
IPCAI_ADMIN_ALLOWED_NETWORKS = env.list("IPCAI_ADMIN_ALLOWED_NETWORKS", default=[])
# No inline script anywhere in the dashboard (JS lives in static/), so scripts may come from
# this origin only. The API docs page (Redoc) injects its styles and runs a blob: worker; the
# admin's widgets use style attributes.
IPCAI_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
IPCAI_CSP_PATH_POLICIES = {
    "/api/docs/": IPCAI_CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ).replace("font-src 'self'", "font-src 'self' data:; worker-src 'self' blob:"),
    "/admin/": IPCAI_CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", "style-src 'self' 'unsafe-inline'"
    ),
}
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
# A dashboard session ends after this long without a request (ASVS L2 3.3.2): the expiry is
# written again on every request, so activity keeps it open.
IPCAI_SESSION_IDLE_S = env.int("IPCAI_SESSION_IDLE_S", default=8 * 3600)
SESSION_COOKIE_AGE = IPCAI_SESSION_IDLE_S
SESSION_SAVE_EVERY_REQUEST = True
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Redis: rate limits, quota counters, API-key cache, usage queue; Celery's broker -------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Every portal key in Redis starts with this, so several deployments (or test runs) can share
# one Redis without touching each other's counters and queues.
IPCAI_REDIS_PREFIX = env("IPCAI_REDIS_PREFIX", default="ipcai:")
# Redis outages (apps/core/breaker.py): a command waits at most this long for an answer (the
# portal's commands are all sub-millisecond; none blocks), and the first that fails opens the
# breaker: later ones fail at once, served without Redis, while a background ping every probe
# interval finds Redis back. So no request waits for a down Redis longer than one timeout.
IPCAI_REDIS_TIMEOUT_S = env.float("IPCAI_REDIS_TIMEOUT_S", default=1.0)
IPCAI_REDIS_PROBE_INTERVAL_S = env.float("IPCAI_REDIS_PROBE_INTERVAL_S", default=0.5)
IPCAI_REDIS_PROBE_TIMEOUT_S = env.float("IPCAI_REDIS_PROBE_TIMEOUT_S", default=0.5)
# While Redis is down, keys (and cameras) are read from the database and held this long per
# process: the bound within which a key revoked during an outage is refused.
IPCAI_KEY_FALLBACK_CACHE_S = env.float("IPCAI_KEY_FALLBACK_CACHE_S", default=5.0)
# tenant id, month start -> calls stored: the quota's count while Redis is down (limits.py).
IPCAI_MONTH_CALLS_COUNTER = "apps.usage.metering.calls_this_month"

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
# The queue's name in the broker: one deployment, one queue. Stacks that share a Redis (test
# portals side by side, staging beside production) set their own so no worker takes another's
# tasks.
CELERY_TASK_DEFAULT_QUEUE = env("IPCAI_CELERY_QUEUE", default="celery")
IPCAI_USAGE_DRAIN_INTERVAL_S = env.float("IPCAI_USAGE_DRAIN_INTERVAL_S", default=10.0)
# How often the camera-events sweep closes events of silent cameras and re-sends due webhooks.
IPCAI_CAMERA_SWEEP_S = env.float("IPCAI_CAMERA_SWEEP_S", default=5.0)
# Camera health (apps/alerts/health.py): image checks on one frame per IPCAI_HEALTH_SAMPLE_S
# of capture time per camera; a problem (covered, blurred, moved) or its end counts once held
# IPCAI_HEALTH_HOLD_S. IPCAI_HEALTH_CHECKS=false turns health off (offline alerts included).
IPCAI_HEALTH_CHECKS = env.bool("IPCAI_HEALTH_CHECKS", default=True)
IPCAI_HEALTH_SAMPLE_S = env.float("IPCAI_HEALTH_SAMPLE_S", default=2.0)
IPCAI_HEALTH_HOLD_S = env.float("IPCAI_HEALTH_HOLD_S", default=10.0)
# The image checks run in a thread of each portal process, off the request path; false runs
# them inline (the in-process tests, whose database rows another thread cannot see).
IPCAI_HEALTH_THREAD = env.bool("IPCAI_HEALTH_THREAD", default=True)
# How often the video-jobs sweep hands on chunks of dead workers (apps/alerts/video_jobs).
IPCAI_VIDEO_SWEEP_S = env.float("IPCAI_VIDEO_SWEEP_S", default=15.0)
# Archive outbox (apps/archive/outbox.py): the sweep hands on entries pending or undelivered
# longer than the claim bound (consumer killed, wake-up call lost). The bound must exceed one
# storing attempt plus the longest retry backoff, or live retries get handed on twice.
IPCAI_ARCHIVE_SWEEP_S = env.float("IPCAI_ARCHIVE_SWEEP_S", default=30.0)
IPCAI_ARCHIVE_CLAIM_AFTER_S = env.float("IPCAI_ARCHIVE_CLAIM_AFTER_S", default=120.0)
# An entry that still cannot be stored this long after the request is dropped (logged ERROR,
# counted): storage down for a week would otherwise fill Redis with images.
IPCAI_ARCHIVE_ENTRY_TTL_S = env.float("IPCAI_ARCHIVE_ENTRY_TTL_S", default=7 * 24 * 3600.0)
# Beat's periodic replay of this host's spool (each portal process also replays its own).
IPCAI_SPOOL_SWEEP_S = env.float("IPCAI_SPOOL_SWEEP_S", default=60.0)
# spool kind -> replay function (spool and replayer live in apps/core; each floor names its own).
IPCAI_SPOOL_REPLAY = {
    "archive": "apps.archive.enqueue.republish",
    "usage": "apps.usage.metering.requeue_spooled_usage",
    # cache drops Redis refused (a key revoked in an outage)
    "forget": "apps.core.forgetting.replay",
}
# Beat writes a heartbeat at every tick (portal/celery.py) and ticks at least this often, so
# the readiness route (/healthz/celery) calls a beat silent for half a drain interval dead.
CELERY_BEAT_SCHEDULER = "portal.celery:HeartbeatScheduler"
CELERY_BEAT_MAX_LOOP_INTERVAL = max(0.2, IPCAI_USAGE_DRAIN_INTERVAL_S / 5)
CELERY_BEAT_SCHEDULE = {
    "drain-usage-events": {
        "task": "apps.detection.tasks.drain_usage_events",
        "schedule": IPCAI_USAGE_DRAIN_INTERVAL_S,
    },
    # Request archive (apps/archive): reconcile the outbox, replay this host's spool
    # (safety net beside each portal process's own replay), and apply retention.
    "sweep-archive-outbox": {"task": "events.sweep_outbox", "schedule": IPCAI_ARCHIVE_SWEEP_S},
    "replay-archive-spool": {"task": "events.replay_spool", "schedule": IPCAI_SPOOL_SWEEP_S},
    "purge-expired-events": {"task": "events.purge_expired", "schedule": 3600.0},
    "purge-old-usage-events": {"task": "detection.purge_usage_events", "schedule": 3600.0},
    # Camera events: close events of silent cameras, re-send due webhooks, store snapshots.
    "camera-events-sweep": {"task": "events.camera_sweep", "schedule": IPCAI_CAMERA_SWEEP_S},
    "purge-camera-events": {"task": "events.purge_camera_events", "schedule": 3600.0},
    "purge-expired-exports": {"task": "reports.purge_expired_exports", "schedule": 3600.0},
    # Video jobs: hand on chunks of dead workers, finish and purge jobs (apps/alerts/video_jobs).
    "video-jobs-sweep": {"task": "video.sweep", "schedule": IPCAI_VIDEO_SWEEP_S},
    # Every tenant's usage report of the month that just ended (apps/reports/tasks.py).
    "monthly-usage-reports": {
        "task": "reports.build_monthly_usage_reports",
        "schedule": crontab(minute=15, hour=0, day_of_month=1),
    },
}
# A dead broker must not stall requests: publishing gives up fast (apps/archive/enqueue.py).
# visibility_timeout is how long Redis keeps a message a worker took but never acknowledged
# (worker or connection lost) before redelivering it; it must exceed the longest countdown a
# task waits in a worker (archive retries: IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S). Ten minutes, not
# an hour: archive events no longer depend on it (the outbox sweep reclaims them), and other
# tasks come back within minutes of a crash. Restore sweeps run every few seconds.
IPCAI_BROKER_VISIBILITY_TIMEOUT_S = env.int("IPCAI_BROKER_VISIBILITY_TIMEOUT_S", default=600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": env.float("IPCAI_BROKER_CONNECT_TIMEOUT_S", default=1.0),
    "socket_timeout": env.float("IPCAI_BROKER_SOCKET_TIMEOUT_S", default=5.0),
    "visibility_timeout": IPCAI_BROKER_VISIBILITY_TIMEOUT_S,
    "unacked_restore_interval": max(1, min(10, IPCAI_BROKER_VISIBILITY_TIMEOUT_S // 5)),
    "unacked_restore_throttle": 1,
}
# Late-acknowledged tasks (the archive's) should not pile up unstarted in one worker.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# On a lost broker connection a running late-acknowledged task (archiving, a video chunk, an
# export) runs to its end rather than being cancelled half-way; its message, never
# acknowledged, comes back after the visibility timeout, as after a worker crash, which these
# tasks already have to take (the fault and video-job kill tests). Celery 6 flips this default:
# stated here so that an upgrade keeps it; portal/celery.py silences Celery 5's warning about
# the flip, logged on every lost connection.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False

# --- Request-event archive: image + response JSON per request, S3 or a local folder -------
IPCAI_ARCHIVE_URL = env("IPCAI_ARCHIVE_URL", default=f"file://{VAR_DIR / 'archive'}")
IPCAI_ARCHIVE_REGION = env("IPCAI_ARCHIVE_REGION", default="")  # else boto3's region chain
AWS_ENDPOINT_URL = env("AWS_ENDPOINT_URL", default="")  # S3-compatible stores (MinIO, ...)
# Server-side encryption: "AES256" (SSE-S3), "aws:kms" (+ key id), or "none" for stores
# without SSE support.
_ARCHIVE_SSE = env("IPCAI_ARCHIVE_SSE", default="AES256")
IPCAI_ARCHIVE_SSE = "" if _ARCHIVE_SSE.lower() == "none" else _ARCHIVE_SSE
IPCAI_ARCHIVE_KMS_KEY_ID = env("IPCAI_ARCHIVE_KMS_KEY_ID", default="")
# Where archive and usage events wait on disk while Redis is unreachable (one folder per host).
IPCAI_EVENT_SPOOL_DIR = env.path("IPCAI_EVENT_SPOOL_DIR", default=VAR_DIR / "spool" / "events")
# After a failed publish, skip the broker this long (straight to the spool) before trying again.
IPCAI_EVENT_BROKER_RETRY_S = env.float("IPCAI_EVENT_BROKER_RETRY_S", default=5.0)
# Redaction of stored images (apps/core/redaction.py, docs/PRIVACY.md): images waiting for
# the worker's regions at most (the most a crash loses), and the worker's time per image.
IPCAI_REDACTION_QUEUE = env.int("IPCAI_REDACTION_QUEUE", default=64)
IPCAI_REDACTION_TIMEOUT_S = env.float("IPCAI_REDACTION_TIMEOUT_S", default=10.0)
IPCAI_EVENT_SPOOL_REPLAY_S = env.float("IPCAI_EVENT_SPOOL_REPLAY_S", default=5.0)
# Storage errors retry 1, 2, 4 ... s (full jitter), capped below the claim bound and the
# visibility timeout.
IPCAI_ARCHIVE_RETRY_BACKOFF_S = env.int("IPCAI_ARCHIVE_RETRY_BACKOFF_S", default=1)
IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S = env.int("IPCAI_ARCHIVE_RETRY_BACKOFF_MAX_S", default=60)

# --- Camera events and webhooks (apps/alerts: tracking, frames, sweeps, webhooks/) ------------
# The portal's own address as webhook receivers reach it: snapshot URLs in payloads use it.
IPCAI_PUBLIC_URL = env("IPCAI_PUBLIC_URL", default="http://127.0.0.1:8000")
IPCAI_SNAPSHOT_URL_TTL_S = env.int("IPCAI_SNAPSHOT_URL_TTL_S", default=7 * 24 * 3600)
# Webhooks may target loopback and private addresses only where this is on: on-premise
# installs and the tests. Link-local (cloud metadata) addresses are refused regardless.
IPCAI_WEBHOOK_ALLOW_PRIVATE = env.bool("IPCAI_WEBHOOK_ALLOW_PRIVATE", default=False)
# Retries: base x 3^n, capped, +-20 % jitter; 16 attempts span about a day with the defaults.
IPCAI_WEBHOOK_RETRY_BASE_S = env.float("IPCAI_WEBHOOK_RETRY_BASE_S", default=5.0)
IPCAI_WEBHOOK_RETRY_MAX_S = env.float("IPCAI_WEBHOOK_RETRY_MAX_S", default=3 * 3600.0)
IPCAI_WEBHOOK_MAX_ATTEMPTS = env.int("IPCAI_WEBHOOK_MAX_ATTEMPTS", default=16)
# One deadline for a whole attempt (connect, send, status line, headers, body): a receiver
# answering a byte at a time holds a worker no longer. The task's time limits follow from it.
IPCAI_WEBHOOK_DEADLINE_S = env.float("IPCAI_WEBHOOK_DEADLINE_S", default=10.0)
# Ports a webhook URL may name ("80,443,8000-8999"; "*" for any): an internal service on an
# odd port of an allowed host is not a webhook receiver.
IPCAI_WEBHOOK_PORTS = env("IPCAI_WEBHOOK_PORTS", default="80,443,8000-8999")
# Webhook attempts run on their own queue, taken by their own worker (scripts/run-local.sh,
# the ECS task): a slow receiver never delays the archive, the usage drain or exports.
IPCAI_WEBHOOK_QUEUE = env("IPCAI_WEBHOOK_QUEUE", default=f"{CELERY_TASK_DEFAULT_QUEUE}-webhooks")
CELERY_TASK_ROUTES = {"events.deliver_webhook": {"queue": IPCAI_WEBHOOK_QUEUE}}

# --- Inference: the worker over HTTP, or a SageMaker endpoint carrying the same body --------
IPCAI_WORKER_URL = env("IPCAI_WORKER_URL", default="http://127.0.0.1:8080")
IPCAI_SAGEMAKER_ENDPOINT = env("IPCAI_SAGEMAKER_ENDPOINT", default="")
IPCAI_INFERENCE_CLIENT = env(
    "IPCAI_INFERENCE_CLIENT", default="sagemaker" if IPCAI_SAGEMAKER_ENDPOINT else "http"
)
IPCAI_WORKER_CONNECT_TIMEOUT_S = env.float("IPCAI_WORKER_CONNECT_TIMEOUT_S", default=2.0)
# Inference itself is tens of ms; 30 s only covers a worker queue under heavy load.
IPCAI_WORKER_READ_TIMEOUT_S = env.float("IPCAI_WORKER_READ_TIMEOUT_S", default=30.0)
# Keep-alive connections per portal process: the in-portal bound on requests in flight to the
# worker. Sized like the gunicorn threads (portal/gunicorn.conf.py), so every request a thread
# holds goes straight to the worker, whose FIFO queue alone orders them (docs/BENCHMARKS.md,
# "Portal tail latency"). A request that finds no free connection waits at most
# IPCAI_WORKER_QUEUE_TIMEOUT_S, then gets 503 + Retry-After, as the worker answers when full.
IPCAI_WORKER_POOL_SIZE = env.int("IPCAI_WORKER_POOL_SIZE", default=64)
IPCAI_WORKER_QUEUE_TIMEOUT_S = env.float("IPCAI_WORKER_QUEUE_TIMEOUT_S", default=5.0)

# --- Models: accuracy tiers and the registry's model store (docs/DEPLOY.md, section 7a) ----
# Tier name -> worker model name. A service names a tier (or a tenant model); the portal sends
# the model name to the worker. An empty default tier sends no name: the worker's default.
IPCAI_MODEL_TIERS = env.dict(
    "IPCAI_MODEL_TIERS", default={"fast": "yolox_nano", "accurate": "deimv2_femto"}
)
IPCAI_DEFAULT_TIER = env("IPCAI_DEFAULT_TIER", default="")
# Tiers whose services run sliced inference (gpu_worker/slicing.py: the whole frame plus
# overlapping slices in one batch): small and distant objects found by the same model, at
# 2-4.4x its CPU per 1080p frame on a CPU worker (docs/BENCHMARKS.md, "Sliced inference").
IPCAI_SLICED_TIERS = env.list("IPCAI_SLICED_TIERS", default=["accurate"])
# Where the admin reads a registered model's file to check its sha256 (the workers' folder).
IPCAI_MODEL_STORE = env("IPCAI_MODEL_STORE", default=env("IPCAI_MODEL_DIR", default=""))
# SageMaker layout B: `model=variant,...` sends TargetVariant for those models.
IPCAI_SAGEMAKER_VARIANTS = env.dict("IPCAI_SAGEMAKER_VARIANTS", default={})

# --- Dataset exports (apps/reports/datasets): bounded so one export cannot fill the store ---
IPCAI_EXPORT_MAX_BYTES = env.int("IPCAI_EXPORT_MAX_BYTES", default=2 * 1024**3)
# Archived events one export may scan (the newest ones of the filter's range).
IPCAI_EXPORT_MAX_CANDIDATES = env.int("IPCAI_EXPORT_MAX_CANDIDATES", default=100_000)
# Per tenant: one export queued or running at a time, at most this many started an hour, and
# each zip deleted this many days after it finished (the API's expires_at, the dashboard).
IPCAI_EXPORTS_PER_HOUR = env.int("IPCAI_EXPORTS_PER_HOUR", default=10)
IPCAI_EXPORT_RETENTION_DAYS = env.int("IPCAI_EXPORT_RETENTION_DAYS", default=7)

# --- Uploads: bounded before anything is decoded --------------------------------------------
IPCAI_MAX_IMAGE_BYTES = env.int("IPCAI_MAX_IMAGE_BYTES", default=10 * 1024 * 1024)
# Same ceiling as the worker (8K UHD is 33.2 MP); read from the image header, never decoded.
IPCAI_MAX_IMAGE_PIXELS = env.int("IPCAI_MAX_IMAGE_PIXELS", default=40_000_000)
# A base64 JSON body is 4/3 of the image plus a little JSON around it.
DATA_UPLOAD_MAX_MEMORY_SIZE = IPCAI_MAX_IMAGE_BYTES * 4 // 3 + 64 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IPCAI_MAX_IMAGE_BYTES
# Every route, before parsing (apps/core/middleware.py): nothing the portal takes is larger.
IPCAI_MAX_REQUEST_BODY_BYTES = env.int(
    "IPCAI_MAX_REQUEST_BODY_BYTES", default=DATA_UPLOAD_MAX_MEMORY_SIZE
)

# --- Stored-video jobs (apps/alerts/video_jobs) ---------------------------------------------
# An upload is streamed to a temporary file and then to the archive storage, bounded by this
# (413 on a larger Content-Length before a byte is read; the route takes no chunked bodies).
IPCAI_VIDEO_MAX_UPLOAD_BYTES = env.int("IPCAI_VIDEO_MAX_UPLOAD_BYTES", default=2 * 1024**3)
# Routes with a body bound of their own (path regex -> bytes), still checked by the middleware:
# the video-jobs API and the dashboard's upload form.
IPCAI_LARGE_BODY_ROUTES = {
    r"/api/v1/video-jobs": IPCAI_VIDEO_MAX_UPLOAD_BYTES,
    r"/t/[^/]+/video-jobs/": IPCAI_VIDEO_MAX_UPLOAD_BYTES,
}
# Per-tenant defaults (a tenant's VideoLimits row overrides them).
IPCAI_VIDEO_MAX_CONCURRENT_JOBS = env.int("IPCAI_VIDEO_MAX_CONCURRENT_JOBS", default=2)
IPCAI_VIDEO_MAX_DURATION_S = env.float("IPCAI_VIDEO_MAX_DURATION_S", default=4 * 3600.0)
IPCAI_VIDEO_MONTHLY_SECONDS = env.float("IPCAI_VIDEO_MONTHLY_SECONDS", default=0.0)  # 0: none
# Media seconds per chunk task: a killed worker loses at most this much work.
IPCAI_VIDEO_CHUNK_S = env.float("IPCAI_VIDEO_CHUNK_S", default=60.0)
IPCAI_VIDEO_BATCH_FRAMES = env.int("IPCAI_VIDEO_BATCH_FRAMES", default=8)
# A worker holds its chunk this long, renewed after every batch; the sweep hands on one
# whose hold expired (its worker died).
IPCAI_VIDEO_CHUNK_LEASE_S = env.float("IPCAI_VIDEO_CHUNK_LEASE_S", default=120.0)
IPCAI_VIDEO_PURGE = env.bool("IPCAI_VIDEO_PURGE", default=True)
# Each Celery host's local copy of the clips it works on (deleted when a job ends).
IPCAI_VIDEO_WORK_DIR = env.path("IPCAI_VIDEO_WORK_DIR", default=VAR_DIR / "video-jobs")
# The frames-to-worker function (apps/detection: a higher floor than apps/alerts).
IPCAI_VIDEO_INFERENCE = env(
    "IPCAI_VIDEO_INFERENCE", default="apps.detection.video_frames.detect_video_frames"
)

# --- Deployment defaults for tenants (the AWS sample's stack parameters) -------------------
# applicationType: the services this deployment offers; saveRequestEvents: whether a new
# tenant service archives its requests. Set by infra/cloudformation/portal.yaml.
IPCAI_OFFERED_SERVICES = env.list(
    "IPCAI_OFFERED_SERVICES",
    # license-plates: the worker loads its plate reader by default (gpu_worker IPCAI_PLATES=1).
    default=["persons-detection", "pets-detection", "vehicles-detection", "license-plates"],
)
IPCAI_DEFAULT_SAVE_REQUEST_EVENTS = env.bool("IPCAI_DEFAULT_SAVE_REQUEST_EVENTS", default=False)

# --- API keys, rate limits, quotas -------------------------------------------------------
# Keyed hash for API keys: a database dump alone does not allow checking guessed keys.
# Changing it invalidates every issued key.
IPCAI_API_KEY_HASH_KEY = env("IPCAI_API_KEY_HASH_KEY", default=SECRET_KEY)
# Like cookiecutter-django's production settings: a deployment never runs on the secret that
# is in the source code (anyone could forge sessions, and check guessed API keys against a
# database dump). `make run` and the tests set their own.
if not DEBUG and _LOCAL_SECRET in (SECRET_KEY, IPCAI_API_KEY_HASH_KEY):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY (and IPCAI_API_KEY_HASH_KEY, which defaults to it) is the built-in "
        "placeholder: set it to a long random value, or DJANGO_DEBUG=true for development."
    )
IPCAI_KEY_CACHE_TTL_S = env.int("IPCAI_KEY_CACHE_TTL_S", default=300)
# A camera's latest frame (cameras list, zone editor, connect flow) is stored at most this often
# per camera and portal process: one JPEG write to Redis per half minute, not one per frame.
IPCAI_CAMERA_FRAME_INTERVAL_S = env.float("IPCAI_CAMERA_FRAME_INTERVAL_S", default=30.0)
# raw key -> KeyGrant, for apps/core/auth.py (the ground floor names no app by import).
IPCAI_API_KEY_RESOLVER = "apps.tenants.grants.resolve_key"
# Per API key, fixed window. 6000/min (100/s) keeps a runaway camera from starving others
# while staying above what one 2-core worker serves.
IPCAI_RATE_LIMIT_REQUESTS = env.int("IPCAI_RATE_LIMIT_REQUESTS", default=6000)
IPCAI_RATE_LIMIT_WINDOW_S = env.int("IPCAI_RATE_LIMIT_WINDOW_S", default=60)
# Per tenant, all its keys together, same window: more keys do not buy more rate.
IPCAI_TENANT_RATE_LIMIT_REQUESTS = env.int("IPCAI_TENANT_RATE_LIMIT_REQUESTS", default=24000)
# Monthly request quota of new tenants (create_tenant without one); empty: unlimited.
IPCAI_DEFAULT_MONTHLY_QUOTA = env.int("IPCAI_DEFAULT_MONTHLY_QUOTA", default=None)
# Failed API-key authentications per client IP within the window before 429
# (apps/core/failure_limits.py).
IPCAI_AUTH_FAILURE_LIMIT = env.int("IPCAI_AUTH_FAILURE_LIMIT", default=50)
IPCAI_AUTH_FAILURE_WINDOW_S = env.int("IPCAI_AUTH_FAILURE_WINDOW_S", default=300)
# Dashboard and admin sign-in: wrong passwords per username and per client IP in the window.
IPCAI_SIGNIN_FAILURE_LIMIT = env.int("IPCAI_SIGNIN_FAILURE_LIMIT", default=20)
IPCAI_SIGNIN_IP_FAILURE_LIMIT = env.int("IPCAI_SIGNIN_IP_FAILURE_LIMIT", default=100)
IPCAI_SIGNIN_WINDOW_S = env.int("IPCAI_SIGNIN_WINDOW_S", default=900)
# Password reset requests per address and per client IP in the window.
IPCAI_PASSWORD_RESET_LIMIT = env.int("IPCAI_PASSWORD_RESET_LIMIT", default=5)
IPCAI_PASSWORD_RESET_IP_LIMIT = env.int("IPCAI_PASSWORD_RESET_IP_LIMIT", default=20)
IPCAI_PASSWORD_RESET_WINDOW_S = env.int("IPCAI_PASSWORD_RESET_WINDOW_S", default=3600)
# Per-request usage rows are kept this long; the daily roll-ups (reports, quotas) stay.
IPCAI_USAGE_EVENT_RETENTION_DAYS = env.int("IPCAI_USAGE_EVENT_RETENTION_DAYS", default=90)
IPCAI_USAGE_DRAIN_BATCH = env.int("IPCAI_USAGE_DRAIN_BATCH", default=2000)

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.errors.json_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "IPC AI SaaS detection API",
    "DESCRIPTION": (
        "AI detection (persons, pets, vehicles) for IP cameras. Authenticate every request "
        "with your API key in the `x-api-key` header. Three request styles share one "
        "detector: the seed-compatible `POST /inference`, the native "
        "`POST /api/v1/detect/{application_type}`, and the DeepStack-compatible "
        "`POST /v1/vision/detection` for camera software that speaks DeepStack. Errors are "
        '`{"error": {"code": "...", "message": "..."}}` (DeepStack: '
        '`{"success": false, "error": "..."}`).'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Generated clients know the export status as StatusEnum: keep that name when other
    # status enums (video jobs) appear (tests/portal/test_api_contract.py).
    "ENUM_NAME_OVERRIDES": {"StatusEnum": "apps.reports.models.DatasetExport.Status"},
}

LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # 4xx are the client's business and already in the usage events; keep logs for real trouble.
    "loggers": {"django.request": {"level": "ERROR"}},
}

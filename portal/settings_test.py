"""Test settings: the real settings plus what makes the suite fast and isolated."""

import os
import uuid

# portal.settings refuses the built-in placeholder secret with DEBUG off; the tests (and the
# portals, Celery workers and commands they start, which inherit the environment) use their own.
os.environ.setdefault("DJANGO_SECRET_KEY", f"test-only-{uuid.uuid4().hex}")
# The tests' webhook receivers listen on whatever port is free.
os.environ.setdefault("IPCAI_WEBHOOK_PORTS", "*")

from portal.settings import *  # noqa: F403
from portal.settings import env

# Tests share this machine's Redis with `make run` and other suites: a unique prefix per run
# keeps their counters, caches and usage queues apart.
IPCAI_REDIS_PREFIX = env("IPCAI_REDIS_PREFIX", default=f"ipcai-test-{uuid.uuid4().hex[:8]}:")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
# No collectstatic in tests: app static files are served by the finders.
STATIC_ROOT = None
# Camera health checks inline: a test's database rows are invisible to another thread.
IPCAI_HEALTH_THREAD = False

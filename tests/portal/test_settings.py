"""Settings come from the environment, with safe local defaults, and refuse unsafe production
(checked in a fresh process, since settings are read once at import)."""

import json
import os
import subprocess
import sys

import pytest

from harness.processes import REPO_ROOT

PROBE = """
import json
from django.conf import settings
from portal.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "debug": settings.DEBUG, "secret": settings.SECRET_KEY, "hosts": settings.ALLOWED_HOSTS,
    "worker": settings.IPCAI_WORKER_URL, "client": settings.IPCAI_INFERENCE_CLIENT,
    "broker": app.conf.broker_url, "beat": sorted(app.conf.beat_schedule),
    "rate": settings.IPCAI_RATE_LIMIT_REQUESTS,
    "proxy_ssl_header": getattr(settings, "SECURE_PROXY_SSL_HEADER", None),
}))
"""
LOCAL_SECRET = "insecure-local-only-secret-set-DJANGO_SECRET_KEY-in-production"


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "IPCAI_", "REDIS_"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup();" + PROBE],
        cwd=REPO_ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "portal.settings", **env},
        capture_output=True,
        text=True,
    )


def settings_with(**env: str) -> dict:
    result = probe(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_local_defaults_are_safe_and_self_contained():
    s = settings_with(DJANGO_SECRET_KEY="this-checkout-only")
    assert s["engine"] == "django.db.backends.sqlite3" and s["name"].endswith("var/portal.sqlite3")
    assert s["debug"] is False
    assert s["hosts"] == ["127.0.0.1", "localhost", "[::1]"]
    assert s["worker"] == "http://127.0.0.1:8080" and s["client"] == "http"
    assert s["broker"].startswith("redis://127.0.0.1:6379")
    assert "drain-usage-events" in s["beat"]


def test_production_settings_come_from_the_environment():
    s = settings_with(
        DATABASE_URL="postgres://portal:pw@db.internal:5432/ipcai",
        DJANGO_SECRET_KEY="from-secrets-manager",
        DJANGO_ALLOWED_HOSTS="api.example.com,portal.example.com",
        IPCAI_SAGEMAKER_ENDPOINT="ipcai-gpu",
        REDIS_URL="redis://cache.internal:6379/1",
        IPCAI_RATE_LIMIT_REQUESTS="120",
    )
    assert (s["engine"], s["host"], s["name"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "ipcai",
    )
    assert s["secret"] == "from-secrets-manager"
    assert s["hosts"] == ["api.example.com", "portal.example.com"]
    assert s["client"] == "sagemaker"
    assert s["broker"] == "redis://cache.internal:6379/1"
    assert s["rate"] == 120


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"DJANGO_SECRET_KEY": LOCAL_SECRET},
        {"DJANGO_SECRET_KEY": "a-real-secret", "IPCAI_API_KEY_HASH_KEY": LOCAL_SECRET},
        {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": LOCAL_SECRET},
    ],
    ids=["nothing-set", "placeholder-secret", "placeholder-hash-key", "debug-off-explicitly"],
)
def test_the_portal_refuses_to_start_with_debug_off_and_the_placeholder_secret(env):
    result = probe(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr and "placeholder" in result.stderr


def test_development_may_run_on_the_placeholder():
    assert settings_with(DJANGO_DEBUG="true")["secret"] == LOCAL_SECRET


def test_forwarded_proto_is_trusted_only_behind_a_declared_tls_proxy():
    assert settings_with(DJANGO_SECRET_KEY="s")["proxy_ssl_header"] is None
    behind = settings_with(DJANGO_SECRET_KEY="s", DJANGO_BEHIND_TLS_PROXY="true")
    assert behind["proxy_ssl_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]

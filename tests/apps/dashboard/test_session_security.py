"""Dashboard passwords and sessions (security review, issue 31, Low; OWASP ASVS L2 2.1.1 and
3.3.2): passwords of at least 12 characters, and a session that ends after
IPCAI_SESSION_IDLE_S without a request (it was two weeks, whatever the activity)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.apps.dashboard.conftest import signed_in


def test_a_password_needs_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("k9#vQ2!mZx4")  # eleven
    validate_password("k9#vQ2!mZx4w")  # twelve


def _session_expiry() -> timedelta:
    (session,) = Session.objects.all()
    return session.expire_date - timezone.now()


def test_a_session_ends_after_the_idle_timeout_and_each_request_renews_it(alice, tenant_a):
    idle = timedelta(seconds=settings.IPCAI_SESSION_IDLE_S)
    assert idle <= timedelta(hours=12)
    client = signed_in(alice)
    assert client.get("/t/alpha/").status_code == 200
    assert idle - timedelta(minutes=1) < _session_expiry() <= idle
    # An hour of use later the session still has the whole idle period ahead.
    Session.objects.update(expire_date=timezone.now() + idle - timedelta(hours=1))
    assert client.get("/t/alpha/").status_code == 200
    assert _session_expiry() > idle - timedelta(minutes=1)
    # Idle past it: signed out.
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert client.get("/t/alpha/")["Location"].startswith("/accounts/login/")

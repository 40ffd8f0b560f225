"""Sign-in and password reset, throttled per username / address and per client IP.

Wrong passwords count against the username typed (whether or not it exists, so the answer
never tells which accounts do) and against the client IP; reaching either limit locks sign-in
for the rest of the window with a message that says so and for how long, instead of the
usual "wrong password" that would invite more guessing. A successful sign-in clears the
username's count. Reset requests count per address and per IP, so nobody can make the portal
mail someone a thousand links. The same forms guard the dashboard and the operator admin.
Counters live in Redis (apps/core/failure_limits.py), shared by every portal process.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.http import HttpRequest

from apps.core.client_ip import client_ip
from apps.core.failure_limits import FailureLimit, wait_text


def signin_limits() -> tuple[FailureLimit, FailureLimit]:
    window = settings.IPCAI_SIGNIN_WINDOW_S
    return (
        FailureLimit("signin-user", settings.IPCAI_SIGNIN_FAILURE_LIMIT, window),
        FailureLimit("signin-ip", settings.IPCAI_SIGNIN_IP_FAILURE_LIMIT, window),
    )


def reset_limits() -> tuple[FailureLimit, FailureLimit]:
    window = settings.IPCAI_PASSWORD_RESET_WINDOW_S
    return (
        FailureLimit("reset-address", settings.IPCAI_PASSWORD_RESET_LIMIT, window),
        FailureLimit("reset-ip", settings.IPCAI_PASSWORD_RESET_IP_LIMIT, window),
    )


def _normalised(value: object) -> str:
    return str(value or "").strip().lower()[:254]


def _locked(seconds: int) -> forms.ValidationError:
    return forms.ValidationError(
        f"Too many failed sign-ins for this account or from your network: sign-in is locked "
        f"for {wait_text(seconds)}. Wait and try again, or reset your password.",
        code="signin_locked",
    )


def throttled_sign_in(
    form: AuthenticationForm, clean: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """`clean` (the form's own check of the password) behind the per-user and per-IP locks."""
    by_user, by_ip = signin_limits()
    username = _normalised(form.data.get("username"))
    assert form.request is not None, "the login views hand the form its request"
    ip = client_ip(form.request.META)
    wait = by_user.blocked_for(username) or by_ip.blocked_for(ip)
    if wait:
        raise _locked(wait)
    try:
        cleaned = clean()
    except forms.ValidationError as exc:
        if getattr(exc, "code", None) == "invalid_login":
            waits = [by_user.record_failure(username), by_ip.record_failure(ip)]
            if any(waits):
                raise _locked(max(w for w in waits if w)) from None
        raise
    by_user.clear(username)
    return cleaned


class SignInForm(AuthenticationForm):
    def clean(self) -> dict[str, Any]:
        return throttled_sign_in(self, super().clean)


class AdminSignInForm(AdminAuthenticationForm):
    def clean(self) -> dict[str, Any]:
        return throttled_sign_in(self, super().clean)


class ThrottledPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request = request

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        address = _normalised(cleaned.get("email"))
        by_address, by_ip = reset_limits()
        ip = client_ip(self.request.META)
        wait = by_address.blocked_for(address) or by_ip.blocked_for(ip)
        if wait:
            raise forms.ValidationError(
                "Too many password reset requests for this address or from your network; "
                f"try again in {wait_text(wait)}. A link already sent stays valid.",
                code="reset_throttled",
            )
        by_address.record_failure(address)  # every request counts, sent or not
        by_ip.record_failure(ip)
        return cleaned


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    form_class = ThrottledPasswordResetForm

    def get_form_kwargs(self) -> dict:
        return {**super().get_form_kwargs(), "request": self.request}

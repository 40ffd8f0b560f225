"""Sign-in and password reset are throttled per username / address and per client IP, with a
message that says so; the operator admin's sign-in too."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "password"  # tests/apps/factories.py


def sign_in(client: Client, username: str, password: str, ip: str = "203.0.113.10", path=None):
    return client.post(
        path or "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def test_20_wrong_passwords_lock_sign_in_for_that_user_with_a_clear_message(alice):
    client = Client()
    for _ in range(19):
        assert (
            "Please enter a correct username and password"
            in sign_in(client, "alice", "guess").content.decode()
        )
    # The 20th wrong password is answered with the lock, so nobody keeps typing in vain.
    assert "Too many failed sign-ins" in sign_in(client, "alice", "guess").content.decode()
    locked = sign_in(client, "alice", PASSWORD)  # even the right password now
    text = locked.content.decode()
    assert "Too many failed sign-ins" in text and "locked for 15 minutes" in text
    assert "_auth_user_id" not in client.session
    # The lock is on the username, from any address, whatever its case.
    assert (
        "Too many failed sign-ins"
        in sign_in(Client(), "ALICE", PASSWORD, ip="198.51.100.3").content.decode()
    )


def test_other_users_still_sign_in_and_a_success_resets_the_count(alice, bob):
    client = Client()
    for _ in range(19):
        sign_in(client, "bob", "guess")
    assert sign_in(client, "bob", PASSWORD).status_code == 302  # under the limit: in
    for _ in range(19):
        sign_in(Client(), "bob", "guess")
    assert sign_in(Client(), "bob", PASSWORD).status_code == 302  # counting started over
    assert sign_in(Client(), "alice", PASSWORD).status_code == 302


def test_one_address_trying_many_usernames_is_locked_out(settings, alice):
    settings.IPCAI_SIGNIN_IP_FAILURE_LIMIT = 10
    for n in range(10):
        sign_in(Client(), f"user{n}", "guess", ip="203.0.113.99")
    locked = sign_in(Client(), "alice", PASSWORD, ip="203.0.113.99")
    assert "Too many failed sign-ins" in locked.content.decode()
    assert sign_in(Client(), "alice", PASSWORD, ip="203.0.113.100").status_code == 302


def test_the_admin_sign_in_is_throttled_too(settings, admin_user):
    settings.IPCAI_SIGNIN_FAILURE_LIMIT = 3
    for _ in range(3):
        sign_in(Client(), "admin", "guess", path="/admin/login/")
    locked = sign_in(Client(), "admin", "password", path="/admin/login/")
    assert locked.status_code == 200
    assert "Too many failed sign-ins" in locked.content.decode()


def test_password_reset_mails_an_address_a_bounded_number_of_times(alice):
    client = Client()
    for _ in range(5):
        response = client.post(
            "/accounts/password/reset/", {"email": alice.email}, REMOTE_ADDR="203.0.113.7"
        )
        assert response.status_code == 302
    refused = client.post(
        "/accounts/password/reset/", {"email": alice.email}, REMOTE_ADDR="203.0.113.8"
    )
    assert refused.status_code == 200
    assert "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 5

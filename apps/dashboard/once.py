"""One-use form tokens: a resubmitted form (reload, back button, double click) does nothing.

The key-creation page shows the new key in the POST response itself, because the secret may
not be stored anywhere to survive a redirect (only its hash is kept). A reload of that page
resubmits the form; the token makes the resubmission a no-op instead of a second key.
"""

from __future__ import annotations

import secrets

from django.contrib.sessions.backends.base import SessionBase

SESSION_KEY = "dashboard_form_tokens"
KEEP = 20  # tokens of forms opened and not yet submitted (several tabs)


def issue_token(session: SessionBase) -> str:
    token = secrets.token_urlsafe(16)
    session[SESSION_KEY] = [*session.get(SESSION_KEY, [])[-(KEEP - 1) :], token]
    return token


def use_token(session: SessionBase, token: str) -> bool:
    """True the first time a token issued to this session comes back; False ever after."""
    tokens = session.get(SESSION_KEY, [])
    if not token or token not in tokens:
        return False
    tokens.remove(token)
    session[SESSION_KEY] = tokens
    return True

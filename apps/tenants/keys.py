"""API key format, generation and verification (no database, no Redis).

Keys are 256-bit random secrets, so a fast keyed hash (HMAC-SHA256) is the right tool: a slow
password hash would add tens of milliseconds to every camera request and buys nothing against
keys nobody can guess.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings

KEY_PREFIX = "ipcai_"
PUBLIC_ID_BYTES = 6  # 12 hex characters


def generate_key() -> tuple[str, str]:
    """A new (public_id, full key). The full key is returned to the caller once, never stored."""
    public_id = secrets.token_hex(PUBLIC_ID_BYTES)
    return public_id, f"{KEY_PREFIX}{public_id}_{secrets.token_urlsafe(32)}"


def hash_key(raw_key: str) -> str:
    return hmac.new(
        settings.IPCAI_API_KEY_HASH_KEY.encode(), raw_key.encode(), hashlib.sha256
    ).hexdigest()


def public_id_of(raw_key: str) -> str | None:
    """The public id inside a well-formed key, else None (malformed keys never reach storage)."""
    if not raw_key.startswith(KEY_PREFIX):
        return None
    public_id, sep, secret = raw_key[len(KEY_PREFIX) :].partition("_")
    if not sep or not secret or len(public_id) != PUBLIC_ID_BYTES * 2:
        return None
    if any(c not in "0123456789abcdef" for c in public_id):
        return None
    return public_id


def key_matches(raw_key: str, stored_hash: str) -> bool:
    """Constant-time comparison of the presented key's hash with the stored one."""
    return hmac.compare_digest(hash_key(raw_key), stored_hash)

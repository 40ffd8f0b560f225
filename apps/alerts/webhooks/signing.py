"""Standard Webhooks signatures (https://www.standardwebhooks.com/), so receivers can verify
with any of the specification's libraries.

The secret is ``whsec_`` + base64 of 24 random bytes; the signature is
``v1,`` + base64(HMAC-SHA256(secret bytes, f"{webhook-id}.{webhook-timestamp}.{body}")), sent
in ``webhook-signature`` beside ``webhook-id`` (stable across retries, for de-duplication) and
``webhook-timestamp`` (Unix seconds of this attempt; receivers reject old ones against replay).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }

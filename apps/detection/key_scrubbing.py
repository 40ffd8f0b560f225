"""Log filtering that removes API keys from `/k/<key>/...` request paths.

Free of Django on purpose: gunicorn loads its logger class (portal/gunicorn_logging.py) before
Django is set up, and the same filter then guards Django's request log (apps.py).
"""

from __future__ import annotations

import logging
import re

_KEY_SEGMENT = re.compile(r"/k/[^/?#\s]+")
HIDDEN = "/k/[key]"


def scrub_path_keys(text: str) -> str:
    """`text` with the key segment of every `/k/<key>/...` path replaced."""
    return _KEY_SEGMENT.sub(HIDDEN, text)


class ScrubPathKeys(logging.Filter):
    """Rewrites a record's message (and exception text) without path keys; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/k/" in message:
            record.msg, record.args = scrub_path_keys(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and "/k/" in record.exc_text:
            record.exc_text = scrub_path_keys(record.exc_text)
        return True


def install_log_scrubbing(*logger_names: str) -> None:
    """Scrub path keys from these loggers' records (Django's request log by default)."""
    for name in logger_names or ("django.request", "django.server"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubPathKeys) for f in logger.filters):
            logger.addFilter(ScrubPathKeys())

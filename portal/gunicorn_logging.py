"""gunicorn's logger with API keys scrubbed from request paths (`/k/<key>/v1/vision/...`).

gunicorn writes the raw request line in its access log (when GUNICORN_ACCESS_LOG is set) and
the URI in its error log ("Error handling request ..."); both pass the detection app's
ScrubPathKeys filter, so a key sent in a URL is never written to our logs.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from apps.detection.key_scrubbing import ScrubPathKeys


class KeyScrubbingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            log.addFilter(ScrubPathKeys())

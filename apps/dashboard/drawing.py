"""Detections of an archived response, and event thumbnails with their boxes drawn.

Both live in apps/events/thumbnails.py, where the archive task makes each event's thumbnail
once; the dashboard pages that draw boxes on other images (cameras, alerts) use the same code.
"""

from apps.events.thumbnails import detections_in, thumbnail_with_boxes

__all__ = ["detections_in", "thumbnail_with_boxes"]

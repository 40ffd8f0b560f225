"""Stored-video analysis: a clip (uploaded, or already in the tenant's archive storage) cut into
chunks that Celery workers analyse in parallel; the frames' detections become events by the
live cameras' tracker (apps/alerts/tracking.py), on media time, kept apart from live events."""

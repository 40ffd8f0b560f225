"""Cameras: per-camera zones, masks, class thresholds and size filters; the filter step."""

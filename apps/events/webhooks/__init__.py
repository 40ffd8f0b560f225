"""Webhooks for camera events: endpoints, Standard Webhooks signing, SSRF-safe delivery."""

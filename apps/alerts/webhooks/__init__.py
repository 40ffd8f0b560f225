"""Webhooks: tenants' endpoints, Standard Webhooks signing, retried SSRF-safe delivery."""

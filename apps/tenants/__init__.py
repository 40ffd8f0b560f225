"""Tenants, their members, API keys and per-tenant detection services."""

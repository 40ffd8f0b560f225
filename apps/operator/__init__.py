"""The operator admin: what operators see and do across tenants."""

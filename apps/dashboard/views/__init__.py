"""The dashboard's views, one module per area (see apps/dashboard/__init__.py)."""

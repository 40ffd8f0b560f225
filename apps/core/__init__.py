"""The portal's ground floor: what every app shares and nothing of the project's it imports.

Redis connection (redis.py), the API's error shape (errors.py), API-key authentication and
scopes (auth.py, grants.py) and shared serializers. Like healthchecks' `hc/lib/`, it sits under
every app: apps stack on it (core ← tenants ← cameras ← events ← detection ← reports ←
dashboard) and tests/portal/test_layers.py keeps it that way.
"""

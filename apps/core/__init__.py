"""The portal's ground floor: what every app shares and nothing of the project's it imports.

Redis connection (redis.py), the API's error shape (errors.py), API-key authentication and
scopes (auth.py, grants.py), shared serializers, archive storage (storage.py: S3 or a folder),
the disk spool and its replayer (spool.py, spool_replay.py, durable_files.py), heartbeats, and
the throttled sign-in forms the dashboard and the operator admin share (signin.py).
Like healthchecks' `hc/lib/`, it sits under every app (floors in docs/ARCHITECTURE.md) and
tests/portal/test_layers.py keeps it that way.
"""

"""Starting and stopping the project's real processes for tests and benchmarks.

A worker, a portal (gunicorn), Redis, Celery, moto's S3 server, webhook receivers and scripted
HTTP peers, each a real process on 127.0.0.1 polled until it answers; plus the few inputs both
tests and benchmarks feed them (test images, camera frames, the camera clip, the COCO
evaluation set). Shared by tests/ and bench/, so it imports neither (tests/portal/
test_harness_imports.py holds that). Not part of the product wheel.
"""

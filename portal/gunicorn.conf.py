"""gunicorn settings for the portal: threaded workers, because a request spends most of its
time waiting on the inference worker, not on the CPU.

Two processes keep a spare when one is busy in Python (the GIL); 16 threads each hold up to 32
requests in flight, enough to keep the worker's batches full behind 80 concurrent cameras.
Everything can be overridden from the environment.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
backlog = 2048  # connections beyond the threads wait in the kernel queue, not refused
keepalive = 5
timeout = 60
graceful_timeout = 30
# Access logs cost CPU on every request; usage events already record each one.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

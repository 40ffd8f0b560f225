"""gunicorn settings for the portal: threaded workers, because a request spends most of its
time waiting on the inference worker, not on the CPU.

Two processes keep a spare when one is busy in Python (the GIL). Threads are sized to the
expected concurrency (2 x 64 for the seed's 80-client load test), not to the CPU: a thread
costs a stack and nothing while it waits. With fewer threads than clients, the clients beyond
them waited in a second, unfair queue (the listen backlog and each process's own accept queue)
before reaching the worker's FIFO one, and the portal's p99 was twice the worker's
(docs/BENCHMARKS.md, "Portal tail latency"). IPCAI_WORKER_POOL_SIZE matches the threads, and
IPCAI_WORKER_QUEUE_TIMEOUT_S bounds any wait for a worker connection (then 503 + Retry-After).
Everything can be overridden from the environment.
"""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "64"))
backlog = 2048  # connections beyond the threads wait in the kernel queue, not refused
keepalive = 5
timeout = 60
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Access logs cost CPU on every request; usage events already record each one.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
logger_class = "portal.gunicorn_logging.KeyScrubbingLogger"  # no /k/<key>/ in any log line
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

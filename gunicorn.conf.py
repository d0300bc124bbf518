"""gunicorn's settings for the portal, read from the folder gunicorn starts in (`make serve`);
command-line options (--bind, --workers) override them.

Threaded workers: a sync worker that spends longer than `timeout` sending one response (a full
download to a slow phone: 9 MB at 1 Mbit/s is 75 s) misses its heartbeat and is killed by the
arbiter mid-file, the download cut. A gthread worker's heartbeat runs beside its requests, so
`timeout` only ends a worker that is stuck, never a long response. The application keeps no
per-request state in globals (the development server runs it threaded too)."""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))

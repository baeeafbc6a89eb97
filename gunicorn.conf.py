"""gunicorn settings for posterapp, read from this folder: `gunicorn 'posterapp:create_app()'`.

Each setting can be changed on the command line (--workers, --bind …) or through the
POSTERAPP_* variables named below.
"""

import os
import shutil
import tempfile

bind = os.environ.get("POSTERAPP_BIND", "127.0.0.1:8000")
# Rendering is CPU work: one worker per core; sync workers keep a slow client from
# stalling others only behind a buffering proxy (nginx, a CDN), which production has.
workers = int(os.environ.get("POSTERAPP_WORKERS", os.cpu_count() or 2))
# A poster renders in ~10 ms; a worker silent for 30 s is stuck and gets replaced, and the
# request gets a 502 instead of hanging.
timeout = int(os.environ.get("POSTERAPP_WORKER_TIMEOUT", 30))
# On SIGHUP or SIGTERM, workers finish what they are doing for up to 20 s.
graceful_timeout = 20
keepalive = 5
# Recycle workers now and then, staggered, so memory can never creep up for weeks.
max_requests = 20000
max_requests_jitter = 2000
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeats off the disk

# One JSON object per request on stdout, for log shippers.
accesslog = "-"
access_log_format = (
    '{"time": "%(t)s", "client": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
    '"query": "%(q)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s, '
    '"referer": "%(f)s", "agent": "%(a)s", "worker": "%(p)s"}'
)

# Workers write their metrics here so that /metrics can add up all of them.
_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _metrics_dir = tempfile.mkdtemp(prefix="posterapp-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_exit(server):
    if _metrics_dir:  # only the folder this server made; an operator's own is left alone
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

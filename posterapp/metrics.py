"""Prometheus metrics, correct with several gunicorn workers (multiprocess mode).

Under gunicorn, ``gunicorn.conf.py`` sets PROMETHEUS_MULTIPROC_DIR before the workers start,
so every worker writes its numbers there and ``/metrics`` adds them up (counters of workers
that have exited included).
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

RENDER_SECONDS = Histogram(
    "posterapp_render_seconds",
    "Time to draw and encode a poster's PNG",
    ["layout"],
    buckets=(0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0),
)
POSTERS = Counter("posterapp_posters_total", "Posters made", ["referred"])
REQUESTS = Counter("posterapp_http_requests_total", "HTTP responses", ["method", "status"])
ERRORS = Counter("posterapp_errors_total", "Responses with a 5xx status", ["status"])
WORKER_TIMEOUTS = Counter(
    "posterapp_worker_timeouts_total", "Workers ended by gunicorn for being stuck past the timeout"
)


def count_worker_timeout() -> None:
    """Count a worker that gunicorn is ending for a timeout, and the 502 its client gets.

    Called from gunicorn's ``worker_abort`` hook in the dying worker: no Flask handler sees
    that request end, so ``count`` in web/ops.py cannot.
    """
    WORKER_TIMEOUTS.inc()
    ERRORS.labels("502").inc()


def exposition() -> tuple[bytes, str]:
    """Return the metrics of every worker, in Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST

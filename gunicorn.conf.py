"""gunicorn settings for posterapp, read from this folder: `gunicorn 'posterapp:create_app()'`.

`python3 dev.py run`, the Dockerfile and the tests' servers all start gunicorn here, so they
all run with these settings. Each can be changed on the command line (--workers, --bind …)
or through POSTERAPP_WORKERS, POSTERAPP_BIND and POSTERAPP_WORKER_TIMEOUT, read here with
every other POSTERAPP_* setting (posterapp/settings.py): a bad one stops the server here, once,
with a message saying what to write, before any worker starts. Supervising it:
docs/production.md.
"""

import ctypes
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from posterapp import settings as posterapp_settings

try:
    _settings = posterapp_settings.load()
except posterapp_settings.SettingsError as error:
    # One line for the log, no traceback: the message says which variable and what to write.
    print(f"posterapp: {error}", file=sys.stderr, flush=True)
    sys.exit(1)

bind = _settings.BIND
# Rendering is CPU work: one worker per core.
workers = _settings.WORKERS

# gevent workers, so that slow clients cost a greenlet each instead of a whole worker.
# Measured on the 2-core machine, two workers, GET / while N sockets dribble a request
# header one byte a second (docs/reliability.md, round two):
#   sync (before):        N=2: 31 s (until the 30 s socket timeout); N=100, 200: no answer
#   gthread, 8 threads:   the header is read inside a pool thread, so N ≥ 16 sockets pin
#                         every thread: N=100, 200: no answer, like sync
#   gevent:               N=2, 100, 200: GET / in a few milliseconds
# gevent also keeps the render budget (posters.time_budget, SIGALRM) working: greenlets run
# in the main thread, where signals arrive, and a render is CPU work that never yields, so
# the alarm interrupts the render it was set for. Under gthread requests run in other
# threads, where no alarm can reach them. psycopg 3 and redis-py wait cooperatively once
# gevent has patched the standard library (which the worker does before loading the app).
worker_class = "gevent"
# Open connections per worker, slow or not; a request waiting for a worker is cheap.
worker_connections = 1000

# A poster renders in ~10 ms; a worker silent for 30 s is stuck and gets replaced, and the
# request gets a 502 instead of hanging (counted on /metrics: see worker_abort below).
timeout = _settings.WORKER_TIMEOUT
# On SIGHUP or SIGTERM, workers finish what they are doing for up to 20 s.
graceful_timeout = 20
# Also how long a worker waits for a request's header: a client dribbling it is cut off.
keepalive = 5
# Recycle workers now and then, staggered, so memory can never creep up for weeks.
max_requests = 20000
max_requests_jitter = 2000
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"  # heartbeats off the disk
# No reuse_port: in gunicorn 27 it gives every worker a listening socket of its own, so a
# worker busy rendering keeps the connections the kernel hashed to it, and the connections
# queued on a worker that exits (recycled, timed out) are reset. A restart after the master
# was killed binds at once anyway: its workers die with it (post_fork below) and close the
# shared socket within milliseconds.

# One JSON object per request on stdout, for log shippers.
accesslog = "-"
access_log_format = (
    '{"time": "%(t)s", "client": "%(h)s", "method": "%(m)s", "path": "%(U)s", '
    '"query": "%(q)s", "status": %(s)s, "bytes": "%(B)s", "ms": %(M)s, '
    '"referer": "%(f)s", "agent": "%(a)s", "worker": "%(p)s"}'
)


# Workers write their metrics into one folder so that /metrics can add up all of them. The
# folder is named after the master that made it (pid and start time), so that a server
# starting after a crash can tell a dead master's folder from a live one's.
METRICS_PREFIX = "posterapp-metrics-"


def started(pid: int) -> str | None:
    """Return when process ``pid`` started (clock ticks since boot), "" if unknown, None if dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        if Path("/proc/self/stat").exists():
            return None
        try:  # no /proc (macOS): only whether the process exists
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    return stat.rsplit(")", 1)[1].split()[19]  # field 22, counted after the command name


def metrics_dir_owner(name: str) -> tuple[int, str] | None:
    """Return the (pid, start time) a metrics folder's name records, or None for others."""
    if not name.startswith(METRICS_PREFIX):
        return None
    pid, _, rest = name[len(METRICS_PREFIX) :].partition("-")
    start, _, _ = rest.partition("-")
    return (int(pid), start) if pid.isdigit() else None


def remove_stale_metrics_dirs(parent: str) -> list[str]:
    """Remove the metrics folders of masters that are gone; return their paths."""
    removed = []
    for entry in Path(parent).glob(METRICS_PREFIX + "*"):
        owner = metrics_dir_owner(entry.name)
        if not entry.is_dir() or owner is None:
            continue
        pid, start = owner
        now = started(pid)
        # Same pid but another start time: the pid was reused (a container's pid 1 is).
        if now is None or (start and now and now != start):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(str(entry))
    return removed


def own_metrics_dir(path: str) -> bool:
    owner = metrics_dir_owner(Path(path).name)
    return owner is not None and owner == (os.getpid(), started(os.getpid()))


_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if not _metrics_dir:
    remove_stale_metrics_dirs(tempfile.gettempdir())
    _metrics_dir = tempfile.mkdtemp(prefix=f"{METRICS_PREFIX}{os.getpid()}-{started(os.getpid())}-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
elif not own_metrics_dir(_metrics_dir):  # gunicorn reads this file again on SIGHUP
    _metrics_dir = None  # an operator's own folder: theirs to manage


def on_exit(server):
    if _metrics_dir:  # only the folder this server made; an operator's own is left alone
        shutil.rmtree(_metrics_dir, ignore_errors=True)


def post_fork(server, worker):
    # When the master dies, even by SIGKILL, the kernel sends its workers SIGTERM: they stop
    # accepting at once instead of serving on as orphans. (gunicorn's own check of the
    # parent pid runs only between requests, once a second at best.)
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != server.pid:  # the master died before prctl took effect
            os.kill(os.getpid(), signal.SIGTERM)


def worker_abort(worker):
    # The master found this worker stuck (silent for `timeout` seconds) and is ending it:
    # whoever is waiting on it gets no answer from it, a 502 from the proxy in front. No
    # Flask handler sees that, so count it here, in the worker's own metrics file.
    from posterapp import metrics

    metrics.count_worker_timeout()
    # Exit here: the SystemExit gunicorn raises next would land in the stuck request's
    # greenlet, which the gevent worker swallows, and the aborted worker would go on.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(1)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

"""Mixed load for a while: new posters, share pages and images, from client threads.

    .venv/bin/python bench/load.py [--seconds 60] [--connections 64] [--short] [--json]
                                   [--url http://127.0.0.1:8000]

Without --url it starts its own server (gunicorn, two workers, SQLite in a temporary folder)
and stops it afterwards. Each connection is a thread with its own http.client connection
(kept alive when the server allows; gunicorn's sync workers close it after each answer),
doing: 20 % a new poster (POST /api/posters, then GET of its image), 50 % a share page of a
known poster (GET /s/<id>), 30 % a poster image (GET /p/<id>.png). Any answer other than
2xx/3xx, or any exception, is an error; the script exits 1 if there was one. It talks to
loopback only and stops by itself at the deadline (--short: 8 s, 16 connections).
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import start, stop  # noqa: E402

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIX = (("new", 0.20), ("share", 0.50), ("image", 0.30))
KINDS = ("create", "create_image", "share", "image")  # "new" is a create and its first image
NAMES = ["小满", "Lily", "", "阿布", "王小二"]
PNG = b"\x89PNG\r\n\x1a\n"
TIMEOUT = 30  # as gunicorn's worker timeout: a request never waits longer than a worker lives


@dataclass(frozen=True)
class Sample:
    """One request: what, when it started (seconds since the load began), how long, outcome."""

    kind: str
    started: float
    seconds: float
    status: int | None  # None: no HTTP answer (an exception)
    error: str | None  # None: a 2xx/3xx answer that looked right


@dataclass
class LoadResult:
    """Everything a load run saw; faults.py reads the samples and the acknowledged posters."""

    url: str
    seconds: float
    connections: int
    samples: list[Sample]
    acknowledged: list[str]  # every poster id answered with a 201, seeds included
    began: float  # time.monotonic() when the load began; Sample.started counts from here
    seeded: int = 0  # how many of the acknowledged posters were made before the clock started
    extra: dict = field(default_factory=dict)


def check_loopback(url: str) -> tuple[str, int]:
    """Return host and port of a loopback http URL; refuse anything else."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in LOOPBACK:
        raise ValueError(f"{url}: only http:// on loopback (127.0.0.1, localhost, ::1)")
    return parts.hostname, parts.port or 80


def connect(url: str) -> http.client.HTTPConnection:
    host, port = check_loopback(url)
    return http.client.HTTPConnection(host, port, timeout=TIMEOUT)


def catalog_ids(url: str) -> list[str]:
    connection = connect(url)
    try:
        connection.request("GET", "/api/catalog")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /api/catalog: {response.status} {body[:200]!r}")
        return [choice["id"] for choice in json.loads(body)["choices"]]
    finally:
        connection.close()


class Client:
    """One connection's requests, each timed and judged; reconnects after any exception."""

    def __init__(self, url: str, began: float, samples: list[Sample]):
        self.url = url
        self.began = began
        self.samples = samples
        self.connection = connect(url)

    def call(self, kind: str, method: str, path: str, body: dict | None = None):
        """Send one request; record a Sample; return (status, body) or None on an exception."""
        started = time.monotonic()
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body) if body is not None else None
        try:
            self.connection.request(method, path, data, headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            # The worker went away mid-request (or never answered): start a new connection.
            self.connection.close()
            self.connection = connect(self.url)
            self._record(kind, started, None, type(exc).__name__)
            return None
        error = None
        if not 200 <= response.status < 400:
            error = f"http_{response.status}"
        elif kind in {"image", "create_image"} and not content.startswith(PNG):
            error = "not_png"
        self._record(kind, started, response.status, error)
        return response.status, content

    def _record(self, kind, started, status, error) -> None:
        ended = time.monotonic()
        self.samples.append(Sample(kind, started - self.began, ended - started, status, error))

    def new_poster(self, ids: list[str], rng: random.Random) -> str | None:
        """Make a poster and fetch its image; return its id when it was acknowledged (201)."""
        body = {"choices": rng.sample(ids, rng.randint(1, 12)), "name": rng.choice(NAMES)}
        answer = self.call("create", "POST", "/api/posters", body)
        if answer is None or answer[0] != 201:
            return None
        poster_id = json.loads(answer[1])["id"]
        self.call("create_image", "GET", f"/p/{poster_id}.png")
        return poster_id


def seed(url: str, ids: list[str], count: int) -> list[str]:
    """Make a few posters before the clock starts, so that reads have something to read."""
    client = Client(url, time.monotonic(), [])
    rng = random.Random(0)
    made = [client.new_poster(ids, rng) for _ in range(count)]
    client.connection.close()
    if None in made:
        raise RuntimeError(f"could not make the seed posters: {client.samples[-1]}")
    return made


def run_load(
    url: str,
    seconds: float,
    connections: int,
    seed_posters: int = 16,
    on_begin: Callable[[float], None] | None = None,
) -> LoadResult:
    """Run the mixed load against ``url`` for ``seconds``; return every sample."""
    ids = catalog_ids(url)
    known = seed(url, ids, seed_posters)
    acknowledged = list(known)
    began = time.monotonic()
    if on_begin:  # faults.py times its fault from here (seeding is not part of the load)
        on_begin(began)
    deadline = began + seconds
    per_thread: list[list[Sample]] = [[] for _ in range(connections)]

    def work(index: int) -> None:
        rng = random.Random(1000 + index)
        client = Client(url, began, per_thread[index])
        try:
            while time.monotonic() < deadline:
                roll = rng.random()
                if roll < MIX[0][1]:
                    made = client.new_poster(ids, rng)
                    if made:
                        # list.append is atomic under the GIL: no lock needed.
                        acknowledged.append(made)
                        known.append(made)
                elif roll < MIX[0][1] + MIX[1][1]:
                    client.call("share", "GET", f"/s/{rng.choice(known)}")
                else:
                    client.call("image", "GET", f"/p/{rng.choice(known)}.png")
        finally:
            client.connection.close()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        # Bounded: each thread stops at the deadline, after at most one request's timeout.
        thread.join(timeout=seconds + 2 * TIMEOUT + 5)
    samples = sorted((s for part in per_thread for s in part), key=lambda s: s.started)
    return LoadResult(url, seconds, connections, samples, acknowledged, began, seed_posters)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile, in milliseconds; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] * 1000, 1)


def summarize(samples: list[Sample], seconds: float) -> dict:
    """Count requests and errors, and p50/p99 latency, overall and for each kind."""

    def figures(group: list[Sample]) -> dict:
        errors: dict[str, int] = {}
        for sample in group:
            if sample.error:
                errors[sample.error] = errors.get(sample.error, 0) + 1
        times = [s.seconds for s in group]
        return {
            "requests": len(group),
            "errors": sum(errors.values()),
            "error_kinds": errors,
            "p50_ms": percentile(times, 0.50),
            "p99_ms": percentile(times, 0.99),
        }

    overall = figures(samples)
    overall["per_second"] = round(len(samples) / seconds, 1) if seconds else 0.0
    overall["kinds"] = {kind: figures([s for s in samples if s.kind == kind]) for kind in KINDS}
    return overall


def report(result: LoadResult) -> dict:
    summary = summarize(result.samples, result.seconds)
    return {
        "url": result.url,
        "seconds": result.seconds,
        "connections": result.connections,
        "posters_made": len(result.acknowledged) - result.seeded,
        **summary,
        **result.extra,
    }


def print_table(figures: dict) -> None:
    print(
        f"mixed load: {figures['connections']} connections for {figures['seconds']:g} s "
        f"against {figures['url']}"
    )
    print(f"{'kind':<14}{'requests':>10}{'errors':>8}{'p50 ms':>10}{'p99 ms':>10}")
    for kind, row in figures["kinds"].items():
        print(
            f"{kind:<14}{row['requests']:>10}{row['errors']:>8}"
            f"{row['p50_ms']:>10}{row['p99_ms']:>10}"
        )
    print(
        f"{'all':<14}{figures['requests']:>10}{figures['errors']:>8}"
        f"{figures['p50_ms']:>10}{figures['p99_ms']:>10}   {figures['per_second']} req/s"
    )
    print(f"posters made: {figures['posters_made']}")
    if figures["errors"]:
        print(f"ERRORS: {figures['error_kinds']}")


def watchdog(seconds: float) -> None:
    """Raise in the main thread after ``seconds``: a stuck run still ends, and cleans up."""

    def expire(_signum, _frame):
        raise TimeoutError(f"gave up after {seconds:.0f} s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(math.ceil(seconds))


def own_server(workers: int = 2, env: dict | None = None):
    """Start gunicorn on SQLite in a new temporary folder; return (url, process, folder)."""
    data = Path(tempfile.mkdtemp(prefix="posterapp-load-"))
    try:
        url, process = start(
            data, workers=workers, env={"POSTERAPP_WORKERS": str(workers), **(env or {})}
        )
    except BaseException:
        shutil.rmtree(data, ignore_errors=True)
        raise
    return url, process, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--short", action="store_true", help="8 s at 16 connections (for CI)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--url", help="a running posterapp on loopback (default: start one)")
    args = parser.parse_args()
    if args.short:
        args.seconds, args.connections = 8, 16
    if args.url:
        try:
            check_loopback(args.url)
        except ValueError as error:
            parser.error(str(error))
    watchdog(args.seconds + 2 * TIMEOUT + 120)

    server = data = None
    try:
        if args.url:
            url = args.url.rstrip("/")
        else:
            url, server, data = own_server()
        result = run_load(url, args.seconds, args.connections)
        result.extra["server"] = "given" if args.url else "own: gunicorn, 2 workers, SQLite"
    finally:
        if server is not None:
            stop(server)
            shutil.rmtree(data, ignore_errors=True)
    figures = report(result)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print_table(figures)
    sys.exit(1 if figures["errors"] else 0)


if __name__ == "__main__":
    main()

"""HTTP speed: posterapp against a bare Flask send_file, and how fast posters are made.

    .venv/bin/python bench/serve.py [--seconds 10] [--connections 64] [--json]

Both servers run under gunicorn with two workers on this machine, with the load generator
(wrk, from Debian: `apt-get install wrk`) on the same machine, measured in the same run.
Then threads make new posters (POST, then the first GET of the image) for a while, and
one client makes posters one at a time for the single-poster latency.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import free_port, start, stop  # noqa: E402


def wrk(url: str, seconds: int, connections: int) -> float:
    done = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))


def start_bare(png: Path) -> tuple[str, subprocess.Popen]:
    port = free_port()
    env = {**os.environ, "BENCH_PNG": str(png)}
    # The same gunicorn settings (and access log) as posterapp's, for a fair comparison.
    config = str(ROOT / "gunicorn.conf.py")
    command = [sys.executable, "-m", "gunicorn", "-c", config, "--workers", "2",
               "--bind", f"127.0.0.1:{port}", "bare_app:create_app()"]  # fmt: skip
    log = open(png.parent / "bare.log", "wb")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(command, cwd=ROOT / "bench", env=env, start_new_session=True,
                               stdout=log, stderr=log)  # fmt: skip
    log.close()
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/p/x.png")
            if connection.getresponse().status == 200:
                return f"http://127.0.0.1:{port}", process
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the bare app did not start")


def make_poster(connection: http.client.HTTPConnection, ids: list[str], rng) -> float:
    """POST a new poster and GET its image; return the seconds both took."""
    body = json.dumps({"choices": rng.sample(ids, rng.randint(1, 12)),
                       "name": rng.choice(["小满", "Lily", ""])})  # fmt: skip
    started = time.perf_counter()
    connection.request("POST", "/api/posters", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    made = json.loads(response.read())
    if response.status != 201:
        raise RuntimeError(made)
    connection.request("GET", f"/p/{made['id']}.png")
    image = connection.getresponse()
    image.read()
    if image.status != 200:
        raise RuntimeError(f"image: {image.status}")
    return time.perf_counter() - started


def posters_per_second(base: str, ids: list[str], seconds: float, threads: int) -> float:
    host, port = base.removeprefix("http://").split(":")
    count = [0] * threads
    stop_at = time.monotonic() + seconds

    def worker(index: int) -> None:
        rng = random.Random(index)
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop_at:
            make_poster(connection, ids, rng)
            count[index] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(count) / (time.monotonic() - started)


def workers_rss_mb(master: int) -> list[float]:
    """Return the resident memory of each gunicorn worker under ``master``, in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/serve.py needs wrk: apt-get install wrk")

    data = Path(tempfile.mkdtemp(prefix="posterapp-bench-"))
    env = {"POSTERAPP_WORKERS": "2"}
    base, server = start(data, env=env)
    bare_base = bare = None
    try:
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=30)
        connection.request("GET", "/api/catalog")
        ids = [c["id"] for c in json.loads(connection.getresponse().read())["choices"]]
        rng = random.Random(1)
        for _ in range(600):  # warm up: caches filled as a running server has them
            make_poster(connection, ids, rng)
        single = [make_poster(connection, ids, rng) for _ in range(60)]
        connection.request("POST", "/api/posters", json.dumps({"choices": ids[:5]}),
                           {"Content-Type": "application/json"})  # fmt: skip
        poster_id = json.loads(connection.getresponse().read())["id"]
        connection.request("GET", f"/p/{poster_id}.png")
        png = connection.getresponse().read()
        (data / "bare.png").write_bytes(png)
        bare_base, bare = start_bare(data / "bare.png")

        ours, theirs = [], []
        for _ in range(2):  # alternate, so neither gets a quieter moment
            ours.append(wrk(f"{base}/p/{poster_id}.png", args.seconds, args.connections))
            theirs.append(wrk(f"{bare_base}/p/x.png", args.seconds, args.connections))
        making = posters_per_second(base, ids, args.seconds, threads=8)
        worker_rss = workers_rss_mb(server.pid)
    finally:
        stop(server)
        if bare is not None:
            stop(bare)
        shutil.rmtree(data, ignore_errors=True)

    result = {
        "image_rps": round(max(ours)),
        "bare_send_file_rps": round(max(theirs)),
        "image_ratio": round(max(ours) / max(theirs), 2),
        "posters_per_s": round(making, 1),
        "single_poster_p50_ms": round(statistics.median(single) * 1000, 1),
        "single_poster_p95_ms": round(sorted(single)[int(0.95 * (len(single) - 1))] * 1000, 1),
        "worker_rss_mb": worker_rss,
        "targets": {"image_ratio_min": 0.8, "posters_per_s_min": 60, "single_p50_ms_max": 25},
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    t = result["targets"]
    rows = [
        ("cached poster image, req/s", result["image_rps"], ""),
        ("bare Flask send_file, req/s", result["bare_send_file_rps"], ""),
        ("ratio", result["image_ratio"], f"≥ {t['image_ratio_min']}"),
        (
            "new posters/s (POST + first GET)",
            result["posters_per_s"],
            f"≥ {t['posters_per_s_min']}",
        ),
        ("one new poster, p50 ms", result["single_poster_p50_ms"], f"< {t['single_p50_ms_max']}"),
        ("one new poster, p95 ms", result["single_poster_p95_ms"], ""),
        ("worker RSS after the run, MB", " / ".join(map(str, worker_rss)), "< 150"),
    ]
    print(f"gunicorn, 2 workers each; wrk -t2 -c{args.connections} -d{args.seconds}s; same machine")
    for label, value, target in rows:
        print(f"{label:<36}{value:>10}  {target}")


if __name__ == "__main__":
    main()

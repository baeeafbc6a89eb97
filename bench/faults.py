"""Faults under load: a worker killed, PostgreSQL restarted, a publish crashed half-way.

    .venv/bin/python bench/faults.py kill-worker      [--seconds 60] [--connections 64]
    .venv/bin/python bench/faults.py restart-postgres [--seconds 60] [--connections 64]
    .venv/bin/python bench/faults.py crash-publish    [--kills 200] [--backends sqlite postgres]

Each accepts --short (the CI form) and --json, talks to loopback only, stops by itself and
exits 1 when posterapp failed the check (2 when what it needs is missing). kill-worker and
restart-postgres run bench/load.py's mixed load against their own gunicorn (two workers) and
then fetch every poster that was acknowledged with a 201, with the image cache emptied so
that each image is rendered again from its database record. restart-postgres and the
PostgreSQL half of crash-publish use a new database on POSTERAPP_TEST_POSTGRES (default
postgres@127.0.0.1:5432, as tests/test_scale.py) and drop it afterwards; restart-postgres
restarts the local cluster with pg_ctlcluster, so nothing else should be using it.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import re
import secrets
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import load  # noqa: E402 - bench/load.py, found through the path above

from tests.servers import stop  # noqa: E402

POSTGRES = os.environ.get(
    "POSTERAPP_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# Not test_scale.py's database 15, which it empties at its start.
REDIS = os.environ.get("POSTERAPP_TEST_REDIS_FAULTS", "redis://127.0.0.1:6379/14")
POSTER_SIZE = (1080, 1920)
DB_KINDS = {"create", "share"}  # requests that need the database (cached images do not)


class Missing(Exception):
    """Something the fault needs (PostgreSQL, Redis, pg_ctlcluster) is not there."""


# Shared ---------------------------------------------------------------------------------


def worker_pids(master: int) -> list[int]:
    """Return the pids of a gunicorn master's workers (its children)."""
    path = Path(f"/proc/{master}/task/{master}/children")
    return sorted(int(pid) for pid in path.read_text().split())


def clear_image_cache(data_dir: Path) -> None:
    # The cache is only a cache: without it, every image below is rendered from its record.
    shutil.rmtree(data_dir / "images", ignore_errors=True)


def fetch(url: str, path: str, attempts: int = 3) -> tuple[int | None, bytes]:
    """GET a path, retrying connection failures (a check must not fail on a busy server)."""
    for attempt in range(attempts):
        connection = load.connect(url)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            time.sleep(0.5 * (attempt + 1))
        finally:
            connection.close()
    return None, b""


def check_poster(url: str, poster_id: str) -> str:
    """Return 'ok', 'lost' (no record) or what else is wrong with an acknowledged poster."""
    from PIL import Image

    status, body = fetch(url, f"/api/posters/{poster_id}")
    if status == 404:
        return "lost"
    if status != 200 or json.loads(body).get("id") != poster_id:
        return f"record_http_{status}"
    status, body = fetch(url, f"/p/{poster_id}.png")
    if status != 200:
        return f"image_http_{status}"
    try:
        with Image.open(io.BytesIO(body)) as image:
            size = image.size
            image.verify()  # every chunk's CRC: a whole PNG, not a cut-off one
    except Exception:  # noqa: BLE001 - anything Pillow refuses is a bad image
        return "image_unreadable"
    return "ok" if size == POSTER_SIZE else f"image_size_{size[0]}x{size[1]}"


def verify_posters(url: str, poster_ids: list[str], threads: int = 4) -> dict:
    """Check that every acknowledged poster is still there and renders at 1080×1920."""
    with ThreadPoolExecutor(threads) as pool:
        verdicts = dict(zip(poster_ids, pool.map(lambda i: check_poster(url, i), poster_ids),
                            strict=True))  # fmt: skip
    problems = {i: v for i, v in verdicts.items() if v != "ok"}
    return {
        "acknowledged": len(poster_ids),
        "found": sum(v != "lost" for v in verdicts.values()),
        "rendered": sum(v == "ok" for v in verdicts.values()),
        "lost": sum(v == "lost" for v in verdicts.values()),
        "problems": dict(Counter(problems.values())),
        "problem_ids": sorted(problems)[:20],
    }


def outcome_of(sample: load.Sample) -> str:
    return str(sample.status) if sample.status is not None else sample.error


def loopback_url(url: str) -> str:
    if urlsplit(url).hostname not in load.LOOPBACK:
        raise Missing(f"{url}: the faults only touch a PostgreSQL on loopback")
    return url


def postgres_database(prefix: str) -> tuple[str, object]:
    """Create a new database; return its URL and the admin engine that drops it later."""
    import sqlalchemy as sa

    admin = sa.create_engine(loopback_url(POSTGRES), isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as db:
            db.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.dispose()
        raise Missing(
            f"PostgreSQL is not reachable at {POSTGRES} ({type(error.orig).__name__}); start it: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        ) from None
    return sa.make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), admin


def drop_database(admin, url: str) -> None:
    import sqlalchemy as sa

    name = sa.make_url(url).database
    for _ in range(30):  # right after a restart the cluster may still be starting up
        try:
            with admin.connect() as db:
                db.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            break
        except sa.exc.OperationalError:
            time.sleep(1)
    admin.dispose()


def run_with_fault(url: str, seconds: float, connections: int, at: float, fault) -> tuple:
    """Run the load in a thread; at ``at`` seconds into it call ``fault(began)``."""
    began_event = threading.Event()
    holder: dict = {}

    def on_begin(began: float) -> None:
        holder["began"] = began
        began_event.set()

    def target() -> None:
        try:
            holder["result"] = load.run_load(url, seconds, connections, on_begin=on_begin)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread below
            holder["error"] = error
            began_event.set()

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    began_event.wait(timeout=120)
    if "error" in holder:
        raise holder["error"]
    time.sleep(max(0.0, holder["began"] + at - time.monotonic()))
    fault_figures = fault(holder["began"])
    thread.join(timeout=seconds + 2 * load.TIMEOUT + 10)
    if "error" in holder:
        raise holder["error"]
    return holder["result"], fault_figures


# kill-worker ----------------------------------------------------------------------------


def kill_worker(args) -> dict:
    """Kill -9 one gunicorn worker half-way through the load; every 201 must survive."""
    url, server, data = load.own_server()
    try:
        workers_before = worker_pids(server.pid)

        def fault(began: float) -> dict:
            victim = random.choice(worker_pids(server.pid))
            os.kill(victim, signal.SIGKILL)
            killed_at = time.monotonic() - began
            replaced = None
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                now = worker_pids(server.pid)
                if len(now) == len(workers_before) and victim not in now:
                    replaced = round(time.monotonic() - began - killed_at, 2)
                    break
                time.sleep(0.05)
            return {"victim": victim, "killed_at": killed_at, "replaced_after_s": replaced}

        result, killed = run_with_fault(
            url, args.seconds, args.connections, args.seconds / 2, fault
        )
        workers_after = worker_pids(server.pid)
        at = killed["killed_at"]
        # Only a request in flight on the killed worker can lose its answer: a connection
        # error on a request that was running when the kill landed is the kill's doing.
        expected, unexpected = Counter(), Counter()
        for sample in result.samples:
            if not sample.error:
                continue
            in_flight = sample.started <= at + 0.5 and sample.started + sample.seconds >= at
            if sample.status is None and in_flight:
                expected[sample.error] += 1
            else:
                unexpected[outcome_of(sample)] += 1
        clear_image_cache(data)
        posters = verify_posters(url, result.acknowledged)
        stored = count_posters(f"sqlite:///{data / 'posterapp.db'}")
    finally:
        stop(server)
        shutil.rmtree(data, ignore_errors=True)
    figures = load.report(result)
    ok = (
        posters["lost"] == 0
        and not posters["problems"]
        and not unexpected
        and killed["replaced_after_s"] is not None
    )
    return {
        "fault": "kill-worker",
        "ok": ok,
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": figures["requests"],
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "killed_worker": killed["victim"],
        "killed_at_s": round(at, 2),
        "replaced_after_s": killed["replaced_after_s"],
        "workers_before": workers_before,
        "workers_after": workers_after,
        "errors_at_kill": dict(expected),
        "unexpected_errors": dict(unexpected),
        **posters,
        # A POST whose answer was lost with the worker may still have been stored: harmless.
        "stored_unacknowledged": stored - posters["acknowledged"],
    }


def count_posters(database_url: str) -> int:
    import sqlalchemy as sa

    from posterapp.store import Store, posters

    store = Store(database_url)
    try:
        with store.engine.connect() as db:
            return db.scalar(sa.select(sa.func.count()).select_from(posters))
    finally:
        store.close()


# restart-postgres -----------------------------------------------------------------------


def postgres_version() -> str:
    found = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if not found or not shutil.which("pg_ctlcluster"):
        raise Missing("needs a local Debian PostgreSQL cluster (pg_ctlcluster, /etc/postgresql)")
    return found[0]


def redis_reachable() -> str:
    import redis

    client = redis.Redis.from_url(REDIS)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        raise Missing(
            f"Redis is not reachable at {REDIS}; start it: "
            'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""'
        ) from None
    finally:
        client.close()
    return REDIS


def postgres_ready(admin) -> bool:
    try:
        with admin.connect() as db:
            db.exec_driver_sql("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means "not yet"
        return False


def restart_postgres(args) -> dict:
    """Restart PostgreSQL under load: posterapp must recover by itself and lose nothing."""
    version = postgres_version()
    redis_url = redis_reachable()
    database, admin = postgres_database("posterapp_faults")
    server = data = None
    try:
        env = {"POSTERAPP_DATABASE_URL": database, "POSTERAPP_REDIS_URL": redis_url}
        made = subprocess.run(
            [str(Path(sys.executable).with_name("posterapp")), "init-db"],
            env={**os.environ, **env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(f"posterapp init-db failed: {made.stderr[-2000:]}")
        url, server, data = load.own_server(env=env)
        workers_before = worker_pids(server.pid)
        health: list[tuple[float, str]] = []
        stop_probe = threading.Event()

        def probe(began: float) -> None:
            # What a load balancer would see: /healthz ten times a second through the fault.
            while not stop_probe.is_set():
                started = time.monotonic() - began
                status, _ = fetch(url, "/healthz", attempts=1)
                health.append((started, str(status)))
                stop_probe.wait(0.1)

        def fault(began: float) -> dict:
            threading.Thread(target=probe, args=(began,), daemon=True).start()
            restart_at = time.monotonic() - began
            done = subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"pg_ctlcluster restart failed: {done.stderr}")
            while not postgres_ready(admin):
                time.sleep(0.05)
            return {"restart_at": restart_at, "back_at": time.monotonic() - began}

        at = args.seconds * 0.3
        result, restarted = run_with_fault(url, args.seconds, args.connections, at, fault)
        stop_probe.set()
        workers_after = worker_pids(server.pid)
        figures = outage_figures(result.samples, restarted, health)
        clear_image_cache(data)
        posters = verify_posters(url, result.acknowledged)
    finally:
        if server is not None:
            stop(server)
            shutil.rmtree(data, ignore_errors=True)
        drop_database(admin, database)
    ok = (
        figures["recovered"]
        and not figures["errors_after_recovery"]
        and not figures["errors_before_restart"]
        and posters["lost"] == 0
        and not posters["problems"]
        and workers_before == workers_after
    )
    return {
        "fault": "restart-postgres",
        "ok": ok,
        "seconds": args.seconds,
        "connections": args.connections,
        "requests": len(result.samples),
        "postgresql": version,
        "workers_before": workers_before,
        "workers_after": workers_after,
        "posterapp_restarted": workers_before != workers_after,
        **figures,
        **posters,
    }


def outage_figures(samples: list[load.Sample], restarted: dict, health: list) -> dict:
    """Split errors into before, during and after the outage; find the recovery."""
    restart_at, back_at = restarted["restart_at"], restarted["back_at"]
    # Recovered: the first request that needs the database, sent after PostgreSQL is back,
    # and answered well.
    recovered_at = next(
        (
            s.started + s.seconds
            for s in samples
            if s.kind in DB_KINDS and s.started >= back_at and not s.error
        ),
        None,
    )
    before, during, after = Counter(), Counter(), Counter()
    failing = []  # when the outage's errors started and ended
    for sample in samples:
        if not sample.error:
            continue
        if sample.started + sample.seconds < restart_at:
            before[outcome_of(sample)] += 1
        elif recovered_at is None or sample.started <= recovered_at:
            during[outcome_of(sample)] += 1
            failing += [sample.started, sample.started + sample.seconds]
        else:
            after[outcome_of(sample)] += 1
    health_statuses = Counter(status for started, status in health if started <= back_at)
    return {
        "restart_at_s": round(restart_at, 2),
        "restart_took_s": round(back_at - restart_at, 2),
        "recovered": recovered_at is not None,
        # From "PostgreSQL accepts connections again" to the first good database request.
        "recovery_after_back_s": round(recovered_at - back_at, 3) if recovered_at else None,
        # From the first failed request to the last one, both counted from the restart.
        "errors_from_s": round(min(failing) - restart_at, 2) if failing else None,
        "errors_until_s": round(max(failing) - restart_at, 2) if failing else None,
        "statuses_during_outage": dict(during),
        "healthz_while_restarting": dict(health_statuses),
        "errors_before_restart": dict(before),
        "errors_after_recovery": dict(after),
        "requests_after_recovery": sum(
            1 for s in samples if recovered_at is not None and s.started > recovered_at
        ),
    }


# crash-publish --------------------------------------------------------------------------

EDITED = 6  # labels changed together in each publish: a half-applied one would show a mix
STAFF = "crash.check"


def edit_labels(text: str, choice_ids: list[str], round_: int) -> tuple[str, list[str]]:
    """Return the catalog text with these choices' labels changed for this round, and them."""
    labels = []
    for choice_id in choice_ids:
        pattern = re.compile(rf"(- id: {re.escape(choice_id)}\n\s+label: )([^\n]*)")
        original = pattern.search(text).group(2)
        label = f"{original[:6]}{round_:04d}"  # 4–11 characters, as the catalog requires
        text = pattern.sub(lambda m, label=label: m.group(1) + label, text, count=1)
        labels.append(label)
    return text, labels


def publish_child(database_url: str, data_dir: Path, text: str, base: int, who: str,
                  kill_point: int | None, pipe: int) -> None:  # fmt: skip
    """In the forked child: publish through Studio.publish, as the console does; maybe die."""
    import sqlalchemy as sa

    from posterapp.assets import Assets
    from posterapp.cache import ImageCache
    from posterapp.posters import Studio
    from posterapp.store import Store

    def say(line: str) -> None:
        os.write(pipe, (line + "\n").encode())

    store = Store(database_url)
    site = Studio(
        store=store,
        cache=ImageCache(data_dir / "images"),
        public_url="http://127.0.0.1",
        assets=Assets(ROOT / "assets", uploads=store.upload),
    )
    if kill_point is not None:
        points = [0]

        def point(what: str) -> None:
            points[0] += 1
            if points[0] == kill_point:
                say(f"point {kill_point} {what}")
                os.kill(os.getpid(), signal.SIGKILL)

        # Every statement, every commit (before it reaches the database) and every return of
        # a connection to the pool (after its commit) is a place to die.
        sa.event.listen(
            store.engine,
            "before_cursor_execute",
            lambda conn, cursor, statement, *rest: point(" ".join(statement.split()[:3])),
        )
        sa.event.listen(store.engine, "commit", lambda conn: point("commit"))
        sa.event.listen(store.engine.pool, "checkin", lambda *rest: point("after commit"))
    say("ready")
    try:
        publication = site.publish(text, who=who, base=base)
    except Exception as error:  # noqa: BLE001 - reported to the parent, which fails the round
        say(f"error {type(error).__name__}: {error}".replace("\n", " ")[:500])
        return
    say(f"published {publication.id} {publication.version}")


def crash_once(database_url: str, data_dir: Path, text: str, base: int, who: str,
               kill_point: int | None, delay: float | None) -> dict:  # fmt: skip
    """Fork a publishing child; SIGKILL it after ``delay`` s, or let it die at a point, or not."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        try:
            publish_child(database_url, data_dir, text, base, who, kill_point, write_end)
        finally:
            os._exit(0)  # no atexit, no pool clean-up: the parent's connections stay its own
    os.close(write_end)
    said = b""
    deadline = time.monotonic() + 60
    while b"ready" not in said and time.monotonic() < deadline:
        readable, _, _ = select.select([read_end], [], [], 1)
        if readable:
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            said += chunk
    ready = time.monotonic()
    if delay is not None:
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    seconds = time.monotonic() - ready
    while chunk := os.read(read_end, 4096):
        said += chunk
    os.close(read_end)
    lines = said.decode().splitlines()
    published = next((line.split()[1:] for line in lines if line.startswith("published")), None)
    # "3 after commit": the third place to die in the publish, and what it was.
    died_at = next((line.split(" ", 1)[1] for line in lines if line.startswith("point")), None)
    error = next((line.split(" ", 1)[1] for line in lines if line.startswith("error")), None)
    return {
        "delay_ms": round(delay * 1000, 1) if delay is not None else None,
        "published": published,  # [id, version] when the child saw publish() return
        "died_at": died_at,
        "error": error,  # the publish raised instead of completing: never expected here
        "killed": os.WIFSIGNALED(status),
        "seconds": seconds,  # from "ready" to the child's end
    }


def sign_in(console, password: str) -> None:
    """Sign the console client in as staff would: the login form, with its CSRF token."""
    page = console.get("/admin/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    answer = console.post(
        "/admin/login", data={"name": STAFF, "password": password, "csrf_token": token}
    )
    if answer.status_code != 302:
        raise RuntimeError(f"could not sign in to the console: {answer.status_code}")


def crash_publish_backend(backend: str, kills: int, max_delay: float | None) -> dict:
    """Publish-and-crash ``kills`` times on one database; check the live catalog after each."""
    import tempfile

    from posterapp import create_app, staff, versions
    from posterapp.store import Store

    data = Path(tempfile.mkdtemp(prefix=f"posterapp-crash-{backend}-"))
    admin = site = None
    if backend == "postgres":
        database_url, admin = postgres_database("posterapp_crash")
        schema = Store(database_url)
        schema.create_schema()
        schema.close()
    else:
        database_url = f"sqlite:///{data / 'posterapp.db'}"
    try:
        # The console in this process, to read what it says is live after each crash.
        app = create_app({
            "TESTING": True, "DATA_DIR": str(data), "DATABASE_URL": database_url,
            "REDIS_URL": "", "PUBLIC_URL": "http://127.0.0.1",
        })  # fmt: skip
        site = app.extensions["posterapp"]
        password = secrets.token_urlsafe(16)
        staff.add_user(site.store, STAFF, password)
        console = app.test_client()
        sign_in(console, password)
        original = (ROOT / "choices" / "default.yaml").read_text(encoding="utf-8")
        choice_ids = [c.id for c in site.active.catalog.choices[::17][:EDITED]]
        rounds, problems = [], []
        point = 0
        # Three publishes without a kill first: how long one takes here (the first of them
        # is slower, warming up), to aim the random kills at the publish, not after its end.
        plain = []
        for warm_up in range(3):
            text, _ = edit_labels(original, choice_ids, 9000 + warm_up)
            versions.load_text(text, "catalog.yaml", site.assets)  # as before each round
            site.store.engine.dispose()
            done = crash_once(database_url, data, text, site.store.live().id, "warm-up",
                              None, None)  # fmt: skip
            if not done["published"]:
                raise RuntimeError(f"a publish without a kill did not complete: {done}")
            plain.append(done["seconds"])
        publish_seconds = min(plain)
        if max_delay is None:
            max_delay = min(0.3, max(0.01, 1.5 * publish_seconds))
        for round_ in range(1, kills + 1):
            old = site.store.live()
            old_labels = labels_of(site.store.load_version(old.version), choice_ids)
            text, new_labels = edit_labels(original, choice_ids, round_)
            new_version = versions.load_text(text, "catalog.yaml", site.assets).version
            # Half the rounds die at a random moment, half at the next statement or commit in
            # turn: random delays alone would almost never land inside the few ms of SQL.
            stepped = round_ % 2 == 0
            if stepped:
                point += 1
            site.store.engine.dispose()  # nothing of this process's pool crosses the fork
            crash = crash_once(
                database_url, data, text, old.id, f"crash-{round_}",
                point if stepped else None, None if stepped else random.uniform(0, max_delay),
            )  # fmt: skip
            if stepped and crash["died_at"] is None:
                point = 0  # past the last point: the publish completed; start again
            verdict = check_live(
                database_url, console, old, old_labels, new_version, new_labels, choice_ids,
                f"crash-{round_}", text, crash,
            )  # fmt: skip
            rounds.append({"round": round_, "mode": "point" if stepped else "timed",
                           **crash, **verdict})  # fmt: skip
            if verdict["problems"]:
                problems.append({"round": round_, **crash, "problems": verdict["problems"]})
        live = site.store.live()
        history = check_history(console, live)
        integrity = database_integrity(database_url)
        served = served_version(app, site)
        if served != live.version:
            problems.append({"problems": [f"the API serves {served}, not live {live.version}"]})
    finally:
        if site is not None:
            site.store.close()
        if admin is not None:
            drop_database(admin, database_url)
        shutil.rmtree(data, ignore_errors=True)
    outcomes = Counter(r["outcome"] for r in rounds)
    return {
        "backend": backend,
        "rounds": kills,
        "publish_ms": round(publish_seconds * 1000, 1),  # one whole publish, not killed
        "max_delay_ms": round(max_delay * 1000, 1),
        # Killed by SIGKILL; the others finished their publish before the kill could land.
        "killed": sum(r["killed"] for r in rounds),
        "finished_before_kill": sum(not r["killed"] for r in rounds),
        "old": outcomes.get("old", 0),
        "new": outcomes.get("new", 0),
        "mixes": sum(r["mix"] for r in rounds),
        "other": sum(outcomes.values()) - outcomes.get("old", 0) - outcomes.get("new", 0),
        "by_mode": {
            mode: dict(Counter(r["outcome"] for r in rounds if r["mode"] == mode))
            for mode in ("timed", "point")
        },
        "acknowledged_then_lost": sum(
            1 for r in rounds if r["published"] and r["outcome"] != "new"
        ),
        "kill_points": {
            point: dict(Counter(r["outcome"] for r in rounds if r["died_at"] == point))
            for point in sorted(
                {r["died_at"] for r in rounds if r["died_at"]}, key=lambda p: int(p.split()[0])
            )
        },
        "console_history_ok": history,
        "integrity": integrity,
        "problems": problems[:20],
    }


def labels_of(version, choice_ids: list[str]) -> list[str]:
    return [version.catalog.choice(c).label for c in choice_ids]


def check_live(database_url, console, old, old_labels, new_version, new_labels, choice_ids,
               who, text, crash) -> dict:  # fmt: skip
    """After a crash: the live catalog is wholly the old or the new one; the console agrees."""
    from posterapp.store import Store

    problems = []
    store = Store(database_url)  # a new engine: what any server opening the database would see
    try:
        live = store.live()
        version = store.load_version(live.version)
    finally:
        store.close()
    labels = labels_of(version, choice_ids)
    if live.id == old.id and live.version == old.version:
        outcome = "old"
        expected = old_labels
    elif live.who == who and live.version == new_version and live.source == text:
        outcome = "new"
        expected = new_labels
    else:
        outcome = "other"
        expected = None
        problems.append(f"live is #{live.id} {live.version} by {live.who}: neither old nor new")
    mix = labels not in (old_labels, new_labels)
    if mix:
        problems.append(f"labels mix old and new: {labels}")
    elif expected is not None and labels != expected:
        problems.append(f"{outcome} publication carries the other side's labels: {labels}")
    if crash["error"]:
        problems.append(f"the publish failed by itself: {crash['error']}")
    if crash["published"] and outcome != "new":
        problems.append(f"publish returned {crash['published']} but {outcome} is live")
    page = console.get("/admin/catalog")
    says = f"正在使用：版本 <code>{live.version}</code>（#{live.id}，"
    if page.status_code != 200 or says not in page.get_data(as_text=True):
        problems.append(f"the console does not name #{live.id} {live.version} as live")
    return {"outcome": outcome, "mix": mix, "live": live.version, "problems": problems}


def check_history(console, live) -> bool:
    """The history page marks exactly one publication as in use: the live one."""
    page = console.get("/admin/history").get_data(as_text=True)
    marked = re.findall(r'<li class="is-live">\s*<div class="history-head">\s*'
                        r"<strong>#(\d+)</strong>\s*<code>(\w+)</code>", page)  # fmt: skip
    return marked == [(str(live.id), live.version)] and page.count("正在使用") == 1


def database_integrity(database_url: str) -> str:
    """SQLite's own integrity check; PostgreSQL recovers from a dead client by itself."""
    from posterapp.store import Store

    if not database_url.startswith("sqlite"):
        return "n/a"
    store = Store(database_url)
    try:
        with store.engine.connect() as db:
            return db.exec_driver_sql("PRAGMA integrity_check").scalar()
    finally:
        store.close()


def served_version(app, site) -> str:
    """What the API serves as the catalog once its one-second view of the live one lapses."""
    from posterapp import posters

    time.sleep(posters.LIVE_CHECK_SECONDS + 0.1)
    return json.loads(app.test_client().get("/api/catalog").data)["campaign"]["version"]


def crash_publish(args) -> dict:
    """Crash publishes on each backend; every time the live catalog must be old or new."""
    results = [crash_publish_backend(b, args.kills, args.max_delay) for b in args.backends]
    ok = all(
        r["mixes"] == 0
        and r["other"] == 0
        and r["acknowledged_then_lost"] == 0
        and not r["problems"]
        and r["console_history_ok"]
        and r["integrity"] in {"ok", "n/a"}
        for r in results
    )
    return {"fault": "crash-publish", "ok": ok, "backends": results}


# Command line ---------------------------------------------------------------------------


def print_summary(figures: dict) -> None:
    print(f"{figures['fault']}: {'PASS' if figures['ok'] else 'FAIL'}")
    rows = figures.get("backends", [figures])
    for row in rows:
        for key, value in row.items():
            if key not in {"fault", "ok"} and (key != "problem_ids" or value):
                print(f"  {key:<26}{json.dumps(value, ensure_ascii=False)}")
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, seconds, connections in (("kill-worker", 60, 64), ("restart-postgres", 60, 64)):
        command = commands.add_parser(name)
        command.add_argument("--seconds", type=float, default=seconds)
        command.add_argument("--connections", type=int, default=connections)
    crash = commands.add_parser("crash-publish")
    crash.add_argument("--kills", type=int, default=200, help="crashes per backend")
    crash.add_argument("--max-delay", type=float, default=None,
                       help="seconds; default: 1.5 × one publish, at most 0.3")  # fmt: skip
    crash.add_argument("--backends", nargs="+", choices=["sqlite", "postgres"],
                       default=["sqlite", "postgres"])  # fmt: skip
    for command in commands.choices.values():
        command.add_argument("--short", action="store_true", help="the CI form")
        command.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.short:
        if args.command == "crash-publish":
            args.kills = 20
        else:
            args.seconds, args.connections = 8, 16
    budget = args.kills * 5 * len(args.backends) if args.command == "crash-publish" else 0
    load.watchdog(budget + getattr(args, "seconds", 0) * 3 + 300)
    run = {"kill-worker": kill_worker, "restart-postgres": restart_postgres,
           "crash-publish": crash_publish}[args.command]  # fmt: skip
    try:
        figures = run(args)
    except Missing as missing:
        print(f"{args.command}: cannot run: {missing}", file=sys.stderr)
        sys.exit(2)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    else:
        print_summary(figures)
    sys.exit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()

"""Load and faults in their short forms: bench/load.py and bench/faults.py, as CI runs them.

The long forms, what they found and how to re-run them: docs/reliability.md. The PostgreSQL
ones need the PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) that .ci/run
starts; restart-postgres restarts that cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import unavailable

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "POSTERAPP_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres():
    """Skip (fail in CI) unless the local PostgreSQL cluster answers."""
    import sqlalchemy as sa

    if not shutil.which("pg_ctlcluster") or not os.path.isdir("/etc/postgresql"):
        unavailable("a local Debian PostgreSQL cluster", "apt-get install -y postgresql")
    engine = sa.create_engine(POSTGRES)
    try:
        with engine.connect() as db:
            db.exec_driver_sql("SELECT 1")
    except sa.exc.OperationalError:
        unavailable("PostgreSQL", START_POSTGRES)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def redis_server():
    import redis

    client = redis.Redis.from_url(
        os.environ.get("POSTERAPP_TEST_REDIS_FAULTS", "redis://127.0.0.1:6379/14")
    )
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        unavailable("Redis", START_REDIS)
    finally:
        client.close()


def run(script: str, *args: str) -> dict:
    """Run a bench script with --short --json; return its figures, failing on a non-zero exit."""
    command = [sys.executable, str(ROOT / "bench" / script), *args, "--short", "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    if done.returncode == 2:  # what the script needs is missing
        unavailable(script, done.stderr.strip())
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout)


def test_mixed_load_has_no_errors():
    figures = run("load.py")
    assert figures["errors"] == 0, figures["error_kinds"]
    assert figures["posters_made"] > 0
    for kind in ("create", "create_image", "share", "image"):
        row = figures["kinds"][kind]
        assert row["requests"] > 0 and row["errors"] == 0, (kind, row)
        assert 0 < row["p50_ms"] <= row["p99_ms"], (kind, row)


def test_a_killed_worker_loses_no_acknowledged_poster():
    figures = run("faults.py", "kill-worker")
    assert figures["acknowledged"] > 0
    assert figures["lost"] == 0 and figures["problems"] == {}, figures["problem_ids"]
    assert figures["found"] == figures["rendered"] == figures["acknowledged"]
    # Only requests in flight on the killed worker may fail, and only by losing their answer.
    # A gevent worker serves many connections at once, so that can be several of them.
    assert figures["unexpected_errors"] == {}
    assert sum(figures["errors_at_kill"].values()) <= figures["connections"]
    assert figures["replaced_after_s"] is not None
    assert figures["killed_worker"] not in figures["workers_after"]


def test_posterapp_recovers_by_itself_when_postgresql_restarts(postgres, redis_server):
    figures = run("faults.py", "restart-postgres")
    assert figures["recovered"] and not figures["posterapp_restarted"]
    assert figures["errors_before_restart"] == {} and figures["errors_after_recovery"] == {}
    assert figures["requests_after_recovery"] > 0
    assert figures["lost"] == 0 and figures["problems"] == {}, figures["problem_ids"]
    assert figures["found"] == figures["rendered"] == figures["acknowledged"] > 0
    # While the database is away people are told to try again (503), not that we broke (500).
    assert "500" not in figures["statuses_during_outage"], figures["statuses_during_outage"]
    assert "500" not in figures["healthz_while_restarting"], figures["healthz_while_restarting"]


def check_crash_publish(figures: dict) -> None:
    (backend,) = figures["backends"]
    assert backend["mixes"] == 0 and backend["other"] == 0, backend["problems"]
    assert backend["problems"] == [] and backend["acknowledged_then_lost"] == 0
    assert backend["old"] + backend["new"] == backend["rounds"]
    assert backend["killed"] > backend["rounds"] / 3  # the stepped half nearly always dies
    # Both sides were reached: the kills landed before and after the switch, not all on one.
    assert backend["old"] > 0 and backend["new"] > 0
    places = {point.split(" ", 1)[1] for point in backend["kill_points"]}
    assert {"commit", "after commit", "UPDATE active_catalog SET"} <= places
    assert backend["console_history_ok"] and backend["integrity"] in {"ok", "n/a"}


def test_a_publish_crashed_half_way_leaves_the_old_or_the_new_catalog_on_sqlite():
    check_crash_publish(run("faults.py", "crash-publish", "--backends", "sqlite"))


def test_a_publish_crashed_half_way_leaves_the_old_or_the_new_catalog_on_postgresql(postgres):
    check_crash_publish(run("faults.py", "crash-publish", "--backends", "postgres"))

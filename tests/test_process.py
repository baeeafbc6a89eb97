"""The server as a process, with the shipped gunicorn.conf.py: slow clients, a killed master,
metrics folders, stuck workers, and dev.py. Loopback only; every test bounded in time."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from pathlib import Path

from .servers import ROOT, free_port, start, stop


def get(base: str, path: str, timeout: float = 2.0) -> tuple[int, bytes]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def post(base: str, path: str, body: dict) -> tuple[int, dict]:
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        connection.request("POST", path, json.dumps(body).encode(), headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def children(pid: int) -> list[int]:
    """Return the live processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Return whether ``pid`` runs (a zombie waiting for its reaper does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def kill_group(pid: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@contextmanager
def slow_clients(base: str, count: int):
    """Hold ``count`` connections that send a request header one byte a second."""
    port = int(base.rsplit(":", 1)[1])
    sockets = []
    done = threading.Event()

    def dribble():
        while not done.wait(1.0):
            for sock in sockets:
                with suppress(OSError):
                    sock.send(b"X")

    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            sockets.append(sock)
        dribbler = threading.Thread(target=dribble, daemon=True)
        dribbler.start()
        yield
    finally:
        done.set()
        for sock in sockets:
            sock.close()


def test_pages_answer_while_100_clients_send_headers_slowly(tmp_path):
    base, server = start(tmp_path)
    try:
        with slow_clients(base, 100):
            time.sleep(1.5)  # every slow socket accepted and into its header
            for path in ("/", "/healthz", "/", "/healthz"):
                started = time.monotonic()
                status, _ = get(base, path, timeout=2.0)  # raises TimeoutError past 2 s
                assert status == 200, path
                assert time.monotonic() - started < 2.0, path
                time.sleep(0.5)
    finally:
        stop(server)


def test_workers_exit_with_a_killed_master_and_a_new_server_binds_at_once(tmp_path):
    base, server = start(tmp_path)
    port = int(base.rsplit(":", 1)[1])
    workers = children(server.pid)
    assert len(workers) == 2
    replacement = None
    try:
        server.send_signal(signal.SIGKILL)
        server.wait()
        # The supervisor starts the server again straight away: the port must be free for it,
        # without gunicorn's five one-second "Connection in use" retries.
        started = time.monotonic()
        (tmp_path / "again").mkdir()
        _, replacement = start(tmp_path / "again", port=port)
        assert time.monotonic() - started < 5
        log = (tmp_path / "again" / f"gunicorn-{port}.log").read_text()
        assert "Connection in use" not in log
        assert wait_until(lambda: not any(alive(pid) for pid in workers), 5), workers
        assert get(base, "/healthz", timeout=15)[0] == 200  # a busy CI machine is slow
    finally:
        kill_group(server.pid)  # any orphan left by a failure
        if replacement:
            stop(replacement)


def started_at(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


def test_metrics_folders_of_dead_masters_are_removed_at_start_and_live_ones_kept(tmp_path):
    temp = tmp_path / "tmp"
    temp.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()
    me = os.getpid()
    folders = {
        "dead master": temp / f"posterapp-metrics-{dead.pid}-1-abc",
        "pid reused": temp / f"posterapp-metrics-{me}-1-def",
        "live master": temp / f"posterapp-metrics-{me}-{started_at(me)}-ghi",
        "not ours": temp / "posterapp-metrics-notes",
    }
    for folder in folders.values():
        folder.mkdir()
        (folder / "counter_1.db").write_bytes(b"")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {"TMPDIR": str(temp)}
    _, first = start(tmp_path / "a", env=env)
    second = None
    try:
        assert not folders["dead master"].exists()
        assert not folders["pid reused"].exists()
        assert folders["live master"].exists()
        assert folders["not ours"].exists()
        (own,) = temp.glob(f"posterapp-metrics-{first.pid}-*")
        # A second server starting on the same machine leaves the first one's folder alone.
        base, second = start(tmp_path / "b", env=env)
        assert own.is_dir()
        assert len(list(temp.glob(f"posterapp-metrics-{second.pid}-*"))) == 1
        assert get(base, "/metrics")[0] == 200
    finally:
        stop(first)
        if second:
            stop(second)
    assert not own.exists()  # a server removes its own folder when it stops


def test_a_worker_ended_for_a_timeout_is_counted_on_metrics(tmp_path):
    env = {"TMPDIR": str(tmp_path)}  # the metrics folder, left behind by the SIGKILL below
    base, server = start(
        tmp_path, env=env, args=("--timeout", "2"), app="tests.servers:stalling_app()"
    )
    try:
        started = time.monotonic()
        try:
            status, _ = get(base, "/_test/stall", timeout=15)
        except (http.client.HTTPException, ConnectionError):
            status = None  # gunicorn ended the worker: the client got no answer
        assert status in {None, 500}  # a proxy in front answers 502
        assert time.monotonic() - started < 12
        log = next(tmp_path.glob("gunicorn-*.log"))
        (stuck,) = re.findall(r"WORKER TIMEOUT \(pid:(\d+)\)", log.read_text())
        assert wait_until(lambda: not alive(int(stuck)), 5)  # replaced, not left running

        def counted():
            text = get(base, "/metrics")[1].decode()
            return "posterapp_worker_timeouts_total 1.0" in text and (
                'posterapp_errors_total{status="502"} 1.0' in text
            )

        assert wait_until(counted, 10)
    finally:
        stop(server, kill=True)  # not wait for the replacement worker to finish booting


@contextmanager
def dev_run(tmp_path: Path, *args: str):
    """Run ``python3 dev.py run ARGS`` with posterapp's data in tmp_path; yield the process."""
    environment = {**os.environ, "POSTERAPP_DATA_DIR": str(tmp_path)}
    environment.pop("POSTERAPP_PUBLIC_URL", None)
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "dev.log", "wb")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "run", *args],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    try:
        yield process
    finally:
        kill_group(process.pid)
        process.wait()


def test_dev_run_links_posters_to_its_bind_address_and_stops_gunicorn_with_it(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with dev_run(tmp_path, "--bind", f"127.0.0.1:{port}") as dev:

        def up():
            with suppress(OSError, http.client.HTTPException):
                return get(base, "/healthz")[0] == 200
            return False

        assert wait_until(up, 60), (tmp_path / "dev.log").read_text()[-2000:]
        status, made = post(base, "/api/posters", {"choices": ["travel-fund"]})
        assert status == 201
        assert made["share_url"] == f"{base}/s/{made['id']}"
        assert f"posterapp on {base}" in (tmp_path / "dev.log").read_text()

        (gunicorn,) = children(dev.pid)
        dev.send_signal(signal.SIGTERM)
        dev.wait(timeout=25)
        assert wait_until(lambda: not alive(gunicorn), 5)
        assert not children(gunicorn)
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0  # nobody listens any more


def test_the_render_budget_still_works_under_the_shipped_worker_class(tmp_path):
    # posters.time_budget relies on SIGALRM, which reaches only the main thread.
    base, server = start(tmp_path, env={"POSTERAPP_RENDER_BUDGET": "0.000001"})
    try:
        status, answer = post(base, "/api/posters", {"choices": ["travel-fund"]})
        assert status == 503, answer
    finally:
        stop(server)

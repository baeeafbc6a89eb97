"""Start real posterapp servers (gunicorn) for the tests that talk HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(
    data_dir: Path,
    workers: int = 2,
    env: dict | None = None,
    args: tuple[str, ...] = (),
    app: str = "posterapp:create_app()",
    port: int | None = None,
) -> tuple[str, subprocess.Popen]:
    """Start ``gunicorn 'posterapp:create_app()'`` on a free loopback port; wait for /healthz.

    It runs with the shipped gunicorn.conf.py (worker class, timeouts, hooks), as dev.py and
    the Dockerfile do; ``args`` come after it and override it.
    """
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "POSTERAPP_DATA_DIR": str(data_dir),
        "POSTERAPP_PUBLIC_URL": base,
        # Tests make many posters from one address; the limits are tested on their own.
        "POSTERAPP_RATE_LIMIT_POSTERS": "100000 per minute",
        "POSTERAPP_RATE_LIMIT_LOGIN": "100000 per minute",
        "POSTERAPP_RATE_LIMIT_PREVIEWS": "100000 per minute",
        **(env or {}),
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each server gets its own
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}", *args, app,
    ]  # fmt: skip
    log = open(data_dir / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 - the process owns it
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stdout=log, stderr=log, start_new_session=True
    )
    log.close()
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            text = (data_dir / f"gunicorn-{port}.log").read_text()
            raise RuntimeError(f"gunicorn exited: {text[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return base, process
        except OSError:
            if time.monotonic() > deadline:
                stop(process)
                raise RuntimeError("gunicorn did not answer /healthz within 60 s") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen, kill: bool = False) -> None:
    """Stop a server and its workers: gracefully, or at once with SIGKILL."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stalling_app():
    """Return posterapp with one extra address for tests, /_test/stall, that spins forever.

    It holds its worker's only thread without yielding, like a stuck request, so gunicorn's
    worker timeout ends the worker.
    """
    from posterapp import create_app

    app = create_app()
    wsgi = app.wsgi_app

    def stall(environ, start_response):
        if environ.get("PATH_INFO") == "/_test/stall":
            while True:
                pass
        return wsgi(environ, start_response)

    app.wsgi_app = stall
    return app


@contextmanager
def gunicorn(data_dir: Path, workers: int = 2, env: dict | None = None):
    """Run a server for the duration of a ``with`` block; yield its base URL."""
    base, process = start(data_dir, workers, env)
    try:
        yield base
    finally:
        stop(process)

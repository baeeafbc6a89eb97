"""Start real posterapp servers (gunicorn) for the tests that talk HTTP."""

from __future__ import annotations

import os
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


@contextmanager
def gunicorn(data_dir: Path, workers: int = 2, env: dict | None = None):
    """Run ``gunicorn 'posterapp:create_app()'`` on a free loopback port; yield its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "POSTERAPP_DATA_DIR": str(data_dir),
        "POSTERAPP_PUBLIC_URL": base,
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
        f"127.0.0.1:{port}", "--timeout", "30", "posterapp:create_app()",
    ]  # fmt: skip
    log = open(data_dir / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {(data_dir / 'gunicorn.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer /healthz within 60 s") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()

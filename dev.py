#!/usr/bin/env python3
"""Set up a local virtualenv on first use, then run posterapp or its tests.

    python3 dev.py run     serve posterapp on http://localhost:8000 on embedded defaults
                           (extra arguments go to gunicorn, e.g. --bind 0.0.0.0:8000; the
                           posters' links follow the address unless POSTERAPP_PUBLIC_URL
                           is set)
    python3 dev.py test    run the test suite (extra arguments go to pytest)

Needs only Python 3.11+; everything else is installed into .venv/ here, and installed
again whenever setup.cfg changes.
"""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".posterapp-installed"


def ensure_venv() -> None:
    """Create .venv and install posterapp into it unless it is already up to date."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this file runs before any venv exists
        sys.exit(f"posterapp needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "setup.cfg").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print("dev.py: creating .venv", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing posterapp and its dependencies into .venv", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def bind_address(args: list[str]) -> str | None:
    """Return the first address given to gunicorn with -b/--bind in ``args``, if any."""
    for index, arg in enumerate(args):
        if arg in {"-b", "--bind"} and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--bind="):
            return arg.removeprefix("--bind=")
        if arg.startswith("-b") and not arg.startswith("--"):
            return arg[2:]
    return None


def lan_host() -> str:
    """Return this machine's address on its network, or its name; nothing is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # a documentation address: only picks a route
            address = probe.getsockname()[0]
        except OSError:
            address = ""
    if address and not address.startswith("127."):
        return address
    return socket.gethostname() or "localhost"


def public_url(bind: str) -> str | None:
    """Return the URL people reach a server bound to ``bind`` at (None for a unix socket)."""
    if bind.startswith(("unix:", "fd://")):
        return None
    host, colon, port = bind.rpartition(":")
    if not colon or host.endswith(":"):  # "example.org", "::1"
        host, port = bind, "8000"
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::"}:  # every interface: the one others can reach
        host = lan_host()
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def serve(args: list[str]) -> int:
    """Run gunicorn until it exits; SIGTERM or SIGINT to this script stops it too."""
    environment = dict(os.environ)
    bind = bind_address(args) or environment.get("POSTERAPP_BIND")
    if bind is None:
        bind = "localhost:8000"
        args = ["--bind", bind, *args]
    url = public_url(bind)
    if url and not environment.get("POSTERAPP_PUBLIC_URL"):
        environment["POSTERAPP_PUBLIC_URL"] = url  # so the posters' QR codes and links work
    shown = environment.get("POSTERAPP_PUBLIC_URL") or bind
    print(f"dev.py: posterapp on {shown} (Ctrl+C stops it)", flush=True)
    command = [str(BIN / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py")]
    command += ["--workers", "2", *args, "posterapp:create_app()"]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, preexec_fn=die_with_parent())

    def forward(signum, frame):
        process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)  # from a terminal gunicorn gets it too; no harm
    return process.wait()


def die_with_parent():
    """Return what makes a child get SIGTERM when this script dies, even by SIGKILL (Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    prctl = ctypes.CDLL(None).prctl  # looked up before the fork, called after it
    PR_SET_PDEATHSIG = 1
    return lambda: prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "run":
        return serve(rest)
    try:
        return subprocess.call([str(BIN / "python"), "-m", "pytest", *rest], cwd=ROOT)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

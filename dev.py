#!/usr/bin/env python3
"""Set up a local virtualenv on first use, then run posterapp or its tests.

    python3 dev.py run     serve posterapp on http://localhost:8000 on embedded defaults
                           (extra arguments go to gunicorn, e.g. --bind 0.0.0.0:8000)
    python3 dev.py test    run the test suite (extra arguments go to pytest)

Needs only Python 3.11+; everything else is installed into .venv/ here, and installed
again whenever setup.cfg changes.
"""

import hashlib
import os
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


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "test":
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    else:
        bind = [] if any(a.startswith(("-b", "--bind")) for a in rest) else ["-b", "localhost:8000"]
        args = [str(BIN / "gunicorn"), "--workers", "2", *bind, *rest, "posterapp:create_app()"]
        print("dev.py: posterapp on http://localhost:8000 (Ctrl+C stops it)", flush=True)
    try:
        return subprocess.call(args, cwd=ROOT)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

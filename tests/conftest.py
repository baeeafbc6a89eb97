"""Shared fixtures: the shipped catalog, temporary catalogs, the CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from posterapp import versions
from posterapp.errors import InvalidSource, Problem
from posterapp.store import Store

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
DEFAULT_CATALOG = ROOT / "choices" / "default.yaml"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def default_version() -> versions.CatalogVersion:
    return versions.load_sources(DEFAULT_CATALOG, ASSETS)


@pytest.fixture(scope="session")
def catalog_text() -> str:
    return DEFAULT_CATALOG.read_text(encoding="utf-8")


@pytest.fixture
def write_catalog(tmp_path):
    """Write catalog YAML text to a file in a temporary folder and return its path."""

    def write(text: str, name: str = "catalog.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def catalog_problems(write_catalog):
    """Load catalog text against the shipped layouts; return its problems (none: [])."""

    def problems(text: str, assets: Path = ASSETS) -> list[Problem]:
        try:
            versions.load_sources(write_catalog(text), assets)
        except InvalidSource as error:
            return error.problems
        return []

    return problems


@pytest.fixture
def store(tmp_path):
    """An empty SQLite store in a temporary folder."""
    found = Store(f"sqlite:///{tmp_path / 'posterapp.db'}")
    found.create_schema()
    yield found
    found.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

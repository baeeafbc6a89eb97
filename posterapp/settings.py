"""Settings, each declared once with its default and what it is for.

Every setting can be given in the environment as ``POSTERAPP_<NAME>``; the web app reads the
same names from its config.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    description: str

    def value(self) -> str:
        return os.environ.get(f"POSTERAPP_{self.name}", self.default)


SETTINGS: dict[str, Setting] = {}


def define(name: str, default: str, description: str) -> Setting:
    SETTINGS[name] = Setting(name, default, description)
    return SETTINGS[name]


ASSETS_DIR = define(
    "ASSETS_DIR",
    str(ROOT / "assets"),
    "fonts, icons and layouts/*.yaml; image paths in catalogs are relative to it",
)
CATALOG = define(
    "CATALOG",
    str(ROOT / "choices" / "default.yaml"),
    "the catalog YAML that new posters are made from",
)
DATA_DIR = define(
    "DATA_DIR",
    str(ROOT / "instance"),
    "where posterapp keeps its data: stored catalog versions, the database, images",
)


def path(setting: Setting) -> Path:
    return Path(setting.value())

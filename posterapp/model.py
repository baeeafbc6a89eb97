"""A poster as a person made it: what decides its pixels besides the catalog version."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Poster:
    """Everything that decides a poster's pixels besides the catalog version."""

    picks: tuple[str, ...]
    name: str
    url: str
    layout: str

"""Experiments on what spreads: variants, their deterministic assignment, and honest figures.

A variant changes how a poster looks (its theme, its layout rules). Each new poster gets one
from its id alone, so every server assigns the same variant without asking anyone, and the
split follows the weights. The figures come with 95 % intervals: Wilson's for rates (share
views per poster, click-through), a bootstrap over posters for K (referral posters per
poster), and a plain sentence saying whether the difference is significant yet.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

Z95 = 1.959963984540054


def assign(poster_id: str, experiment_id: str, weights: Sequence[tuple[str, float]]) -> str:
    """Return the variant for a poster: a stable hash of (experiment, poster) split by weight."""
    digest = hashlib.sha256(f"{experiment_id}:{poster_id}".encode()).digest()
    point = int.from_bytes(digest[:8], "big") / 2**64 * sum(w for _, w in weights)
    for variant, weight in weights:
        if point < weight:
            return variant
        point -= weight
    return weights[-1][0]


@dataclass(frozen=True)
class Interval:
    value: float
    low: float
    high: float

    def overlaps(self, other: Interval) -> bool:
        return self.low <= other.high and other.low <= self.high


def wilson(successes: int, trials: int, z: float = Z95) -> Interval:
    """Return a rate with its Wilson score interval (good for small counts and rates near 0)."""
    if trials == 0:
        return Interval(0.0, 0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def bootstrap_mean(values: Sequence[int], rounds: int = 2000, seed: int = 2020) -> Interval:
    """Return the mean of per-poster counts with a 95 % percentile bootstrap interval.

    K is the mean number of posters each poster brought in; resampling posters (not
    events) respects that one poster's friends are not independent of each other.
    """
    if not values:
        return Interval(0.0, 0.0, 0.0)
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choices(values, k=n)) / n for _ in range(rounds))
    return Interval(sum(values) / n, means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1])


def verdict(intervals: dict[str, Interval], what: str) -> str:
    """Say in plain Chinese whether the variants differ on ``what`` yet."""
    if len(intervals) < 2:
        return f"{what}：只有一个版本，没有可比的"
    best = max(intervals, key=lambda k: intervals[k].value)
    others = [k for k in intervals if k != best]
    if all(not intervals[best].overlaps(intervals[k]) for k in others):
        return f"{what}：「{best}」明显更好（95% 置信区间不重叠）"
    return f"{what}：各版本的差别还不显著，再多一些海报才能下结论"

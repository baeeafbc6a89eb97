"""Experiment figures: deterministic assignment by weight, Wilson and bootstrap intervals."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from posterapp.experiments import assign, bootstrap_mean, verdict, wilson

WEIGHTS = [("warm", 3.0), ("night", 1.0)]


def test_assignment_is_stable_and_follows_the_weights():
    ids = [secrets.token_hex(6).upper() for _ in range(8000)]
    first = [assign(i, "theme-test", WEIGHTS) for i in ids]
    assert first == [assign(i, "theme-test", WEIGHTS) for i in ids]  # every server agrees
    share = Counter(first)["warm"] / len(ids)
    assert 0.72 < share < 0.78  # 3 : 1


def test_another_experiment_splits_the_same_posters_independently():
    ids = [f"P{n:011d}" for n in range(4000)]
    a = [assign(i, "one", [("x", 1), ("y", 1)]) for i in ids]
    b = [assign(i, "two", [("x", 1), ("y", 1)]) for i in ids]
    same = sum(1 for p, q in zip(a, b, strict=True) if p == q) / len(ids)
    assert 0.45 < same < 0.55


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (0, 10, 0.0, 0.2775),  # reference values of the Wilson score interval, z = 1.96
        (5, 10, 0.2366, 0.7634),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_matches_the_textbook(successes, trials, low, high):
    found = wilson(successes, trials)
    assert found.value == pytest.approx(successes / trials)
    assert found.low == pytest.approx(low, abs=5e-4)
    assert found.high == pytest.approx(high, abs=5e-4)


def test_bootstrap_of_k_brackets_the_mean_and_narrows_with_more_posters():
    small = bootstrap_mean([0, 0, 1, 0, 2, 0, 1, 0, 0, 3])
    big = bootstrap_mean([0, 0, 1, 0, 2, 0, 1, 0, 0, 3] * 40)
    assert small.value == big.value == pytest.approx(0.7)
    assert small.low < 0.7 < small.high
    assert (big.high - big.low) < (small.high - small.low) / 3


def test_the_verdict_says_plainly_when_it_is_too_early():
    early = {"warm": wilson(6, 20), "night": wilson(8, 20)}
    assert verdict(early, "点击率") == "点击率：各版本的差别还不显著，再多一些海报才能下结论"
    clear = {"warm": wilson(100, 1000), "night": wilson(300, 1000)}
    assert verdict(clear, "点击率") == "点击率：「night」明显更好（95% 置信区间不重叠）"

"""Experiment figures: deterministic assignment by weight, Wilson and bootstrap intervals."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest
from PIL import Image

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


EXPERIMENT = """  experiment:
    id: theme-test
    label: 暖阳还是灯火
    variants:
      - {id: warm, theme: warm, weight: 1}
      - {id: night, theme: night, weight: 1}
"""


def with_experiment(catalog_text: str) -> str:
    anchor = "  life_tag_default: 热爱生活的多面手\n"
    assert anchor in catalog_text
    return catalog_text.replace(anchor, anchor + EXPERIMENT, 1)


def test_each_new_poster_is_drawn_in_its_variants_theme(tmp_path, catalog_text):
    from posterapp import create_app
    from posterapp.experiments import assign

    from .conftest import TEST_CONFIG

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(with_experiment(catalog_text), encoding="utf-8")
    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path), "CATALOG": str(catalog)})
    site = app.extensions["posterapp"]
    try:
        made = [site.create(["travel-fund", "wuhan-hot-dry-noodles"]) for _ in range(12)]
        corners = {}
        for record in made:
            expected = assign(record.id, "theme-test", [("warm", 1), ("night", 1)])
            assert record.variant == f"theme-test:{expected}"
            stored = site.store.get_poster(record.id)
            assert stored.variant == record.variant
            with Image.open(site.image(stored)) as image:
                corners.setdefault(expected, set()).add(image.convert("RGB").getpixel((4, 4)))
        # Two themes, one look each: 暖阳's peach paper, 灯火's night sky.
        assert set(corners) == {"warm", "night"}
        assert len(corners["warm"]) == len(corners["night"]) == 1
        (warm,), (night,) = corners["warm"], corners["night"]
        assert sum(warm) > 600 and sum(night) < 200
    finally:
        site.store.close()


def test_per_variant_figures_are_exact_on_two_servers_sharing_postgresql(
    database, tmp_path, catalog_text
):
    import json
    import urllib.error
    import urllib.request

    from posterapp import stats
    from posterapp.experiments import assign
    from posterapp.store import Store

    from .servers import start, stop

    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(with_experiment(catalog_text), encoding="utf-8")
    env = {"POSTERAPP_DATABASE_URL": database, "POSTERAPP_CATALOG": str(catalog)}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    servers = []
    try:
        servers.append(start(tmp_path / "a", env=env))
        servers.append(start(tmp_path / "b", env=env))
        bases = [base for base, _ in servers]

        def post(base, body):
            request = urllib.request.Request(
                f"{base}/api/posters",
                data=json.dumps(body).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.load(response)["id"]

        def get(url):
            class Stay(urllib.request.HTTPRedirectHandler):
                def redirect_request(self, *args, **kwargs):
                    return None

            try:
                with urllib.request.build_opener(Stay).open(url, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code

        ids = [
            post(bases[i % 2], {"choices": ["travel-fund", "family-portrait"]}) for i in range(8)
        ]
        # Friends of the first two posters make theirs through them.
        friends = [
            post(bases[i % 2], {"choices": ["travel-fund"], "ref": ids[i % 2]}) for i in range(3)
        ]
        for i, poster in enumerate(ids[:4]):
            assert get(f"{bases[i % 2]}/s/{poster}") == 200  # a view
            assert get(f"{bases[(i + 1) % 2]}/Q/{poster}") == 302  # a scan
        for poster in ids[:3]:
            assert get(f"{bases[0]}/go/{poster}/travel-fund") == 302  # a tap

        variant_of = {
            p: assign(p, "theme-test", [("warm", 1), ("night", 1)]) for p in ids + friends
        }
        expected = {}
        for poster, variant in variant_of.items():
            arm = expected.setdefault(
                variant, {"posters": 0, "views": 0, "scans": 0, "taps": 0, "brought": 0}
            )
            arm["posters"] += 1
            arm["views"] += poster in ids[:4]
            arm["scans"] += poster in ids[:4]
            arm["taps"] += poster in ids[:3]
            arm["brought"] += sum(1 for i in range(3) if ids[i % 2] == poster)

        store = Store(database)
        try:
            [experiment] = stats.experiments(store)
        finally:
            store.close()
        assert experiment["id"] == "theme-test"
        found = {arm["id"]: arm for arm in experiment["variants"]}
        assert set(found) == set(expected)
        for variant, want in expected.items():
            arm = found[variant]
            assert (arm["posters"], arm["share_views"], arm["scans"], arm["service_clicks"]) == (
                want["posters"],
                want["views"],
                want["scans"],
                want["taps"],
            )
            assert arm["k_factor"]["value"] == round(want["brought"] / want["posters"], 3)
            assert arm["k_factor"]["low"] <= arm["k_factor"]["value"] <= arm["k_factor"]["high"]
        assert experiment["verdicts"][0].startswith("裂变系数 K：")
        assert "还不显著" in experiment["verdicts"][1]  # three taps prove nothing yet
    finally:
        for _, process in servers:
            stop(process)


def test_the_csv_has_a_row_per_variant():
    from posterapp import stats

    figures = {key: 0 for key in stats.SCALARS} | {
        "timezone": "Asia/Shanghai", "generated_at": "2026-11-25T20:00:00+08:00",
        "top_choices": [], "top_pairs": [], "by_category": [], "by_city": [],
        "by_choice_city": [], "funnel": [], "clicks_by_choice": [], "clicks_by_category": [],
        "clicks_by_generation": [], "clicks_by_offer": [], "by_day": [], "by_hour": [0] * 24,
        "experiments": [{"id": "theme-test", "verdicts": [], "variants": [
            {"id": "warm", "posters": 3, "share_views": 5, "scans": 2, "service_clicks": 1,
             "k_factor": {"value": 0.333, "low": 0.0, "high": 1.0},
             "click_through": {"value": 0.2, "low": 0.036, "high": 0.624}},
        ]}],
    }  # fmt: skip
    rows = stats.to_csv(figures).splitlines()
    header = rows.index("experiment,variant,posters,share_views,scans,service_clicks,"
                        "k,k_low,k_high,click_through,ct_low,ct_high")  # fmt: skip
    assert rows[header + 1] == "theme-test,warm,3,5,2,1,0.333,0.0,1.0,0.2,0.036,0.624"

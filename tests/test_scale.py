"""Two app servers on one PostgreSQL and one Redis: shared posters, numbers, limits; one dies.

Needs the PostgreSQL (127.0.0.1:5432, trust auth) and Redis (127.0.0.1:6379) that .ci/run
starts. Elsewhere set POSTERAPP_TEST_POSTGRES / POSTERAPP_TEST_REDIS to reach others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from posterapp.store import Store

from .servers import start, stop

LIMIT = 8  # posters per minute per client, counted in Redis across both servers


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def tap(url: str) -> int:
    """Follow a tracked link one step; return its status (302: counted and sent on)."""
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def call(url: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    request = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def posterapp(*args: str, env: dict) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("posterapp")), *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)


def test_two_servers_share_everything_and_survive_one_dying(database, redis_url, tmp_path):
    env = {
        "POSTERAPP_DATABASE_URL": database,
        "POSTERAPP_REDIS_URL": redis_url,
        "POSTERAPP_PUBLIC_URL": "http://posters.test",  # the load balancer's address
        "POSTERAPP_RATE_LIMIT_POSTERS": f"{LIMIT} per minute",
    }
    # The schema is made by a command, not by hand.
    made = posterapp("init-db", env={**env, "POSTERAPP_DATA_DIR": str(tmp_path / "cli")})
    assert made.returncode == 0 and "数据库准备好了" in made.stdout, made.stderr
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a_url, a = start(tmp_path / "a", env=env)
    b_url = None
    try:
        b_url, b = start(tmp_path / "b", env=env)
        posters = []
        for index in range(LIMIT):  # alternate servers, like a load balancer
            base = (a_url, b_url)[index % 2]
            ref = posters[-1] if posters else None
            status, body, _ = call(
                f"{base}/api/posters", {"choices": ["travel-fund", "wuhan-hot-dry-noodles"],
                                        "name": f"第{index}位", "ref": ref}
            )  # fmt: skip
            assert status == 201, body
            posters.append(json.loads(body)["id"])
        # The limit is counted for both servers together, in Redis.
        status, body, headers = call(f"{b_url}/api/posters", {"choices": ["travel-fund"]})
        assert status == 429 and int(headers["Retry-After"]) > 0

        # A poster made through one server is served byte-identical by the other.
        for poster_id in posters[:2]:
            _, from_a, _ = call(f"{a_url}/p/{poster_id}.png")
            _, from_b, _ = call(f"{b_url}/p/{poster_id}.png")
            assert from_a == from_b and from_a.startswith(b"\x89PNG")
        # Scans and views through both servers count in one place (a scan's landing is part
        # of the scan; a direct visit is a view).
        for base in (a_url, b_url, b_url):
            assert call(f"{base}/q/{posters[0]}")[0] == 200
            assert call(f"{base}/s/{posters[0]}")[0] == 200

        # Taps through to the services, on both servers, concurrently: every one counted once.
        picked = ("travel-fund", "wuhan-hot-dry-noodles")
        taps = [(base, poster_id, choice) for base in (a_url, b_url)
                for poster_id in posters[:3] for choice in picked]  # fmt: skip
        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(lambda t: tap(f"{t[0]}/go/{t[1]}/{t[2]}"), taps * 3))
        assert codes == [302] * len(taps) * 3

        store = Store(database)
        try:
            assert store.click_counts() == {"travel-fund": 18, "wuhan-hot-dry-noodles": 18}
            assert store.event_counts(posters[0]) == {
                "created": 1, "share_view": 3, "scan": 3, "referral": 1,
            }  # fmt: skip
        finally:
            store.close()
        stats = posterapp("stats", "--json", env={**env, "POSTERAPP_DATA_DIR": str(tmp_path)})
        figures = json.loads(stats.stdout)
        assert (figures["posters"], figures["scans"], figures["referral_posters"]) == (
            LIMIT,
            3,
            LIMIT - 1,
        )
        assert figures["generations"] == LIMIT

        # Metrics add up both workers of a server.
        _, text, _ = call(f"{a_url}/metrics")
        line = next(x for x in text.decode().splitlines()
                    if x.startswith("posterapp_render_seconds_count"))  # fmt: skip
        assert float(line.split()[-1]) == LIMIT // 2

        # Server A dies without warning; B serves every poster, including A's.
        stop(a, kill=True)
        for poster_id in posters:
            status, body, _ = call(f"{b_url}/p/{poster_id}.png")
            assert status == 200 and body.startswith(b"\x89PNG")
        status, body, _ = call(f"{b_url}/s/{posters[-1]}")
        assert status == 200 and "第7位的美好生活清单" in body.decode()
        deadline = time.monotonic() + 10
        while call(f"{b_url}/healthz")[0] != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert call(f"{b_url}/healthz")[0] == 200
        stop(b)
    finally:
        stop(a, kill=True)
        if b_url:
            stop(b)

"""Rate limits, client addresses behind proxies, metrics and health."""

from __future__ import annotations

import pytest

from posterapp.i18n import wait_text

from .conftest import TEST_CONFIG, BufferedClient

PICKS = {"choices": ["travel-fund"]}


def limited_app(tmp_path, **config):
    from posterapp import create_app

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path), **config})
    app.test_client_class = BufferedClient
    return app


@pytest.fixture
def strict(tmp_path):
    app = limited_app(tmp_path, RATE_LIMIT_POSTERS="3 per minute", RATE_LIMIT_LOGIN="2 per minute")
    yield app
    app.extensions["posterapp"].store.close()


def test_making_posters_is_limited_per_client_with_retry_after(strict):
    client = strict.test_client()
    for _ in range(2):
        assert client.post("/api/posters", json=PICKS).status_code == 201
    # The picker form and the API share one allowance.
    assert client.post("/", data={"choices": ["travel-fund"]}).status_code == 303
    refused = client.post("/api/posters", json=PICKS)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests"
    wait = wait_text(int(refused.headers["Retry-After"]))  # "40 秒", or "1 分钟" at 60
    assert error["message"] == f"操作太频繁啦，请 {wait}后再试"
    # Reading is never limited.
    assert client.get("/api/catalog").status_code == 200


def test_sign_in_attempts_are_limited(strict):
    client = strict.test_client()
    for _ in range(2):
        client.post("/admin/login", data={"name": "x", "password": "y"})
    assert client.post("/admin/login", data={"name": "x", "password": "y"}).status_code == 429


def test_forwarded_addresses_count_only_behind_a_configured_proxy(tmp_path):
    direct = limited_app(tmp_path / "a", RATE_LIMIT_POSTERS="1 per minute")
    proxied = limited_app(tmp_path / "b", RATE_LIMIT_POSTERS="1 per minute", TRUSTED_PROXIES=1)
    try:
        for app, expected in ((direct, 429), (proxied, 201)):
            client = app.test_client()
            first = client.post("/api/posters", json=PICKS, headers={"X-Forwarded-For": "1.1.1.1"})
            assert first.status_code == 201
            # A different forwarded address: a new client only if the proxy is trusted.
            second = client.post("/api/posters", json=PICKS, headers={"X-Forwarded-For": "2.2.2.2"})
            assert second.status_code == expected
    finally:
        direct.extensions["posterapp"].store.close()
        proxied.extensions["posterapp"].store.close()


def test_metrics_count_posters_and_render_times(client):
    before = client.get("/metrics").get_data(as_text=True)
    client.post("/api/posters", json=PICKS)
    after = client.get("/metrics").get_data(as_text=True)

    def value(text: str, prefix: str) -> float:
        lines = [line for line in text.splitlines() if line.startswith(prefix)]
        return float(lines[0].split()[-1]) if lines else 0.0

    posters = 'posterapp_posters_total{referred="no"}'
    assert value(after, posters) == value(before, posters) + 1
    count = 'posterapp_render_seconds_count{layout="hero"}'
    assert value(after, count) == value(before, count) + 1
    assert "posterapp_http_requests_total" in after


def test_every_page_carries_security_headers_and_a_fresh_nonce(client):
    first, second = client.get("/"), client.get("/")
    policy = first.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in first.get_data(as_text=True)  # the style block and script
    assert nonce not in second.headers["Content-Security-Policy"]
    for response in (first, client.get("/api/catalog"), client.get("/s/AAAAAAAAAAAA")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    made = client.post("/api/posters", json=PICKS).get_json()
    image = client.get(f"/p/{made['id']}.png")  # served before Flask, from the cache
    assert image.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "config, words",
    [
        ({}, "POSTERAPP_SECRET_KEY 在正式环境里必须是一串足够长的随机字符"),
        ({"SECRET_KEY": "short"}, "POSTERAPP_SECRET_KEY 在正式环境里必须是一串足够长的随机字符"),
        ({"SECRET_KEY": "x" * 48}, "POSTERAPP_SECRET_KEY"),
        ({"SECRET_KEY": "Tq7pX2mZ9vL4wK8rN3bY6cH1dF5gJ0sA"}, "还没有员工账号"),
    ],
)
def test_production_refuses_to_start_unsafe(tmp_path, config, words):
    from posterapp import create_app

    with pytest.raises(RuntimeError, match=words):
        create_app(
            {**TEST_CONFIG, "DATA_DIR": str(tmp_path), "PRODUCTION": True,
             "PUBLIC_URL": "https://posters.example", **config}
        )  # fmt: skip


def test_production_starts_with_a_key_and_without_a_console(tmp_path):
    from posterapp import create_app

    app = create_app(
        {**TEST_CONFIG, "DATA_DIR": str(tmp_path), "PRODUCTION": "true",
         "PUBLIC_URL": "https://posters.example", "SECRET_KEY": "Tq7pX2mZ9vL4wK8rN3bY6cH1dF5gJ0sA",
         "CONSOLE": "false"}
    )  # fmt: skip
    try:
        client = app.test_client()
        assert client.get("/admin").status_code == 404
        assert client.get("/").status_code == 200
    finally:
        app.extensions["posterapp"].store.close()


def test_a_render_over_its_budget_is_a_503_not_a_hung_worker(tmp_path, monkeypatch):
    import time

    from posterapp import posters

    app = limited_app(tmp_path, RENDER_BUDGET="0.2")
    monkeypatch.setattr(posters, "render_png", lambda *args: time.sleep(5))
    try:
        started = time.monotonic()
        response = app.test_client().post("/api/posters", json=PICKS)
        assert time.monotonic() - started < 2
        assert response.status_code == 503
        # ≥ 5 s: Flask-Limiter raises it to its own window on limited routes.
        assert int(response.headers["Retry-After"]) >= 5
        assert response.get_json()["error"]["message"] == "海报做得有点慢，请稍等几秒再试"
        assert app.extensions["posterapp"].store.event_counts()["created"] == 0
    finally:
        app.extensions["posterapp"].store.close()


def test_a_database_outage_is_a_503(client, studio, monkeypatch):
    import sqlalchemy as sa

    def away(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(studio.store, "get_poster", away)
    response = client.get("/api/posters/AAAAAAAAAAAA")
    assert response.status_code == 503
    assert response.get_json()["error"]["message"] == "网络有点忙，请稍等几秒再试"


def test_live_previews_are_limited_per_client_but_pages_and_images_are_not(tmp_path):
    app = limited_app(tmp_path, RATE_LIMIT_PREVIEWS="3 per minute")
    try:
        client = app.test_client()
        version = app.extensions["posterapp"].active.version
        query = f"/preview.jpg?v={version}&choices=travel-fund"
        assert [client.get(query).status_code for _ in range(3)] == [200] * 3
        refused = client.get(query)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        # Each preview is a render; the picker page and the favicon are plain reads.
        assert [client.get("/").status_code for _ in range(5)] == [200] * 5
        assert client.get("/favicon.ico").status_code == 200
    finally:
        app.extensions["posterapp"].store.close()

"""Rate limits, client addresses behind proxies, metrics and health."""

from __future__ import annotations

import pytest

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
    assert "3 per 1 minute" in error["message"]
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

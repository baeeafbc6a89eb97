"""The whole journey over real HTTP against gunicorn: make, fetch, scan, share, refer."""

from __future__ import annotations

import io
import json
import re
import urllib.error
import urllib.request

import zxingcpp
from PIL import Image

from posterapp.urls import upper_case_host


def request(url: str, body: dict | None = None, method: str | None = None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if data else {}
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.geturl(), response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, url, error.read(), error.headers


def test_the_whole_journey_over_http(live_server):
    base = live_server.url
    status, _, body, _ = request(f"{base}/")
    assert status == 200 and "生成我的海报" in body.decode()

    status, _, body, headers = request(
        f"{base}/api/posters",
        {"choices": ["wuhan-hot-dry-noodles", "travel-fund"], "name": "小满"},
    )
    assert status == 201
    made = json.loads(body)
    assert made["image_url"] == f"{base}/p/{made['id']}.png"

    status, _, png, headers = request(made["image_url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert "immutable" in headers["Cache-Control"]
    [decoded] = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]
    assert decoded == upper_case_host(f"{base}/Q/{made['id']}")

    # A friend scans the code: the redirect lands on the share page.
    status, landed, page, _ = request(decoded)
    assert status == 200 and landed == made["share_url"] + "?from=scan"  # counted as a scan
    assert f'src="/p/{made["id"]}.png"' in page.decode()
    make_own = re.search(r'href="(/\?ref=[^"]+)" id="make-own"', page.decode())[1]

    # … and makes their own through the "make my own" link.
    status, _, picker, _ = request(base + make_own)
    assert f'name="ref" value="{made["id"]}"' in picker.decode()
    status, _, body, _ = request(
        f"{base}/api/posters", {"choices": ["travel-fund"], "ref": made["id"]}
    )
    assert status == 201
    child = json.loads(body)

    store = live_server.store()
    try:
        # The share page the scan opened is part of the scan, not a separate view.
        assert store.event_counts(made["id"]) == {
            "created": 1, "share_view": 0, "scan": 1, "referral": 1,
        }  # fmt: skip
        assert store.get_poster(child["id"]).ref == made["id"]
    finally:
        store.close()


def test_over_http_no_bad_request_is_a_5xx(live_server):
    base = live_server.url
    cases = [
        ("POST", "/api/posters", {"choices": "x"}),
        ("POST", "/api/posters", {"choices": ["a"] * 500}),
        ("POST", "/api/posters", {"choices": ["travel-fund"], "name": "\u202e" * 5}),
        ("GET", "/p/%00%00.png", None),
        ("GET", "/s/" + "A" * 5000, None),
        ("GET", "/api/posters/..%2F..", None),
        ("GET", "/q/", None),
    ]
    for method, path, body in cases:
        status, _, payload, _ = request(base + path, body, method)
        assert 400 <= status < 500, (path, status, payload[:200])

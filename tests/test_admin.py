"""The campaign console: sign-in, CSRF, permissions, editing, publishing, rollback, uploads."""

from __future__ import annotations

import io
import re
import struct
import zlib

import pytest
from PIL import Image

from posterapp import staff

from .conftest import DEFAULT_CATALOG, TEST_CONFIG, BufferedClient

NAME, PASSWORD = "li.na", "correct horse battery"
OLD_LABEL, NEW_LABEL = "label: 过早来碗热干面", "label: 过早就要热干面"


@pytest.fixture(scope="module")
def admin_app(tmp_path_factory):
    """An app of its own: publishing here must not change what other tests see."""
    from posterapp import create_app

    app = create_app(
        {
            **TEST_CONFIG,
            "DATA_DIR": str(tmp_path_factory.mktemp("admin")),
            "PUBLIC_URL": "https://posters.example",
        }
    )
    app.test_client_class = BufferedClient
    staff.add_user(app.extensions["posterapp"].store, NAME, PASSWORD)
    yield app
    app.extensions["posterapp"].store.close()


@pytest.fixture
def site(admin_app):
    return admin_app.extensions["posterapp"]


@pytest.fixture
def anonymous(admin_app):
    return admin_app.test_client()


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def sign_in(client, name=NAME, password=PASSWORD):
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    return client.post(
        "/admin/login", data={"name": name, "password": password, "csrf_token": token}
    )


@pytest.fixture
def staff_client(admin_app, site):
    client = admin_app.test_client()
    # Each test starts with a clean slate of login attempts from this address.
    from posterapp.store import login_attempts

    with site.store.engine.begin() as db:
        db.execute(login_attempts.delete())
    assert sign_in(client).status_code == 302
    return client


def page_token(client, path="/admin/catalog") -> str:
    return token_of(client.get(path).get_data(as_text=True))


def test_every_console_route_needs_a_login(admin_app, anonymous):
    rules = [r for r in admin_app.url_map.iter_rules() if r.rule.startswith("/admin")]
    checked = 0
    for rule in rules:
        if rule.endpoint.startswith("auth."):
            continue
        path = re.sub(r"<(?:int:)?[a-z_]+>", "1", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = anonymous.open(path, method=method)
            if path.startswith("/admin/api/"):
                assert response.status_code == 401, (method, path)
                message = response.get_json()["error"]["message"]
                assert message == "请先登录活动后台，再进行这个操作"
            else:
                assert response.status_code == 302, (method, path)
                assert response.headers["Location"].startswith("/admin/login")
            checked += 1
    assert checked >= 9


def test_sign_in_sets_a_safe_cookie_and_sign_out_ends_it(staff_client, anonymous):
    response = sign_in(anonymous)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert anonymous.get("/admin").status_code == 200
    token = page_token(anonymous, "/admin")
    assert anonymous.post("/admin/logout", data={"csrf_token": token}).status_code == 302
    assert anonymous.get("/admin").status_code == 302


def test_a_wrong_password_is_refused_with_a_message(anonymous, site):
    from posterapp.store import login_attempts

    with site.store.engine.begin() as db:
        db.execute(login_attempts.delete())
    response = sign_in(anonymous, password="wrong password!")
    assert response.status_code == 401
    assert "用户名或密码不对" in response.get_data(as_text=True)
    assert sign_in(anonymous, name="nobody").status_code == 401


def test_repeated_wrong_passwords_are_slowed_down(anonymous, site):
    from posterapp.store import login_attempts

    with site.store.engine.begin() as db:
        db.execute(login_attempts.delete())
    for _ in range(staff.MAX_FAILURES):
        assert sign_in(anonymous, password="guess-guess").status_code == 401
    locked = sign_in(anonymous)  # even the right password waits now
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "密码错误次数太多，请 1" in locked.get_data(as_text=True)  # "14 分 59 秒后再试"
    with site.store.engine.begin() as db:
        db.execute(login_attempts.delete())


def test_state_changes_need_the_csrf_token(staff_client, site):
    live = site.store.live()
    response = staff_client.post("/admin/catalog", data={"source": live.source, "base": live.id})
    assert response.status_code == 400
    assert "页面打开太久了，请刷新后再试一次" in response.get_data(as_text=True)
    api = staff_client.post("/admin/api/validate", json={"source": live.source})
    assert api.status_code == 400
    assert api.get_json()["error"]["code"] == "csrf_failed"
    assert site.store.live().id == live.id


def test_live_validation_points_at_the_line(staff_client):
    token = page_token(staff_client)
    source = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(
        "  - id: travel-fund", "  - id: no"
    )
    result = staff_client.post(
        "/admin/api/validate", json={"source": source}, headers={"X-CSRFToken": token}
    ).get_json()
    assert result["ok"] is False
    [problem] = result["problems"]
    assert problem["line"] == source.splitlines().index("  - id: no") + 1
    assert problem["path"].endswith(".id") and "是/否" in problem["message"]
    assert problem["where"] == f"第 {problem['line']} 行（选项「存一笔旅游资金」的编号（id））"
    good = staff_client.post(
        "/admin/api/validate",
        json={"source": DEFAULT_CATALOG.read_text(encoding="utf-8")},
        headers={"X-CSRFToken": token},
    ).get_json()
    assert good["ok"] and "105 个选项" in good["summary"]


def test_preview_renders_every_layout_with_the_edited_choice(staff_client):
    token = page_token(staff_client)
    source = DEFAULT_CATALOG.read_text(encoding="utf-8").replace(OLD_LABEL, NEW_LABEL)
    result = staff_client.post(
        "/admin/api/preview", json={"source": source}, headers={"X-CSRFToken": token}
    ).get_json()
    assert [p["layout"] for p in result["previews"]] == ["hero", "list", "grid"]
    for item in result["previews"]:
        data = item["image"].removeprefix("data:image/png;base64,")
        import base64

        assert Image.open(io.BytesIO(base64.b64decode(data))).size == (432, 768)


def publish(client, source: str, base: int):
    token = page_token(client)
    return client.post("/admin/catalog", data={"source": source, "base": base, "csrf_token": token})


def test_publish_changes_new_posters_and_leaves_old_ones_byte_identical(staff_client, site):
    api = site  # the public API of the same app
    client = staff_client
    before = client.post("/api/posters", json={"choices": ["wuhan-hot-dry-noodles"]}).get_json()
    old_png = client.get(f"/p/{before['id']}.png").data
    live = site.store.live()

    response = publish(client, live.source.replace(OLD_LABEL, NEW_LABEL), live.id)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/history"
    site._live = None  # as another worker would, a second later
    assert api.active.catalog.choice("wuhan-hot-dry-noodles").label == "过早就要热干面"
    history = client.get("/admin/history").get_data(as_text=True)
    assert "正在使用" in history
    assert "+    label: 过早就要热干面" in history

    after = client.post("/api/posters", json={"choices": ["wuhan-hot-dry-noodles"]}).get_json()
    assert client.get(f"/p/{after['id']}.png").data != old_png
    import shutil

    shutil.rmtree(site.cache.root)  # even re-rendered from its record, the old one is the same
    assert client.get(f"/p/{before['id']}.png").data == old_png


def test_a_stale_save_gets_a_conflict_and_overwrites_nothing(staff_client, site, admin_app):
    live = site.store.live()
    other = admin_app.test_client()
    sign_in(other)
    first = publish(
        other, live.source.replace("label: 存一笔旅游资金", "label: 存一笔旅行基金"), live.id
    )
    assert first.status_code == 302
    winner = site.store.live()

    stale = publish(
        staff_client, live.source.replace("label: 周末睡到自然醒", "label: 周末睡个懒觉"), live.id
    )
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert f"{NAME} 在北京时间" in html and f"发布了新版本（{winner.version}）" in html
    assert "周末睡个懒觉" in html  # the stale edit is still in the editor, not lost
    assert site.store.live().id == winner.id


def test_an_invalid_catalog_is_not_published(staff_client, site):
    live = site.store.live()
    response = publish(
        staff_client, live.source.replace("max_picks: 12", "max_picks: 500"), live.id
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "最多能选 500 项（max_picks），但目录里只有 105 个选项" in page
    assert site.store.live().id == live.id


def test_rollback_puts_an_earlier_version_live_again(staff_client, site):
    live = site.store.live()
    publish(
        staff_client, live.source.replace("label: 今年学会游泳", "label: 今年学会自由泳"), live.id
    )
    newest = site.store.live()
    token = page_token(staff_client, "/admin/history")
    response = staff_client.post(
        f"/admin/history/{live.id}/rollback",
        data={"base": newest.id, "csrf_token": token, "confirm": "yes"},
    )
    assert response.status_code == 302
    rolled = site.store.live()
    assert rolled.version == live.version and rolled.kind == "rollback" and rolled.id > newest.id
    assert "已回滚" in staff_client.get("/admin/history").get_data(as_text=True)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height`` pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    "name, data, words",
    [
        ("bomb.png", png_claiming(30000, 30000), "声称有极多像素"),
        ("big.png", b"\x89PNG" + b"0" * (600 * 1024), "打不开，不是一张完整的图片"),
        ("notes.txt", b"hello", "图标要用 PNG、JPEG、WebP 图片或 SVG 图"),
        ("fake.png", b"not an image at all", "打不开，不是一张完整的图片"),
    ],
)
def test_bad_icon_uploads_are_refused(staff_client, site, name, data, words):
    token = page_token(staff_client)
    response = staff_client.post(
        "/admin/uploads",
        data={"icon": (io.BytesIO(data), name), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    response.close()  # a refusal is no redirect: close the spooled upload here
    assert words in response.get_data(as_text=True)
    assert f"uploads/{name}" not in site.store.upload_paths()


def test_an_uploaded_icon_can_be_used_in_the_catalog(staff_client, site):
    image = io.BytesIO()
    Image.new("RGBA", (96, 96), "#E0472B").save(image, format="PNG")
    token = page_token(staff_client)
    response = staff_client.post(
        "/admin/uploads",
        data={"icon": (io.BytesIO(image.getvalue()), "Red Dot.PNG"), "csrf_token": token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    # Stored under the hash of its content, shown under its own name.
    path = re.search(r"icon: (uploads/[0-9a-f]{16}\.png)", response.get_data(as_text=True))[1]
    assert "已上传「Red Dot.PNG」" in response.get_data(as_text=True)
    live = site.store.live()
    source = live.source.replace("icon: icons/wuhan-hot-dry-noodles.svg", f"icon: {path}", 1)
    assert publish(staff_client, source, live.id).status_code == 302
    site._live = None
    assert site.active.asset(path) == image.getvalue()
    made = staff_client.post("/api/posters", json={"choices": ["wuhan-hot-dry-noodles"]})
    assert made.status_code == 201

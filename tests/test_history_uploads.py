"""The console's 版本历史 (diffs with icons, refusals, confirmation, 北京时间) and 图片库."""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from posterapp import staff

from .conftest import TEST_CONFIG, BufferedClient

NAME, PASSWORD = "wang.fang", "a long enough password"
SWIM, FREESTYLE = "label: 今年学会游泳", "label: 今年学会自由泳"
NOODLES = "icon: icons/wuhan-hot-dry-noodles.svg"


@pytest.fixture(scope="module")
def console_app(tmp_path_factory):
    """An app of its own: these tests publish and upload."""
    from posterapp import create_app

    app = create_app(
        {**TEST_CONFIG, "DATA_DIR": str(tmp_path_factory.mktemp("history")),
         "PUBLIC_URL": "https://posters.example"}
    )  # fmt: skip
    app.test_client_class = BufferedClient
    staff.add_user(app.extensions["posterapp"].store, NAME, PASSWORD)
    yield app
    app.extensions["posterapp"].store.close()


@pytest.fixture
def site(console_app):
    return console_app.extensions["posterapp"]


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


@pytest.fixture
def staff_client(console_app, site):
    from posterapp.store import login_attempts

    with site.store.engine.begin() as db:
        db.execute(login_attempts.delete())
    client = console_app.test_client()
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    signed = client.post(
        "/admin/login", data={"name": NAME, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    client.token = token_of(client.get("/admin/history").get_data(as_text=True))
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def alerts(response) -> list[str]:
    found = re.findall(
        r'<p class="error" role="alert">([^<]*)</p>', response.get_data(as_text=True)
    )
    return [html.unescape(message) for message in found]


def flashes(response) -> list[str]:
    found = re.findall(
        r'<p class="flash" role="status">([^<]*)</p>', response.get_data(as_text=True)
    )
    return [html.unescape(message) for message in found]


def settled(client, response):
    """Open the page a redirect leads to, as a browser would, so its message is read there."""
    if response.status_code == 302:
        client.get(response.headers["Location"])
    return response


def publish(client, source: str, base: int):
    return settled(
        client,
        client.post(
            "/admin/catalog", data={"source": source, "base": base, "csrf_token": client.token}
        ),
    )


def rollback(client, publication_id: int, base: int, confirm: bool = True):
    data = {"base": base, "csrf_token": client.token}
    if confirm:
        data["confirm"] = "yes"
    return settled(client, client.post(f"/admin/history/{publication_id}/rollback", data=data))


def reset(site, client) -> None:
    """Put the first catalog live again, whatever earlier tests published."""
    first = site.store.publications()[-1]
    live = site.store.live()
    if live.version != first.version:
        assert rollback(client, first.id, live.id).status_code == 302
    site._live = None


# History ----------------------------------------------------------------------------------


def test_a_publish_identical_to_the_live_version_is_refused(staff_client, site):
    reset(site, staff_client)
    live = site.store.live()
    count = len(site.store.publications())
    response = publish(staff_client, live.source, live.id)
    assert response.status_code == 409
    assert "和现在线上的版本完全一样，不用再发布" in text(response)
    assert len(site.store.publications()) == count and site.store.live() == live


def test_a_rollback_asks_first_then_puts_the_version_live(staff_client, site):
    reset(site, staff_client)
    first = site.store.live()
    assert publish(staff_client, first.source.replace(SWIM, FREESTYLE), first.id).status_code == 302
    newest = site.store.live()
    history = text(staff_client.get("/admin/history"))
    assert "回滚到这个版本…" in history

    # Without the confirm field (a click on the list's button), nothing changes yet.
    for asked in (
        staff_client.get(f"/admin/history/{first.id}/rollback"),
        rollback(staff_client, first.id, newest.id, confirm=False),
    ):
        assert asked.status_code == 200
        page = text(asked)
        assert f"确定要回滚到第 {first.id} 号发布吗？" in page
        assert 'name="confirm" value="yes"' in page and "取消" in page
        assert f"-    {FREESTYLE}" in page  # what the rollback would undo
        assert site.store.live() == newest

    done = staff_client.post(
        f"/admin/history/{first.id}/rollback",
        data={"base": newest.id, "csrf_token": staff_client.token, "confirm": "yes"},
    )
    assert done.status_code == 302
    assert site.store.live().version == first.version
    page = staff_client.get("/admin/history")
    assert any(m.startswith("已回滚：版本") for m in flashes(page)) and not alerts(page)


def test_a_rollback_to_the_live_version_is_refused(staff_client, site):
    reset(site, staff_client)
    live = site.store.live()
    assert publish(staff_client, live.source.replace(SWIM, FREESTYLE), live.id).status_code == 302
    assert rollback(staff_client, live.id, site.store.live().id).status_code == 302
    now_live = site.store.live()
    count = len(site.store.publications())

    response = rollback(staff_client, live.id, now_live.id)
    assert response.status_code == 409
    assert alerts(response) == [f"第 {live.id} 号发布的版本和现在线上的完全一样，不用回滚"]
    assert not any("不用回滚" in m for m in flashes(response))  # not the green box
    confirm = staff_client.get(f"/admin/history/{live.id}/rollback")
    assert confirm.status_code == 409 and "不用回滚" in alerts(confirm)[0]
    assert len(site.store.publications()) == count
    # The list offers no rollback to a publication of the live version.
    history = text(staff_client.get("/admin/history"))
    assert "和线上版本相同" in history


def test_a_rollback_conflict_is_an_error_in_chinese(staff_client, site):
    reset(site, staff_client)
    live = site.store.live()
    assert publish(staff_client, live.source.replace(SWIM, FREESTYLE), live.id).status_code == 302
    seen = site.store.live()  # the page the person has open was made now
    source = seen.source.replace("label: 周末睡到自然醒", "label: 周末睡个懒觉")
    assert publish(staff_client, source, seen.id).status_code == 302  # someone else, meanwhile
    winner = site.store.live()

    response = rollback(staff_client, live.id, seen.id)
    assert response.status_code == 409
    [message] = alerts(response)
    when = winner.created_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    assert message == (
        f"没有回滚：你打开这个页面之后，{NAME} 在 {when} 北京时间 发布了新版本 "
        f"{winner.version}（#{winner.id}）。请看看下面最新的记录，确定还要回滚的话再点一次。"
    )
    assert not any("没有回滚" in m for m in flashes(response))  # not the green box
    assert site.store.live() == winner


def test_history_times_are_beijing_time(staff_client, site):
    page = text(staff_client.get("/admin/history"))
    live = site.store.live()
    local = live.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert local.utcoffset() == dt.timedelta(hours=8)
    assert f">{local:%Y-%m-%d %H:%M} 北京时间</time>" in page
    assert "时间都是北京时间" in page


def png(color: str, size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), color).save(out, format="PNG")
    return out.getvalue()


def upload(client, name: str, data: bytes):
    return client.post(
        "/admin/uploads",
        data={"icon": (io.BytesIO(data), name), "csrf_token": client.token},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def path_in(message: str) -> str:
    return re.search(r"icon: (uploads/[0-9a-f]{16}\.[a-z]+)", message)[1]


def test_replacing_an_icon_shows_both_pictures_in_the_history(staff_client, site):
    reset(site, staff_client)
    red = path_in(flashes(upload(staff_client, "红色.png", png("#E0472B")))[0])
    blue = path_in(flashes(upload(staff_client, "蓝色.png", png("#1F6FB2")))[0])
    live = site.store.live()
    with_red = live.source.replace(NOODLES, f"icon: {red}", 1)
    assert publish(staff_client, with_red, live.id).status_code == 302
    red_version = site.store.live()
    assert publish(staff_client, with_red.replace(red, blue), red_version.id).status_code == 302
    blue_version = site.store.live()

    page = text(staff_client.get("/admin/history"))
    newest = page.split('<li class="is-live">')[1].split("</li>\n  <li")[0]
    assert "图标改了：<strong>过早来碗热干面</strong>" in newest
    before = f"/assets/{red_version.version}/{red}"
    after = f"/assets/{blue_version.version}/{blue}"
    assert f'<img src="{before}"' in newest and f'<img src="{after}"' in newest
    assert "与上一版内容相同" not in newest
    assert staff_client.get(before).data == png("#E0472B")
    assert staff_client.get(after).data == png("#1F6FB2")
    # The first change, from the shipped drawing to the uploaded picture.
    drawing = "icons/wuhan-hot-dry-noodles.svg"
    assert f'<img src="/assets/{live.version}/{drawing}"' in page


# Uploads ----------------------------------------------------------------------------------


def test_a_chinese_file_name_is_kept_and_shown(staff_client, site):
    data = png("#F2A33A")
    response = upload(staff_client, "小笼包.png", data)
    [message] = flashes(response)
    path = path_in(message)
    assert message == f"已上传「小笼包.png」。在目录里写 icon: {path} 就能用它。"
    assert re.fullmatch(r"uploads/[0-9a-f]{16}\.png", path)
    assert site.store.upload(path) == data
    library = text(staff_client.get("/admin/uploads"))
    assert "<strong>小笼包.png</strong>" in library and f"icon: {path}" in library
    thumb = staff_client.get("/admin/uploads/" + path.removeprefix("uploads/"))
    assert thumb.status_code == 200 and thumb.mimetype == "image/png" and thumb.data == data


def test_an_upload_never_replaces_another(staff_client, site):
    first, second = png("#123456"), png("#654321")
    one = path_in(flashes(upload(staff_client, "生煎.png", first))[0])

    again = flashes(upload(staff_client, "另一个名字.png", first))
    assert again == [
        f"「另一个名字.png」和已经上传过的一张图片内容完全一样，没有再存一份。"
        f"在目录里写 icon: {one} 就能用它。"
    ]

    [message] = flashes(upload(staff_client, "生煎.png", second))
    two = path_in(message)
    assert two != one
    assert (
        f"注意：之前已经有一张同名但内容不同的图片（{one}），它没有被替换，两张都保留着。"
        in message
    )
    assert site.store.upload(one) == first and site.store.upload(two) == second


def phone_photo(width: int = 4000, height: int = 3000) -> bytes:
    """A noisy JPEG like a phone photo: a couple of megabytes."""
    out = io.BytesIO()
    Image.effect_noise((width, height), 24).convert("RGB").save(out, format="JPEG", quality=70)
    return out.getvalue()


def test_a_large_phone_photo_is_made_icon_sized(staff_client, site):
    data = phone_photo()
    assert 2 * 1024 * 1024 < len(data) < 10 * 1024 * 1024
    response = upload(staff_client, "IMG_2031 外婆家.jpg", data)
    assert response.status_code == 200
    [message] = flashes(response)
    assert "原图 4000×3000，已缩小到 1024×768。" in message
    path = path_in(message)
    stored = site.store.upload(path)
    assert len(stored) <= 512 * 1024
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (1024, 768) and image.format == "WEBP"


@pytest.mark.parametrize(
    "size, status, words",
    [
        (10 * 1024 * 1024 + 1, 422, "文件有 10.0 MB，太大了：上传的图片最大 10 MB。"),
        (12 * 1024 * 1024, 413, "没有上传：文件太大了，上传的图片最大 10 MB。"),
    ],
)
def test_a_too_large_file_gets_a_message_in_the_console(staff_client, size, status, words):
    # The body is built here, in memory: the test client would spool it to a temporary file.
    boundary = "posterapp-test"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{staff_client.token}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            'name="icon"; filename="大图.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        + b"\xff" * size
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = staff_client.post(
        "/admin/uploads", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert response.status_code == status
    [message] = alerts(response)
    assert words in message
    assert "<h1>图片库</h1>" in response.get_data(as_text=True)  # the console, not the error page


def test_delete_only_what_nothing_live_or_drafted_uses(staff_client, site):
    reset(site, staff_client)
    unused = path_in(flashes(upload(staff_client, "不用了.png", png("#ABCDEF")))[0])
    used = path_in(flashes(upload(staff_client, "在用.png", png("#FEDCBA")))[0])
    live = site.store.live()
    assert publish(staff_client, live.source.replace(NOODLES, f"icon: {used}", 1),
                   live.id).status_code == 302  # fmt: skip
    site._live = None

    def delete(path):
        return staff_client.post(
            f"/admin/{path}/delete", data={"csrf_token": staff_client.token},
            follow_redirects=True,
        )  # fmt: skip

    refused = delete(used)
    assert refused.status_code == 409
    assert alerts(refused) == [
        f"没有删除「在用.png」：线上版本在用。先在目录里换掉它（icon: {used}）并发布，再来删除。"
    ]
    assert site.store.upload(used) is not None

    if hasattr(site.store, "save_draft"):
        drafted = path_in(flashes(upload(staff_client, "草稿.png", png("#0F0F0F")))[0])
        site.store.save_draft(NAME, site.store.live().id, f"icon: {drafted}")
        assert "草稿里在用" in alerts(delete(drafted))[0]

    gone = delete(unused)
    assert gone.status_code == 200
    assert flashes(gone) == ["已删除「不用了.png」。用过它的旧版本和旧海报不受影响。"]
    assert site.store.upload(unused) is None
    assert delete(unused).status_code == 404

    # Once the live catalog stops using it, it can go; the version that used it keeps it.
    with_used = site.store.live()
    reset(site, staff_client)
    assert delete(used).status_code == 200
    assert site.store.load_version(with_used.version).asset(used) == png("#FEDCBA")


def test_a_picture_with_junk_after_it_is_stored_clean(staff_client, site):
    # Over 512 KB only because of what follows the image: re-encoded, the junk is gone.
    data = png("#336699", 48) + bytes(600 * 1024)
    [message] = flashes(upload(staff_client, "带尾巴.png", data))
    stored = site.store.upload(path_in(message))
    assert len(stored) < 10 * 1024
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (48, 48) and image.getpixel((0, 0))[:3] == (0x33, 0x66, 0x99)

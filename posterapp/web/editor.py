"""Staff edit the catalog: live validation, previews in every layout, publish, history, rollback."""

from __future__ import annotations

import base64
import difflib
import io
import mimetypes
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from PIL import Image
from werkzeug.exceptions import RequestEntityTooLarge

from .. import urls
from ..assets import (
    UPLOAD_MAX_BYTES,
    UPLOAD_NAME_MAX,
    UPLOADS,
    AssetError,
    prepare_upload,
    shown_name,
)
from ..catalog import Catalog
from ..catalog import warnings as catalog_warnings
from ..catalog_edit import EditError
from ..catalog_edit import apply as apply_change
from ..catalog_edit import view as form_view
from ..drafts import merge
from ..errors import Conflict, InvalidSource, PosterappError, SelectionError
from ..model import Poster
from ..render.poster import render_small
from ..render.sheet import SAMPLE_URL, worst_case
from . import studio
from .auth import audit, require_staff
from .errors import handle_http

bp = Blueprint("editor", __name__, url_prefix="/admin")
bp.before_request(require_staff)

SHANGHAI = ZoneInfo("Asia/Shanghai")
PREVIEW_SIZE = (432, 768)  # 40 % of the poster: sharp enough to read on a laptop


def _problems(error: InvalidSource) -> list[dict]:
    return [p.to_dict() for p in error.problems]


def _body() -> dict:
    try:
        data = request.get_json(silent=True) or {}
    except RecursionError:
        data = {}
    return data if isinstance(data, dict) else {}


def _source() -> str:
    source = _body().get("source")
    if not isinstance(source, str):
        raise SelectionError('send the catalog YAML as {"source": "…"}', field="source")
    return source.replace("\r\n", "\n")


def _warnings(source: str) -> list[dict]:
    """Return what is allowed but worth a second look, compared with the live catalog."""
    site = studio()
    return [w.to_dict() for w in catalog_warnings(source, site.active.catalog, site.assets)]


def changed_choices(draft: Catalog, live: Catalog) -> list[str]:
    """Return ids of choices that are new or differ from the live catalog, in file order."""
    return [c.id for c in draft.choices if not live.has_choice(c.id) or live.choice(c.id) != c]


def sample(version, layout, live: Catalog) -> Poster:
    """Pick preview content: edited choices first, then the longest labels (the worst case)."""
    worst = worst_case(version, layout)
    edited = changed_choices(version.catalog, live)
    picks = list(dict.fromkeys([*edited, *worst.picks]))[: len(worst.picks)]
    return Poster(picks=tuple(picks), name=worst.name, url=SAMPLE_URL, layout=layout.id)


def preview_data_uri(version, poster: Poster) -> str:
    # Drawn at half size (only the rows parts cover), then to the preview's 432×768.
    image = render_small(version, poster, 2).resize(PREVIEW_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@bp.get("/catalog")
def edit():
    site = studio()
    live = site.live_publication()
    draft = site.store.draft(g.staff)
    return render_template(
        "admin/editor.html",
        source=draft.source if draft else live.source,
        base=(draft.base or live.id) if draft else live.id,
        draft=draft,
        live=live,
        uploads=site.store.upload_paths(),
    )


# A draft is catalog YAML; twice the largest catalog that can be published leaves room.
DRAFT_MAX = 512 * 1024


@bp.get("/api/draft")
def draft_get():
    """Return the signed-in person's draft and a fresh CSRF token (after signing in again)."""
    from flask_wtf.csrf import generate_csrf  # noqa: PLC0415

    site = studio()
    draft = site.store.draft(g.staff)
    live = site.live_publication()
    return jsonify(
        {
            "draft": (
                {
                    "source": draft.source,
                    "base": draft.base,
                    "updated_at": draft.updated_at.isoformat(),
                }
                if draft
                else None
            ),
            "live": live.id,
            "csrf_token": generate_csrf(),
        }
    )


@bp.post("/api/draft")
def draft_save():
    """Keep what is being edited, so that nothing typed is ever lost."""
    source = _source()
    if len(source) > DRAFT_MAX:
        raise SelectionError(
            "草稿太大了（超过 512 KB），没有保存；目录文件不会这么大，请检查是否粘贴了别的内容。",
            field="source",
        )
    base = _publication_id(str(_body().get("base", "")))
    draft = studio().store.save_draft(g.staff, base, source)
    return jsonify({"ok": True, "updated_at": draft.updated_at.isoformat()})


@bp.post("/api/draft/discard")
def draft_discard():
    """Throw the draft away and start again from the live catalog."""
    studio().store.discard_draft(g.staff)
    live = studio().live_publication()
    return jsonify({"ok": True, "source": live.source, "base": live.id})


@bp.post("/api/validate")
def validate():
    """Check the YAML being edited; answer with every problem, or a one-line summary."""
    source = _source()
    warnings = _warnings(source)
    try:
        version = studio().load_text(source)
    except InvalidSource as error:
        return jsonify({"ok": False, "problems": _problems(error), "warnings": warnings})
    catalog = version.catalog
    summary = (
        f"没有问题：{catalog.campaign.title}，{len(catalog.choices)} 个选项，"
        f"{len(version.layouts)} 种排版，版本 {version.version}"
    )
    return jsonify(
        {
            "ok": True,
            "problems": [],
            "warnings": warnings,
            "summary": summary,
            "version": version.version,
        }
    )


@bp.post("/api/form")
def form():
    """Apply a change from the form to the draft's YAML; answer with the text, form and checks.

    Without a change, just read the draft for the form (after the YAML was edited by hand).
    """
    source = _source()
    change = _body().get("change")
    try:
        text, focus = apply_change(source, change) if change is not None else (source, None)
        shown = form_view(text)
    except EditError as error:
        return jsonify({"ok": False, "message": str(error)}), 422
    if change is not None:
        base = _publication_id(str(_body().get("base", "")))
        studio().store.save_draft(g.staff, base, text)
    try:
        studio().load_text(text)
        problems = []
    except InvalidSource as error:
        problems = _problems(error)
    return jsonify(
        {
            "ok": True,
            "source": text,
            "focus": focus,
            "form": shown,
            "problems": problems,
            "warnings": _warnings(text),
        }
    )


@bp.post("/api/publish")
def publish_api():
    """Publish the draft; on a conflict, answer with a 3-way merge to finish in the page."""
    site = studio()
    source = _source()
    base = _publication_id(str(_body().get("base", "")))
    if base is None:
        raise SelectionError(MISSING_BASE, field="base")
    try:
        publication = site.publish(source, who=g.staff, base=base)
    except InvalidSource as error:
        message = "目录里有问题，修改后再发布："
        return jsonify({"ok": False, "message": message, "problems": _problems(error)}), 422
    except Conflict:
        site.store.save_draft(g.staff, base, source)
        found = conflict(base, source)
        return jsonify({"ok": False, "message": found["message"], "conflict": found}), 409
    site.store.discard_draft(g.staff)
    audit("publish", f"版本 {publication.version}（#{publication.id}）")
    flash(f"已发布版本 {publication.version}，新海报从现在起使用它。")
    return jsonify(
        {
            "ok": True,
            "version": publication.version,
            "publication": publication.id,
            "next": url_for("editor.history"),
        }
    )


def conflict(base: int, source: str) -> dict:
    """Describe a stale publish: who published since, and the 3-way merge of the edits."""
    store = studio().store
    live = studio().live_publication()
    earlier = store.publication(base)
    merged = merge(earlier.source if earlier else "", source, live.source)
    when = live.created_at.astimezone(SHANGHAI).strftime("%m-%d %H:%M")
    if merged.conflicts:
        message = (
            f"{live.who} 在 {when} 发布了新版本（#{live.id}），和你改的有 {merged.conflicts} 处"
            "改在了同一个地方。不冲突的修改已经合在一起；请在下面逐处选择保留哪一份，再发布。"
        )
    else:
        message = (
            f"{live.who} 在 {when} 发布了新版本（#{live.id}）。你们改的地方不重叠，"
            "已经自动合并到编辑框里（你的草稿也已保存）；请检查一遍，再点发布。"
        )
    return {
        "message": message,
        "base": base,
        "live": live.id,
        "who": live.who,
        "when": live.created_at.isoformat(),
        "conflicts": merged.conflicts,
        "merged": merged.text if not merged.conflicts else None,
        "chunks": [c.to_dict() for c in merged.chunks],
        "theirs": live.source,
    }


@bp.post("/api/preview")
def preview():
    """Render the edited catalog in every layout, edited choices first."""
    site = studio()
    try:
        version = site.load_text(_source())
    except InvalidSource as error:
        return jsonify({"ok": False, "problems": _problems(error)})
    live = site.active.catalog
    previews = [
        {
            "layout": layout.id,
            "label": layout.label,
            "image": preview_data_uri(version, sample(version, layout, live)),
        }
        for layout in version.layouts_in_order
    ]
    return jsonify({"ok": True, "problems": [], "previews": previews})


def _editor_again(source: str, base: int, error: PosterappError, status: int):
    site = studio()
    problems = _problems(error) if isinstance(error, InvalidSource) else []
    page = render_template(
        "admin/editor.html",
        source=source,
        base=base,
        live=site.store.live(),
        uploads=site.store.upload_paths(),
        error=error.message if not problems else "目录里有问题，修改后再发布：",
        problems=problems,
        conflict=isinstance(error, Conflict),
    )
    return page, status


@bp.post("/catalog")
def publish():
    """Publish the edited YAML as the new live catalog."""
    source = request.form.get("source", "").replace("\r\n", "\n")
    base = _publication_id(request.form.get("base"))
    if base is None:
        return _editor_again(source, 0, SelectionError(MISSING_BASE), 400)
    try:
        publication = studio().publish(source, who=g.staff, base=base)
    except (InvalidSource, Conflict) as error:
        studio().store.save_draft(g.staff, base, source)
        return _editor_again(source, base, error, error.status_code)
    studio().store.discard_draft(g.staff)
    audit("publish", f"版本 {publication.version}（#{publication.id}）")
    flash(f"已发布版本 {publication.version}，新海报从现在起使用它。")
    return redirect(url_for("editor.history"))


SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = {"initial": "首次上线", "publish": "发布", "rollback": "回滚"}


def beijing_time(moment) -> str:
    """Show a stored (UTC) time the way staff in China read it, saying which clock it is."""
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") + " 北京时间"


def source_diff(before, after) -> list[str]:
    """Return the unified diff of two publications' YAML, without its two header lines."""
    diff = difflib.unified_diff(
        before.source.splitlines() if before else [],
        after.source.splitlines(),
        fromfile=f"#{before.id}" if before else "(无)",
        tofile=f"#{after.id}",
        lineterm="",
        n=2,
    )
    return list(diff)[2:]


def version_changes(store, before: str | None, after: str) -> dict:
    """Compare what two versions hold besides the YAML: icons, other images, layouts, theme.

    Images are compared by hash, so an icon replaced under the same name shows too; each
    side is shown from its own immutable version (/assets/<version>/<path>).
    """
    new = store.version_manifest(after) or {}
    old = (store.version_manifest(before) if before else None) or {}
    old_assets, new_assets = old.get("assets", {}), new.get("assets", {})

    def icon(version: str, assets: dict, value: str | None) -> dict | None:
        if value is None:
            return None
        if value in assets:
            return {"image": urls.catalog_asset(version, value), "text": value}
        return {"image": None, "text": value}  # an emoji

    old_choices = {c["id"]: c for c in old.get("catalog", {}).get("choices", [])}
    icons, shown = [], set()
    for choice in new.get("catalog", {}).get("choices", []):
        earlier = old_choices.get(choice["id"])
        if earlier is None or before is None:  # a new choice (all are, with no earlier version)
            continue
        was, now_ = earlier.get("icon"), choice.get("icon")
        if was == now_ and old_assets.get(was) == new_assets.get(now_):
            continue
        icons.append(
            {
                "label": choice.get("label", choice["id"]),
                "before": icon(before, old_assets, was),
                "after": icon(after, new_assets, now_),
            }
        )
        shown |= {was, now_}
    assets = [
        {
            "path": path,
            "before": old_assets.get(path) and before and urls.catalog_asset(before, path),
            "after": new_assets.get(path) and urls.catalog_asset(after, path),
            "change": "新增" if path not in old_assets
            else "删除" if path not in new_assets else "换了图片",
        }
        for path in sorted(old_assets.keys() | new_assets.keys())
        if old_assets.get(path) != new_assets.get(path) and path not in shown
    ]  # fmt: skip
    old_layouts, new_layouts = old.get("layouts", {}), new.get("layouts", {})
    layouts = sorted(
        key
        for key in old_layouts.keys() | new_layouts.keys()
        if old_layouts.get(key) != new_layouts.get(key)
    )
    themes = bool(before) and old.get("themes") != new.get("themes")
    return {"icons": icons, "assets": assets, "layouts": layouts, "themes": themes}


def history_rows(site) -> list[dict]:
    publications = site.store.publications()
    rows = []
    for index, publication in enumerate(publications):
        previous = publications[index + 1] if index + 1 < len(publications) else None
        same_version = previous is not None and previous.version == publication.version
        rows.append(
            {
                "publication": publication,
                "kind": KINDS.get(publication.kind, publication.kind),
                "when": beijing_time(publication.created_at),
                "diff": source_diff(previous, publication),
                "changes": (
                    {"icons": [], "assets": [], "layouts": [], "themes": False}
                    if same_version or previous is None
                    else version_changes(site.store, previous.version, publication.version)
                ),
            }
        )
    return rows


def _history_page(error: str | None = None, status: int = 200, confirm: dict | None = None):
    site = studio()
    page = render_template(
        "admin/history.html",
        rows=history_rows(site),
        live=site.store.live(),
        error=error,
        confirm=confirm,
    )
    return page, status


@bp.get("/history")
def history():
    return _history_page()


def _rollback_target(site, publication_id: int):
    if not _in_range(publication_id) or site.store.publication(publication_id) is None:
        return None, _history_page(
            f"没有第 {publication_id} 号发布记录，请在下面的列表里选一个版本回滚。", 404
        )
    return site.store.publication(publication_id), None


@bp.get("/history/<int:publication_id>/rollback")
def confirm_rollback(publication_id: int):
    """Ask before putting an earlier version live again (a page: no script needed)."""
    site = studio()
    target, refused = _rollback_target(site, publication_id)
    if refused:
        return refused
    return _confirmation(site, target)


def _confirmation(site, target):
    live = site.store.live()
    if live is not None and live.version == target.version:
        return _history_page(f"第 {target.id} 号发布的版本和现在线上的完全一样，不用回滚。", 409)
    confirm = {
        "publication": target,
        "when": beijing_time(target.created_at),
        "live": live,
        "diff": source_diff(live, target) if live else [],
        "changes": version_changes(site.store, live.version if live else None, target.version),
    }
    return _history_page(confirm=confirm)


@bp.post("/history/<int:publication_id>/rollback")
def rollback(publication_id: int):
    site = studio()
    base = _publication_id(request.form.get("base"))
    if base is None:
        return _history_page(MISSING_BASE, 400)
    target, refused = _rollback_target(site, publication_id)
    if refused:
        return refused
    if request.form.get("confirm") != "yes":
        return _confirmation(site, target)
    try:
        publication = site.rollback(publication_id, who=g.staff, base=base)
    except Conflict as error:
        live = site.store.live()
        if live is not None and live.version == target.version:
            return _history_page(error.message, 409)
        message = (
            f"没有回滚：你打开这个页面之后，{live.who} 在 {beijing_time(live.created_at)} "
            f"发布了新版本 {live.version}（#{live.id}）。请看看下面最新的记录，"
            "确定还要回滚的话再点一次。"
            if live
            else "没有回滚：线上的版本刚刚变了，请刷新页面再试。"
        )
        return _history_page(message, 409)
    audit("rollback", f"版本 {publication.version}（#{publication.id}）")
    flash(f"已回滚：版本 {publication.version} 重新上线（#{publication.id}）。")
    return redirect(url_for("editor.history"))


MISSING_BASE = "表单缺少当前版本信息，请刷新页面再试。"
# Publication ids are SQL INTEGERs: a larger number cannot be one (and PostgreSQL refuses it).
MAX_ID = 2**31 - 1


def _in_range(number: int) -> bool:
    return 1 <= number <= MAX_ID


def _publication_id(text: str | None) -> int | None:
    """Read a publication id from a form field; None if it is missing or cannot be one."""
    try:
        number = int((text or "").strip())
    except ValueError:
        return None
    return number if _in_range(number) else None


@bp.post("/uploads")
def upload():
    """Accept an image under any name: a large photo is made icon-sized, nothing is replaced."""
    file = request.files.get("icon")
    if file is None or not file.filename:
        return _uploads_page("请选择一张图片再上传。", 400)
    name = shown_name(file.filename)
    if len(name) > UPLOAD_NAME_MAX:
        return _uploads_page(
            f"没有上传：文件名太长了（{len(name)} 个字符），"
            f"请改成 {UPLOAD_NAME_MAX} 个字符以内再上传。",
            400,
        )
    try:
        prepared = prepare_upload(name, file.read(UPLOAD_MAX_BYTES + 1))
    except AssetError as problem:
        return _uploads_page(f"没有上传：{problem}", 422)
    store = studio().store
    namesakes = [
        u["path"] for u in store.upload_list() if u["name"] == name and u["path"] != prepared.path
    ]
    if not store.add_upload(prepared.path, prepared.data, name, who=g.staff):
        flash(
            f"「{name}」和已经上传过的一张图片内容完全一样，没有再存一份。"
            f"在目录里写 icon: {prepared.path} 就能用它。"
        )
        return redirect(url_for("editor.uploads"))
    shrunk = ""
    if prepared.original_size and prepared.size:
        (w0, h0), (w1, h1) = prepared.original_size, prepared.size
        shrunk = f"原图 {w0}×{h0}，已缩小到 {w1}×{h1}。"
    same_name = ""
    if namesakes:
        same_name = (
            f"注意：之前已经有一张同名但内容不同的图片（{'、'.join(namesakes)}），"
            "它没有被替换，两张都保留着。"
        )
    audit("upload", f"{name} → {prepared.path}")
    flash(f"已上传「{name}」。{shrunk}{same_name}在目录里写 icon: {prepared.path} 就能用它。")
    return redirect(url_for("editor.uploads"))


def upload_uses(site) -> dict[str, list[str]]:
    """Say, for each upload, what uses it now: the live catalog, a draft."""
    live = site.active.assets
    drafts = site.store.draft_sources()
    uses: dict[str, list[str]] = {}
    for item in site.store.upload_list():
        path = item["path"]
        uses[path] = [
            *(["线上版本在用"] if path in live else []),
            *(["草稿里在用"] if any(path in text for text in drafts) else []),
        ]
    return uses


def _uploads_page(error: str | None = None, status: int = 200):
    site = studio()
    uses = upload_uses(site)
    items = [
        {**item, "when": beijing_time(item["created_at"]), "uses": uses.get(item["path"], [])}
        for item in site.store.upload_list()
    ]
    page = render_template(
        "admin/uploads.html",
        items=items,
        error=error,
        max_mb=UPLOAD_MAX_BYTES // 1024 // 1024,
    )
    return page, status


@bp.get("/uploads")
def uploads():
    """The media library: every uploaded image with its name, where it is used, delete."""
    return _uploads_page()


@bp.get("/uploads/<name>")
def upload_file(name: str):
    """Send an uploaded image for its thumbnail in the console (SVGs are only ever images)."""
    path = UPLOADS + name
    data = studio().store.upload(path)
    if data is None:
        abort(404)
    mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


@bp.post("/uploads/<name>/delete")
def delete_upload(name: str):
    """Delete an upload nothing live uses; versions made with it keep their own copy."""
    site = studio()
    path = UPLOADS + name
    items = {item["path"]: item for item in site.store.upload_list()}
    if path not in items:
        return _uploads_page("这张图片已经不在了，可能刚被别人删掉。", 404)
    uses = upload_uses(site).get(path, [])
    if uses:
        return _uploads_page(
            f"没有删除「{items[path]['name']}」：{'、'.join(uses)}。"
            "先在目录里换掉它（icon: " + path + "）并发布，再来删除。",
            409,
        )
    site.store.delete_upload(path)
    flash(f"已删除「{items[path]['name']}」。用过它的旧版本和旧海报不受影响。")
    return redirect(url_for("editor.uploads"))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge):
    """Say in the console that an upload is too large; other console pages as everywhere."""
    if request.path == url_for("editor.upload"):
        return _uploads_page(
            f"没有上传：文件太大了，上传的图片最大 {UPLOAD_MAX_BYTES // 1024 // 1024} MB。"
            "请先用手机或电脑压缩一下再上传。",
            413,
        )
    return handle_http(error)

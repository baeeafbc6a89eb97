"""Staff edit the catalog: live validation, previews in every layout, publish, history, rollback."""

from __future__ import annotations

import base64
import difflib
import io
import re

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from PIL import Image
from werkzeug.utils import secure_filename

from ..assets import UPLOADS, AssetError, check_icon
from ..catalog import Catalog
from ..errors import Conflict, InvalidSource, PosterappError, SelectionError
from ..render.poster import Poster, render
from ..render.sheet import SAMPLE_URL, worst_case
from ..store import UPLOAD_PATH_MAX
from . import studio
from .auth import audit, require_staff

bp = Blueprint("editor", __name__, url_prefix="/admin")
bp.before_request(require_staff)

PREVIEW_SIZE = (432, 768)  # 40 % of the poster: sharp enough to read on a laptop


def _problems(error: InvalidSource) -> list[dict]:
    return [
        {"line": p.line, "path": p.path, "message": p.message, "file": p.file}
        for p in error.problems
    ]


def _source() -> str:
    try:
        data = request.get_json(silent=True) or {}
    except RecursionError:
        data = {}
    source = data.get("source") if isinstance(data, dict) else None
    if not isinstance(source, str):
        raise SelectionError('send the catalog YAML as {"source": "…"}', field="source")
    return source


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
    image = render(version, poster).resize(PREVIEW_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@bp.get("/catalog")
def edit():
    site = studio()
    live = site.store.live()
    return render_template(
        "admin/editor.html",
        source=live.source,
        base=live.id,
        live=live,
        uploads=site.store.upload_paths(),
    )


@bp.post("/api/validate")
def validate():
    """Check the YAML being edited; answer with every problem, or a one-line summary."""
    try:
        version = studio().load_text(_source())
    except InvalidSource as error:
        return jsonify({"ok": False, "problems": _problems(error)})
    catalog = version.catalog
    summary = (
        f"没有问题：{catalog.campaign.title}，{len(catalog.choices)} 个选项，"
        f"{len(version.layouts)} 种排版，版本 {version.version}"
    )
    return jsonify({"ok": True, "problems": [], "summary": summary, "version": version.version})


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
        for layout in sorted(version.layouts.values(), key=lambda x: (x.min_picks, x.id))
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
        return _editor_again(source, base, error, error.status_code)
    audit("publish", f"版本 {publication.version}（#{publication.id}）")
    flash(f"已发布版本 {publication.version}，新海报从现在起使用它。")
    return redirect(url_for("editor.history"))


@bp.get("/history")
def history():
    site = studio()
    publications = site.store.publications()
    live = site.store.live()
    rows = []
    for index, publication in enumerate(publications):
        previous = publications[index + 1] if index + 1 < len(publications) else None
        diff = difflib.unified_diff(
            previous.source.splitlines() if previous else [],
            publication.source.splitlines(),
            fromfile=f"#{previous.id}" if previous else "(无)",
            tofile=f"#{publication.id}",
            lineterm="",
            n=2,
        )
        rows.append({"publication": publication, "diff": list(diff)[2:]})
    return render_template("admin/history.html", rows=rows, live=live)


@bp.post("/history/<int:publication_id>/rollback")
def rollback(publication_id: int):
    site = studio()
    base = _publication_id(request.form.get("base"))
    if base is None:
        return _history_again(MISSING_BASE, 400)
    if not _in_range(publication_id) or site.store.publication(publication_id) is None:
        return _history_again(
            f"没有第 {publication_id} 号发布记录，请在下面的列表里选一个版本回滚。", 404
        )
    try:
        publication = site.rollback(publication_id, who=g.staff, base=base)
    except (Conflict, SelectionError) as error:
        flash(error.message)
    else:
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


def _history_again(message: str, status: int):
    flash(message)
    return history(), status


@bp.post("/uploads")
def upload():
    """Accept an icon image: small, really a picture, stored for every server."""
    file = request.files.get("icon")
    if file is None or not file.filename:
        flash("请选择一张图片再上传。")
        return redirect(url_for("editor.edit"))
    name = secure_filename(file.filename).lower()
    name = re.sub(r"[^a-z0-9._-]", "", name) or "icon.png"
    longest = UPLOAD_PATH_MAX - len(UPLOADS)
    if len(name) > longest:
        # Refused before reading the image: a name the database cannot hold (PostgreSQL
        # would refuse it with an error) is the first thing staff need to fix.
        flash(f"没有上传：文件名太长了（{len(name)} 个字符），请改成 {longest} 个字符以内再上传。")
        return edit(), 400
    data = file.read(2 * 1024 * 1024 + 1)
    try:
        check_icon(name, data)
    except AssetError as problem:
        flash(f"没有上传：{problem}")
        return redirect(url_for("editor.edit"))
    path = UPLOADS + name
    studio().store.save_upload(path, data, who=g.staff)
    audit("upload", path)
    flash(f"已上传。在目录里写 icon: {path} 就能用它。")
    return redirect(url_for("editor.edit"))

"""The ``posterapp`` command: validate catalogs and layouts, render posters and contact sheets."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import click

from . import catalog as catalog_module
from . import layouts as layouts_module
from . import settings, staff, stats, versions
from .assets import Assets
from .catalog import Catalog
from .errors import Conflict, InvalidSource, PosterappError, Problem
from .i18n import _, ngettext
from .render import proof
from .render.poster import render_png
from .render.sheet import sheet as render_sheet
from .selection import make_poster
from .store import Publication, Store

DEFAULT_URL = "http://localhost:8000/"


class Context:
    def __init__(self, assets: Path, data_dir: Path, values: settings.Settings):
        self.assets = Assets(assets)
        self.data_dir = data_dir
        self.settings = values

    @property
    def database_url(self) -> str:
        return settings.database_url(self.data_dir, self.settings.DATABASE_URL)

    @functools.cached_property
    def store(self) -> Store:
        store = Store(self.database_url)
        store.create_schema()
        click.get_current_context().call_on_close(store.close)
        return store

    def load(self, catalog: Path) -> versions.CatalogVersion:
        """Load a catalog from its files and keep its version; exit with its problems if bad."""
        try:
            version = versions.load_sources(catalog, self.assets)
        except PosterappError as error:
            _fail(error)
        self.store.save_version(version)
        return version


@click.group()
@click.option(
    "--assets",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="POSTERAPP_ASSETS_DIR or assets/",
    help=settings.describe("ASSETS_DIR"),
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="POSTERAPP_DATA_DIR or instance/",
    help=settings.describe("DATA_DIR"),
)
@click.pass_context
def main(ctx: click.Context, assets: Path | None, data_dir: Path | None) -> None:
    """Make "美好生活" posters and check the files campaign staff edit."""
    try:
        values = settings.load()
    except settings.SettingsError as error:
        for problem in error.problems:
            click.echo(f"error: {problem}", err=True)
        ctx.exit(1)
    ctx.obj = Context(assets or values.ASSETS_DIR, data_dir or values.DATA_DIR, values)


def _default_catalog() -> Path:
    context = click.get_current_context().find_object(Context)
    assert context is not None, "every command runs under main(), which makes the Context"
    return context.settings.CATALOG


catalog_option = click.option(
    "--catalog",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=_default_catalog,
    show_default="POSTERAPP_CATALOG or choices/default.yaml",
    help="catalog YAML to use",
)


def _fail(error: PosterappError) -> NoReturn:
    click.echo(f"error: {error.message}", err=True)
    sys.exit(1)


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path)
)
@click.pass_obj
def validate(ctx: Context, files: tuple[Path, ...]) -> None:
    """Check catalog and layout files; list every problem with its line and key."""
    failed = False
    for path in files:
        try:
            summary = _validate_one(ctx, path)
        except InvalidSource as error:
            failed = True
            _echo_problems(path, error.problems)
        else:
            click.echo(_("没有问题 %(file)s：%(summary)s", file=path, summary=summary))
    sys.exit(1 if failed else 0)


def _echo_problems(path: Path, problems: list[Problem]) -> None:
    """Print problems the way the console shows them: line, what it belongs to, what to do."""
    count = len(problems)
    click.echo(
        ngettext(
            "%(file)s：发现 %(count)s 个问题：",
            "%(file)s：发现 %(count)s 个问题：",
            count,
            file=path,
        )
    )
    for problem in problems:
        where = problem.where
        click.echo(
            "  "
            + (
                _("%(where)s：%(text)s", where=where, text=problem.message)
                if where
                else problem.message
            )
        )


def _echo_warnings(path: Path, warnings: list[Problem]) -> None:
    for warning in warnings:
        where = warning.where
        text = (
            _("%(where)s：%(text)s", where=where, text=warning.message)
            if where
            else warning.message
        )
        click.echo(_("提醒 %(file)s %(text)s", file=path, text=text))


def _validate_one(ctx: Context, path: Path) -> str:
    if path.resolve().parent.name == "layouts":
        layout, doc = layouts_module.parse(path.read_bytes(), str(path), ctx.assets)
        if layout is not None and not doc.problems:
            proof.check_layout(layout, doc)
        if doc.problems or layout is None:  # no layout without a problem that says why
            raise InvalidSource(doc.problems)
        return _(
            "排版 %(id)s（%(label)s），%(low)s–%(high)s 项",
            id=layout.id,
            label=layout.label,
            low=layout.min_picks,
            high=layout.max_picks,
        )
    version = versions.load_sources(path, ctx.assets)  # checking stores nothing
    _echo_warnings(path, catalog_module.warnings(path.read_text("utf-8"), None, ctx.assets))
    for warning in proof.break_warnings(version.catalog, version.layouts):
        click.echo(f"提醒 {path}: {warning}")
    return _summary(version)


def _summary(version: versions.CatalogVersion) -> str:
    campaign = version.catalog.campaign
    return _(
        "活动 %(id)s（%(title)s），%(count)s 个选项，版本 %(version)s",
        id=campaign.id,
        title=campaign.title,
        count=len(version.catalog.choices),
        version=version.version,
    )


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option(
    "--as", "who", default=None, help="name recorded in the history (default: your OS user name)"
)
@click.option(
    "--base",
    type=int,
    default=None,
    help="the publication (#id) the file was edited from; refused if another is live now",
)
@click.pass_obj
def publish(ctx: Context, file: Path, who: str | None, base: int | None) -> None:
    """Publish a catalog file: the console's checks, then a compare-and-set switch."""
    store = ctx.store
    live = store.live()
    if who is None:
        try:
            who = getpass.getuser()
        except (KeyError, OSError):
            who = "命令行"
    try:
        text = file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        _refuse(_("%(file)s 不是 UTF-8 编码的文本，请另存为 UTF-8 再发布", file=file))
    text = text.replace("\r\n", "\n")
    assets = Assets(ctx.assets.root, uploads=store.upload)
    try:
        version = versions.load_text(text, str(file), assets)
    except InvalidSource as error:
        _echo_problems(file, error.problems)
        click.echo(_("没有发布：请先改好上面的问题。"), err=True)
        sys.exit(1)
    _echo_warnings(file, catalog_module.warnings(text, _live_catalog(store, live), assets))
    if base is not None and live is not None and base != live.id:
        _refuse(
            _(
                "没有发布：你是从 #%(base)s 开始改的，但现在正在使用的是 #%(live)s"
                "（%(who)s 发布）。请先看看对方改了什么（后台“版本历史”），"
                "合并后再用 --base %(live)s 发布。",
                base=base,
                live=live.id,
                who=live.who,
            )
        )
    if live is not None and live.version == version.version and live.source == text:
        click.echo(
            _("%(file)s 和正在使用的版本（#%(id)s）一样，不需要发布。", file=file, id=live.id)
        )
        return
    try:
        publication = store.publish(
            version, text, who=who, base=live.id if live is not None else None
        )
    except Conflict:
        _refuse(_("没有发布：刚才有人同时发布了新版本。请重新运行这条命令，先看看对方改了什么。"))
    click.echo(
        _(
            "已发布 #%(id)s：%(summary)s；记录的发布人：%(who)s。",
            id=publication.id,
            summary=_summary(version),
            who=who,
        )
    )


def _refuse(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _live_catalog(store: Store, live: Publication | None) -> Catalog | None:
    if live is None:
        return None
    try:
        return store.load_version(live.version).catalog
    except PosterappError:
        return None


@main.command()
@catalog_option
@click.option("--catalog-version", help="render with a stored earlier version instead")
@click.option("--choices", "picks", required=True, help="choice ids, separated by commas")
@click.option("--name", default="", help="the name printed on the poster")
@click.option("--layout", default=None, help="layout id (default: the catalog's rules decide)")
@click.option("--url", default=DEFAULT_URL, show_default=True, help="what the QR code opens")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.pass_obj
def render(
    ctx: Context,
    catalog: Path,
    catalog_version: str | None,
    picks: str,
    name: str,
    layout: str | None,
    url: str,
    output: Path,
) -> None:
    """Render one poster to a PNG file."""
    try:
        version = ctx.store.load_version(catalog_version) if catalog_version else ctx.load(catalog)
        poster = make_poster(
            version, [p.strip() for p in picks.split(",") if p.strip()], name, url, layout
        )
    except PosterappError as error:
        _fail(error)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(render_png(version, poster))
    click.echo(
        f"wrote {output} (1080×1920, layout {poster.layout}, {len(poster.picks)} picks, "
        f"catalog version {version.version})"
    )


@main.command()
@catalog_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--all-themes", is_flag=True, help="one row per theme under assets/themes/")
@click.pass_obj
def sheet(ctx: Context, catalog: Path, output: Path, all_themes: bool) -> None:
    """Render a contact sheet: every layout at its fewest, a middle and most picks."""
    version = ctx.load(catalog)
    shown = [version]
    if all_themes:
        others = [t for t in versions.theme_ids(ctx.assets) if t != version.catalog.campaign.theme]
        try:
            shown += [versions.load_sources(catalog, ctx.assets, theme=t) for t in others]
        except PosterappError as error:
            _fail(error)
    output.parent.mkdir(parents=True, exist_ok=True)
    render_sheet(shown).save(output, format="PNG")
    click.echo(
        f"wrote {output} ({len(proof.reachable(version.catalog, version.layouts))} "
        f"layouts × {len(shown)} theme(s), catalog version {version.version})"
    )


@main.command()
@catalog_option
@click.option(
    "-o",
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
)
@click.pass_obj
def demo(ctx: Context, catalog: Path, output_dir: Path) -> None:
    """Render a sample poster in every layout, and the contact sheet, into a folder."""
    version = ctx.load(catalog)
    output_dir.mkdir(parents=True, exist_ok=True)
    ids = [c.id for c in version.catalog.choices]
    samples = {
        "hero": (ids[::37][:2], "小满"),
        "list": (ids[3::19][:5], "Lily 王"),
        "grid": (ids[1::9][:9], ""),
    }
    for layout in proof.reachable(version.catalog, version.layouts):
        picks, name = samples.get(layout.id, (ids[: layout.min_picks], ""))
        poster = make_poster(version, picks, name, DEFAULT_URL, layout.id)
        path = output_dir / f"demo-{layout.id}.png"
        path.write_bytes(render_png(version, poster))
        click.echo(f"wrote {path}")
    render_sheet([version]).save(output_dir / "sheet.png", format="PNG")
    click.echo(f"wrote {output_dir / 'sheet.png'}")


@main.command("versions")
@click.pass_obj
def list_versions(ctx: Context) -> None:
    """List the stored catalog versions, oldest first."""
    for version_id in ctx.store.version_ids():
        click.echo(version_id)


@main.command("init-db")
@click.pass_obj
def init_db(ctx: Context) -> None:
    """Create the database or upgrade it to the current schema (safe to run again)."""
    store = Store(ctx.database_url)
    try:
        change = store.migrate()
    finally:
        store.close()
    if change.created:
        done = f"created at revision {change.after}"
    elif change.before == change.after:
        done = f"already at revision {change.after}, nothing to do"
    elif change.before is None:
        done = f"made before migrations: taken as the release, upgraded to {change.after}"
    else:
        done = f"upgraded from revision {change.before} to {change.after}"
    click.echo(f"database ready ({done}): {store.engine.url.render_as_string(hide_password=True)}")


@main.group()
def admin() -> None:
    """Manage staff accounts of the campaign console (/admin): add, roles, disable, remove …"""


def _admin_fail(message: str) -> NoReturn:
    click.echo(message, err=True)
    sys.exit(1)


def _by() -> str:
    """Name the person at the command line in the audit log."""
    try:
        return f"命令行（{getpass.getuser()}）"
    except (KeyError, OSError):
        return "命令行"


def _new_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("密码", hide_input=True, confirmation_prompt="再输入一次")
    return sys.stdin.readline().rstrip("\n")


def _account_change(change: Callable[..., object], *args: object) -> None:
    """Run a change from posterapp.staff; say its refusal in plain words and exit 1."""
    try:
        change(*args, by=_by())
    except PosterappError as error:
        _admin_fail(error.message)


ROLE_HELP = "角色：" + "，".join(
    f"{r} {staff.ROLE_NAMES[r]}（{staff.ROLE_DUTIES[r]}）" for r in staff.ROLES
)


@admin.command("add-user")
@click.argument("name")
@click.option("--role", default="admin", show_default=True, help=ROLE_HELP)
@click.pass_obj
def add_user(ctx: Context, name: str, role: str) -> None:
    """Create a staff account; the password is asked for (or read from stdin)."""
    if role not in staff.ROLES:
        _admin_fail(f"没有“{role}”这个角色，可以选：{'、'.join(staff.ROLES)}")
    _account_change(staff.add_user, ctx.store, name, _new_password(), role)
    click.echo(f"员工账号 {name} 已创建（{staff.ROLE_NAMES[role]}），现在可以在 /admin 登录。")


@admin.command("set-role")
@click.argument("name")
@click.argument("role")
@click.pass_obj
def set_role(ctx: Context, name: str, role: str) -> None:
    """Give an account another role (viewer, editor, publisher, admin)."""
    _account_change(staff.set_role, ctx.store, name, role)
    click.echo(f"{name} 现在是{staff.ROLE_NAMES[role]}；它已登录的地方都已退出，需要重新登录。")


@admin.command("disable")
@click.argument("name")
@click.pass_obj
def disable(ctx: Context, name: str) -> None:
    """Stop an account from signing in; its sessions end at once."""
    _account_change(staff.set_disabled, ctx.store, name, True)
    click.echo(f"已停用 {name}：它已登录的地方都已退出，也不能再登录。")


@admin.command("enable")
@click.argument("name")
@click.pass_obj
def enable(ctx: Context, name: str) -> None:
    """Let a disabled account sign in again."""
    _account_change(staff.set_disabled, ctx.store, name, False)
    click.echo(f"已恢复 {name}，可以重新登录了。")


@admin.command("remove")
@click.argument("name")
@click.pass_obj
def remove(ctx: Context, name: str) -> None:
    """Delete an account (what it published stays in the history)."""
    _account_change(staff.remove, ctx.store, name)
    click.echo(f"已删除 {name}。它发布过的版本仍然留在版本历史里。")


@admin.command("reset-password")
@click.argument("name")
@click.pass_obj
def reset_password(ctx: Context, name: str) -> None:
    """Set a new password (asked for, or read from stdin); its sessions end at once."""
    if ctx.store.account(name) is None:
        _admin_fail(f"没有叫 {name} 的员工账号；要创建请运行 posterapp admin add-user {name}")
    _account_change(staff.reset_password, ctx.store, name, _new_password())
    click.echo(f"已给 {name} 设了新密码；它已登录的地方都已退出，请用新密码登录。")


@admin.command("list")
@click.pass_obj
def list_accounts(ctx: Context) -> None:
    """List the staff accounts with their roles."""
    for account in ctx.store.accounts():
        state = "，已停用" if account.disabled else ""
        click.echo(f"{account.name}\t{staff.ROLE_NAMES.get(account.role, account.role)}{state}")


@admin.command("unlock")
@click.argument("name")
@click.pass_obj
def unlock(ctx: Context, name: str) -> None:
    """Let an account sign in again at once: forget its wrong passwords from every address."""
    cleared = staff.unlock(ctx.store, name, by=_by())
    if cleared:
        click.echo(f"已解除 {name} 的登录锁定（清除了 {cleared} 次密码错误记录），现在就可以登录。")
    elif ctx.store.password_hash(name) is None:
        click.echo(
            f"没有叫 {name} 的员工账号；要创建请运行 posterapp admin add-user {name}", err=True
        )
        sys.exit(1)
    else:
        click.echo(f"{name} 最近没有密码错误记录，不需要解锁，可以直接登录。")


@main.command()
@click.option(
    "--before",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="delete what happened before this day (Asia/Shanghai), like 2026-01-01",
)
@click.pass_obj
def purge(ctx: Context, before: dt.datetime) -> None:
    """Delete old events, service clicks, sign-ins and audit entries (posters stay)."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    moment = before.replace(tzinfo=shanghai)
    removed = ctx.store.purge_before(moment)
    words = {
        "events": "事件",
        "service_clicks": "服务点击",
        "login_attempts": "登录记录",
        "audit_log": "操作记录",
        "staff_sessions": "过期的登录会话",
    }
    done = "，".join(f"{words[k]} {n} 条" for k, n in removed.items())
    click.echo(f"已删除北京时间 {before:%Y-%m-%d} 之前的记录：{done}。海报本身都还在。")


@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="print the figures as JSON")
@click.pass_obj
def stats_command(ctx: Context, as_json: bool) -> None:
    """Print the campaign's numbers: posters, views, scans, referrals, K, top choices …"""
    live = ctx.store.live()
    if live is None:
        click.echo("error: no catalog has been published yet; start the app once", err=True)
        sys.exit(1)
    figures = stats.figures(ctx.store, ctx.store.load_version(live.version).catalog)
    click.echo(
        json.dumps(figures, ensure_ascii=False, indent=2) if as_json else stats.to_text(figures)
    )

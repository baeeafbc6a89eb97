"""The ``posterapp`` command: validate catalogs and layouts, render posters and contact sheets."""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from . import catalog as catalog_module
from . import layouts as layouts_module
from . import settings, staff, stats, versions
from .assets import Assets
from .catalog import Catalog
from .clickzh import Day, Group, WholeNumber, option
from .clickzh import Path as PathType
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


@click.group(cls=Group)
@option(
    "--assets",
    type=PathType(file_okay=False, path_type=Path),
    default=None,
    metavar="文件夹",
    show_default="POSTERAPP_ASSETS_DIR 或 assets/",
    help="图标和排版（layouts/*.yaml）所在的文件夹；目录里的图片路径都从这里算起",
)
@option(
    "--data-dir",
    type=PathType(file_okay=False, path_type=Path),
    default=None,
    metavar="文件夹",
    show_default="POSTERAPP_DATA_DIR 或 instance/",
    help="posterapp 存放数据的文件夹：数据库（默认用 SQLite）和画好的图片",
)
@click.pass_context
def main(ctx: click.Context, assets: Path | None, data_dir: Path | None) -> None:
    """制作“美好生活”海报，检查活动同事编辑的文件。

    先用 posterapp validate 检查改过的目录，再用 posterapp publish 发布；
    想看活动数据，运行 posterapp stats。在命令后面加 --help 可以看它的用法。
    """
    try:
        values = settings.load()
    except settings.SettingsError as error:
        for problem in error.problems:
            click.echo(_("设置需要改一下：%(problem)s", problem=problem), err=True)
        ctx.exit(1)
    ctx.obj = Context(assets or values.ASSETS_DIR, data_dir or values.DATA_DIR, values)


def _default_catalog() -> Path:
    context = click.get_current_context().find_object(Context)
    assert context is not None, "every command runs under main(), which makes the Context"
    return context.settings.CATALOG


F = TypeVar("F", bound=Callable[..., object])

catalog_option = option(
    "--catalog",
    type=PathType(dir_okay=False, exists=True, path_type=Path),
    default=_default_catalog,
    metavar="文件",
    show_default="POSTERAPP_CATALOG 或 choices/default.yaml",
    help="用哪个 YAML 目录文件",
)


def png_output(help_text: str) -> Callable[[F], F]:
    """The -o/--output option of a command that writes one PNG file."""
    return option(
        "-o",
        "--output",
        type=PathType(dir_okay=False, path_type=Path),
        required=True,
        metavar="文件",
        help=help_text,
    )


def _fail(error: PosterappError) -> NoReturn:
    click.echo(_("出错了：%(reason)s", reason=error.message), err=True)
    sys.exit(1)


@main.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    metavar="文件…",
    type=PathType(dir_okay=False, exists=True, path_type=Path),
)
@click.pass_obj
def validate(ctx: Context, files: tuple[Path, ...]) -> None:
    """检查目录和排版文件，逐条列出问题和所在的行。

    可以一次检查好几个文件，比如 posterapp validate choices/default.yaml
    assets/layouts/grid.yaml。只有提醒时照常退出；有问题时退出码是 1，改好再检查一次。
    """
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
        click.echo(_("提醒 %(file)s %(text)s", file=path, text=warning))
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
@click.argument(
    "file", metavar="目录文件", type=PathType(dir_okay=False, exists=True, path_type=Path)
)
@option(
    "--as",
    "who",
    default=None,
    metavar="名字",
    help="记在版本历史里的发布人（默认是你登录电脑用的用户名）",
)
@option(
    "--base",
    type=WholeNumber(),
    default=None,
    metavar="编号",
    help="你是从哪次发布（#编号）开始改的；如果现在用的已经不是它，就不发布，免得盖掉别人的修改",
)
@click.pass_obj
def publish(ctx: Context, file: Path, who: str | None, base: int | None) -> None:
    """发布一个目录文件：先做和后台一样的检查，再换成新版本。

    如果在你发布的同时有人也发布了，这次不会生效，请看看对方改了什么再发布。
    """
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
@option(
    "--catalog-version",
    metavar="版本号",
    help="改用以前保存过的目录版本来画（版本号见 posterapp versions）",
)
@option(
    "--choices",
    "picks",
    required=True,
    metavar="id,id,…",
    help="挑了哪些选项：写选项的 id，用逗号隔开",
)
@option("--name", default="", metavar="名字", help="印在海报上的名字")
@option("--layout", default=None, metavar="id", help="用哪种排版（不写就按目录的规则自动选）")
@option("--url", default=DEFAULT_URL, show_default=True, metavar="网址", help="扫二维码打开的网址")
@png_output("海报存成哪个 PNG 文件")
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
    """画一张海报，存成 PNG 文件。"""
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
        _(
            "海报画好了：%(file)s（1080×1920，排版 %(layout)s，"
            "%(count)s 项，目录版本 %(version)s）",
            file=output,
            layout=poster.layout,
            count=len(poster.picks),
            version=version.version,
        )
    )


@main.command()
@catalog_option
@png_output("样张存成哪个 PNG 文件")
@option("--all-themes", is_flag=True, help="assets/themes/ 里的每个主题各画一行")
@click.pass_obj
def sheet(ctx: Context, catalog: Path, output: Path, all_themes: bool) -> None:
    """画一张样张：每种排版按最少、中间、最多的项数各画一张。"""
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
        _(
            "样张画好了：%(file)s（%(layouts)s 种排版 × %(themes)s 个主题，目录版本 %(version)s）",
            file=output,
            layouts=len(proof.reachable(version.catalog, version.layouts)),
            themes=len(shown),
            version=version.version,
        )
    )


@main.command()
@catalog_option
@option(
    "-o",
    "--output-dir",
    type=PathType(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    metavar="文件夹",
    help="存到哪个文件夹",
)
@click.pass_obj
def demo(ctx: Context, catalog: Path, output_dir: Path) -> None:
    """每种排版各画一张示例海报，连同样张一起存进一个文件夹。"""
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
        click.echo(_("示例海报画好了：%(file)s", file=path))
    render_sheet([version]).save(output_dir / "sheet.png", format="PNG")
    click.echo(_("样张画好了：%(file)s", file=output_dir / "sheet.png"))


@main.command("versions")
@click.pass_obj
def list_versions(ctx: Context) -> None:
    """列出保存过的目录版本号，最早的在前。

    版本号可以交给 posterapp render --catalog-version，用当时的目录重画海报。
    """
    ids = ctx.store.version_ids()
    if not ids:
        click.echo(
            _("还没有保存过目录版本。启动一次应用，或者用 posterapp publish 发布目录后就有了。"),
            err=True,
        )
    for version_id in ids:
        click.echo(version_id)


@main.command("init-db")
@click.pass_obj
def init_db(ctx: Context) -> None:
    """建好数据库，或者把它升级到最新的结构（重复运行也没关系）。"""
    store = Store(ctx.database_url)
    try:
        change = store.migrate()
    finally:
        store.close()
    if change.created:
        done = _("新建的，结构版本 %(after)s", after=change.after)
    elif change.before == change.after:
        done = _("已经是结构版本 %(after)s，不用改动", after=change.after)
    elif change.before is None:
        done = _("这是有迁移记录之前建的，按首个正式版处理，已升级到 %(after)s", after=change.after)
    else:
        done = _(
            "已从结构版本 %(before)s 升级到 %(after)s", before=change.before, after=change.after
        )
    url = store.engine.url.render_as_string(hide_password=True)
    click.echo(_("数据库准备好了（%(done)s）：%(url)s", done=done, url=url))


@main.group()
def admin() -> None:
    """管理活动后台（/admin）的员工账号：创建、换角色、停用、删除……"""


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
        while True:  # click's own confirmation would say a mismatch in English
            password = click.prompt("密码", hide_input=True, prompt_suffix="：")
            if click.prompt("再输入一次", hide_input=True, prompt_suffix="：") == password:
                return password
            click.echo("两次输入的密码不一样，请重新输入。", err=True)
    return sys.stdin.readline().rstrip("\n")


def _account_change(change: Callable[..., object], *args: object) -> None:
    """Run a change from posterapp.staff; say its refusal in plain words and exit 1."""
    try:
        change(*args, by=_by())
    except PosterappError as error:
        _admin_fail(error.message)


ROLE_HELP = "给账号的角色，不写就是「admin」管理员。可以选：" + "，".join(
    f"「{r}」{staff.ROLE_NAMES[r]}（{staff.ROLE_DUTIES[r]}）" for r in staff.ROLES
)


@admin.command("add-user")
@click.argument("name", metavar="账号名")
@option("--role", default="admin", metavar="角色", help=ROLE_HELP)
@click.pass_obj
def add_user(ctx: Context, name: str, role: str) -> None:
    """创建员工账号，会请你输入密码（也可以从标准输入读入）。"""
    if role not in staff.ROLES:
        _admin_fail(f"没有“{role}”这个角色，可以选：{'、'.join(staff.ROLES)}")
    _account_change(staff.add_user, ctx.store, name, _new_password(), role)
    click.echo(f"员工账号 {name} 已创建（{staff.ROLE_NAMES[role]}），现在可以在 /admin 登录。")


@admin.command("set-role")
@click.argument("name", metavar="账号名")
@click.argument("role", metavar="角色")
@click.pass_obj
def set_role(ctx: Context, name: str, role: str) -> None:
    """给账号换一个角色：「viewer」「editor」「publisher」或「admin」。"""
    _account_change(staff.set_role, ctx.store, name, role)
    click.echo(f"{name} 现在是{staff.ROLE_NAMES[role]}；它已登录的地方都已退出，需要重新登录。")


@admin.command("disable")
@click.argument("name", metavar="账号名")
@click.pass_obj
def disable(ctx: Context, name: str) -> None:
    """停用账号：它登录的地方马上全部退出，也不能再登录。"""
    _account_change(staff.set_disabled, ctx.store, name, True)
    click.echo(f"已停用 {name}：它已登录的地方都已退出，也不能再登录。")


@admin.command("enable")
@click.argument("name", metavar="账号名")
@click.pass_obj
def enable(ctx: Context, name: str) -> None:
    """让停用的账号重新可以登录。"""
    _account_change(staff.set_disabled, ctx.store, name, False)
    click.echo(f"已恢复 {name}，可以重新登录了。")


@admin.command("remove")
@click.argument("name", metavar="账号名")
@click.pass_obj
def remove(ctx: Context, name: str) -> None:
    """删除账号（它发布过的版本仍然留在版本历史里）。"""
    _account_change(staff.remove, ctx.store, name)
    click.echo(f"已删除 {name}。它发布过的版本仍然留在版本历史里。")


@admin.command("reset-password")
@click.argument("name", metavar="账号名")
@click.pass_obj
def reset_password(ctx: Context, name: str) -> None:
    """设一个新密码（会请你输入，也可以从标准输入读入）；它登录的地方马上全部退出。"""
    if ctx.store.account(name) is None:
        _admin_fail(f"没有叫 {name} 的员工账号；要创建请运行 posterapp admin add-user {name}")
    _account_change(staff.reset_password, ctx.store, name, _new_password())
    click.echo(f"已给 {name} 设了新密码；它已登录的地方都已退出，请用新密码登录。")


@admin.command("list")
@click.pass_obj
def list_accounts(ctx: Context) -> None:
    """列出员工账号和各自的角色。"""
    for account in ctx.store.accounts():
        state = "，已停用" if account.disabled else ""
        click.echo(f"{account.name}\t{staff.ROLE_NAMES.get(account.role, account.role)}{state}")


@admin.command("unlock")
@click.argument("name", metavar="账号名")
@click.pass_obj
def unlock(ctx: Context, name: str) -> None:
    """解除登录锁定：清除账号在所有地址的密码错误记录，马上就能登录。"""
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
@option(
    "--before",
    required=True,
    type=Day(),
    metavar="日期",
    help="删除这一天（北京时间）之前的记录，写成 2026-01-01 这样",
)
@click.pass_obj
def purge(ctx: Context, before: dt.datetime) -> None:
    """删除旧的事件、服务点击、登录记录和操作记录（海报本身都会留着）。"""
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
@option("--json", "as_json", is_flag=True, help="用 JSON 输出数据（给程序读）")
@click.pass_obj
def stats_command(ctx: Context, as_json: bool) -> None:
    """看活动数据：海报、浏览、扫码、朋友带来的海报、K 值、最多人选的选项……"""
    live = ctx.store.live()
    if live is None:
        click.echo(
            _(
                "还没有发布过目录，暂时没有数据。先启动一次应用（会发布默认目录），"
                "或者用 posterapp publish 发布一个目录。"
            ),
            err=True,
        )
        sys.exit(1)
    figures = stats.figures(ctx.store, ctx.store.load_version(live.version).catalog)
    click.echo(
        json.dumps(figures, ensure_ascii=False, indent=2) if as_json else stats.to_text(figures)
    )

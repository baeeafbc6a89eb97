"""Click's own words in Chinese: the usage line, headings, defaults and usage errors.

The ``posterapp`` command is read by campaign operators, so what click would print in
English around our commands ("Usage:", "Options:", "[default: …]", "Error: Missing
option …", "Aborted!") is said here in Chinese. Click marks those words for gettext, but it
looks them up in the process-wide gettext domain chosen by LANGUAGE/LANG, which a
server's shell rarely sets to Chinese; these subclasses say them whatever the environment.

Help text is wrapped by terminal columns (a Chinese character takes two) and breaks
between words the way the posters do (no line starts with ，。）), where click's wrapper
would only break at spaces and count a Chinese character as one column.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path as _Path
from typing import IO, Any

import click
from click.exceptions import NoArgsIsHelpError

from .i18n import _
from .render.text import atoms


def columns(text: str) -> int:
    """Return how many terminal columns ``text`` takes (Chinese characters take two)."""
    return sum(2 if _wide(c) else 1 for c in text)


def wrap(text: str, width: int) -> list[str]:
    """Break one paragraph into lines of at most ``width`` columns, following kinsoku rules."""
    lines: list[str] = []
    line = ""
    for atom in atoms(text):
        if atom == " " and not line:
            continue
        if line and columns(line + atom.rstrip()) > width:
            lines.append(line.rstrip())
            line = "" if atom == " " else atom
        else:
            line += atom
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _paragraphs(text: str) -> list[str]:
    """Split text at blank lines; join each paragraph's lines (no space between Chinese)."""
    out: list[str] = []
    for block in text.split("\n\n"):
        joined = ""
        for line in (part.strip() for part in block.splitlines()):
            if joined and line and not (_wide(joined[-1]) and _wide(line[0])):
                joined += " "
            joined += line
        if joined:
            out.append(joined)
    return out


def _wide(char: str) -> bool:
    return unicodedata.east_asian_width(char) in "WF"


def _kept(lines: list[str]) -> str:
    """Mark lines that are already wrapped so click's own wrapper leaves them as they are."""
    return "\b\n" + "\n".join(lines)


class HelpFormatter(click.HelpFormatter):
    """Click's help page with Chinese headings, wrapped by terminal columns."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, _("用法：") if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        # Click's headings, which it would look up in gettext's process-wide domain.
        names = {"Options": _("选项"), "Commands": _("命令"), "Positional arguments": _("参数")}
        self.write(f"{'':>{self.current_indent}}{names.get(heading, heading)}：\n")

    def write_text(self, text: str) -> None:
        width = max(self.width - self.current_indent, 20)
        blocks = [_kept(wrap(p, width)) for p in _paragraphs(text)]
        super().write_text("\n\n".join(blocks))

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        """Write terms and their help in two columns, lined up by terminal columns."""
        rows = list(rows)
        first_col = min(max((columns(term) for term, _text in rows), default=0), col_max)
        width = max(self.width - self.current_indent - first_col - col_spacing, 10)
        indent = " " * self.current_indent
        hang = " " * (self.current_indent + first_col + col_spacing)
        for term, text in rows:
            lines = [line for p in _paragraphs(text) for line in wrap(p, width)] if text else []
            if not lines:
                self.write(f"{indent}{term}\n")
                continue
            if columns(term) <= first_col:
                self.write(f"{indent}{term}{' ' * (first_col - columns(term) + col_spacing)}")
            else:
                self.write(f"{indent}{term}\n{hang}")
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{hang}{line}\n")


class Context(click.Context):
    """A click context whose help pages are written by :class:`HelpFormatter`."""

    formatter_class = HelpFormatter


class Option(click.Option):
    """An option whose help says its default and whether it is needed in Chinese."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)  # the left column: its names and metavar
        if record is None:
            return None
        extra = self.get_help_extra(ctx)
        notes: list[str] = []
        if isinstance(self.show_default, str):
            notes.append(_("默认：%(value)s", value=self.show_default))
        elif "default" in extra:
            notes.append(_("默认：%(value)s", value=extra["default"]))
        if "required" in extra:
            notes.append(_("必填"))
        text = self.help or ""
        if notes:
            text += _("（%(notes)s）", notes=_("；").join(notes))
        return record[0], text


option = functools.partial(click.option, cls=Option)


class Path(click.Path):
    """A file or folder name, refused in Chinese when it is missing or of the wrong kind."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        path = _Path(os.fsdecode(value))
        if self.exists and not path.exists():
            self.fail(_("找不到「%(path)s」，看看路径有没有写错。", path=path), param, ctx)
        if path.is_dir() and not self.dir_okay:
            self.fail(_("「%(path)s」是一个文件夹，这里要写文件。", path=path), param, ctx)
        if path.exists() and not path.is_dir() and not self.file_okay:
            self.fail(_("「%(path)s」是一个文件，这里要写文件夹。", path=path), param, ctx)
        if path.exists() and self.readable and not os.access(path, os.R_OK):
            self.fail(_("没有权限读取「%(path)s」，请检查文件权限。", path=path), param, ctx)
        return super().convert(value, param, ctx)


class Day(click.ParamType):
    """A day written 2026-01-01, as a (naive) datetime at its midnight."""

    name = "day"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.datetime):
            return value
        try:
            return dt.datetime.strptime(str(value), "%Y-%m-%d")
        except ValueError:
            self.fail(_("「%(value)s」不是日期，请写成 2026-01-01 这样。", value=value), param, ctx)


class WholeNumber(click.ParamType):
    """A whole number, like a publication's #id."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        try:
            return int(value)
        except (TypeError, ValueError):
            self.fail(_("「%(value)s」不是整数，这里要写数字，比如 12。", value=value), param, ctx)


class UsageRefused(click.UsageError):
    """A command written the wrong way: what is wrong, the usage line, where to read more."""

    def show(self, file: IO[Any] | None = None) -> None:
        lines = [self.message]
        if self.ctx is not None:
            lines.append(self.ctx.get_usage())
            lines.append(_("运行 %(command)s --help 看看怎么写。", command=self.ctx.command_path))
        click.echo("\n".join(lines), file=file, err=file is None)


class Cancelled(click.ClickException):
    """The operator stopped the command (Ctrl-C, or the end of input at a question)."""

    def __init__(self, interrupted: bool) -> None:
        super().__init__(_("已取消。"))
        self.interrupted = interrupted

    def show(self, file: IO[Any] | None = None) -> None:
        # After ^C the cursor is still on the line the terminal echoed it on.
        text = ("\n" if self.interrupted else "") + self.message
        click.echo(text, file=file, err=file is None)


def _name(param: click.Parameter | None, ctx: click.Context | None) -> str:
    if param is None:
        return ""
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    return param.make_metavar(ctx).rstrip(".…") if ctx else (param.name or "")


def in_chinese(error: click.UsageError, ctx: click.Context | None) -> click.UsageError:
    """Say a usage error click raised in Chinese (one already in Chinese is returned as is).

    ``ctx`` is the command's context, for errors raised before click gave them one.
    """
    if isinstance(error, (UsageRefused, NoArgsIsHelpError)):
        return error  # the second is the help page, asked for by giving nothing
    ctx = error.ctx or ctx
    if isinstance(error, click.MissingParameter) and isinstance(error.param, click.Option):
        name, help_text = _name(error.param, ctx), error.param.help
        message = (
            _("还没写 %(option)s（%(help)s），补上再运行一次吧。", option=name, help=help_text)
            if help_text
            else _("还没写 %(option)s，补上再运行一次吧。", option=name)
        )
    elif isinstance(error, click.MissingParameter):
        message = _("还少了%(what)s，补上再运行一次吧。", what=_name(error.param, ctx))
    elif isinstance(error, click.BadParameter) and isinstance(error.param, click.Option):
        message = _("%(where)s：%(text)s", where=_name(error.param, ctx), text=error.message)
    elif isinstance(error, click.BadParameter):  # an argument: the message names the value
        message = error.message
    elif isinstance(error, click.NoSuchOption):
        message = _("没有 %(option)s 这个选项。", option=error.option_name) + _suggest(
            error.possibilities
        )
    elif isinstance(error, click.BadOptionUsage):
        params = ctx.command.get_params(ctx) if ctx else []
        flag = any(error.option_name in p.opts and getattr(p, "is_flag", False) for p in params)
        message = (
            _("%(option)s 后面不用写值。", option=error.option_name)
            if flag
            else _("%(option)s 后面要写一个值。", option=error.option_name)
        )
    else:  # nothing our commands can meet: keep click's reason rather than lose it
        message = _("这样写不对：%(reason)s", reason=error.format_message())
    return UsageRefused(message, ctx)


def _suggest(possibilities: Iterable[str] | None) -> str:
    if not possibilities:
        return ""
    return _("你是想写 %(names)s 吗？", names=_("、").join(sorted(possibilities)))


class _InChinese(click.Command):
    """What commands and groups share: the Chinese help page, usage line and usage errors."""

    context_class: type[click.Context] = Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", _("[选项]"))
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        help_option = super().get_help_option(ctx)
        if help_option is not None:
            help_option.help = _("显示这段说明")
        return help_option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise in_chinese(error, ctx) from None


class Command(_InChinese):
    """A command that says its help and usage errors in Chinese."""

    # Extra words are refused below, in Chinese, rather than by click in English.
    allow_extra_args = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if rest and not ctx.resilient_parsing:
            raise UsageRefused(
                _("多写了「%(words)s」，这条命令用不上，去掉再运行一次吧。", words=" ".join(rest)),
                ctx,
            )
        return rest


class Group(_InChinese, click.Group):
    """A group of commands whose help, usage errors and Ctrl-C are said in Chinese."""

    command_class = Command
    group_class = type  # subgroups are Groups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", _("命令 [参数]..."))
        super().__init__(*args, **kwargs)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.NoSuchOption:
            raise
        except click.UsageError:  # click's "No such command"
            close = difflib.get_close_matches(args[0], self.list_commands(ctx))
            message = _("没有「%(command)s」这个命令。", command=args[0]) + _suggest(close)
            raise UsageRefused(message, ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            if type(error) is click.UsageError and error.ctx is ctx:
                # The one plain usage error a group raises itself: options but no command.
                message = _(
                    "还没写要做什么：在 %(group)s 后面写上一个命令。", group=ctx.command_path
                )
                raise UsageRefused(message, ctx) from None
            raise in_chinese(error, ctx) from None
        except click.Abort:
            raise Cancelled(interrupted=False) from None
        except (KeyboardInterrupt, EOFError):
            raise Cancelled(interrupted=True) from None

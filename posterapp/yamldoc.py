"""Read staff-edited YAML into plain data, remembering the line of every key.

PyYAML's safe loader is used for the values; its node tree (``yaml.compose``) gives the
lines, the duplicate keys and the tags, which are checked before anything is built. All
problems found are returned together so that staff can fix them in one go.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic
import pydantic_core
import yaml

from .errors import Problem
from .i18n import _

MAX_BYTES = 256 * 1024  # the shipped catalog is ~24 KB; this is ten times that
MAX_DEPTH = 12
# Tags the safe loader resolves by itself; anything else (``!!python/object``, ``!foo``) is
# refused with a message instead of PyYAML's stack trace.
PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "seq", "map", "timestamp")
}
# Nesting this deep is refused while parsing, before any tree is built (building one recurses
# per level); nesting beyond MAX_DEPTH is reported later, with its key path.
RECURSION_GUARD = 100
# libyaml's C parser where installed: the same safe rules, many times faster.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Path = tuple[str | int, ...]


@dataclass
class Document:
    """Parsed YAML: the data plus the line of every key path, for pointing at problems."""

    file: str
    data: Any = None
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    text: str = ""
    # Things worth a second look that do not stop a publish (see ``catalog.warnings``).
    warnings: list[Problem] = field(default_factory=list)
    # The well-formed parts of the model, kept for checks that run despite other problems.
    parts: Any = None

    def line_of(self, path: Path) -> int:
        """Return the line of ``path``, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path, message: str, severity: str = "error") -> Problem:
        """Make a problem located at ``path``, naming what it belongs to by its label."""
        line = self.line_of(path)
        return Problem(
            self.file, line, dotted(path), message, severity, subject(self.text, line, path)
        )

    def add(self, path: Path, message: str) -> None:
        self.problems.append(self.problem(path, message))

    def warn(self, path: Path, message: str) -> None:
        self.warnings.append(self.problem(path, message, "warning"))

    def at_line(self, line: int, message: str) -> None:
        """Add a problem found at a line rather than at a key (syntax, tags, anchors)."""
        self.problems.append(
            Problem(self.file, line, "", message, "error", subject(self.text, line))
        )


def dotted(path: Path) -> str:
    """Write a key path the way staff read it: ``choices[3].label``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse(text: str | bytes, file: str) -> Document:
    """Parse YAML text; problems (syntax, tags, duplicates, aliases, depth) go on the document."""
    doc = Document(file)
    if isinstance(text, str):
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:
            bad = f"U+{ord(text[exc.start]):04X}"
            message = _("这里有一个无效的字符（%(char)s），请删掉它重新输入", char=bad)
            doc.problems.append(Problem(file, text.count("\n", 0, exc.start) + 1, "", message))
            return doc
    else:
        size = len(text)
    if size > MAX_BYTES:
        doc.problems.append(
            Problem(
                file,
                0,
                "",
                _(
                    "文件太大了：%(size)s 字节，最多 %(most)s 字节",
                    size=f"{size:,}",
                    most=f"{MAX_BYTES:,}",
                ),
            )
        )
        return doc
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = _(
                "文件不是 UTF-8 编码（第 %(byte)s 个字节读不出来），请另存为 UTF-8",
                byte=exc.start,
            )
            doc.problems.append(Problem(file, 0, "", message))
            return doc
    doc.text = text
    try:
        # Before anything is built: anchors and aliases are refused (rare in hand-written files,
        # and how "billion laughs" files blow up memory), and so is deep nesting (building a
        # deep tree recurses once per level).
        depth = 0
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                doc.at_line(
                    _line(event),
                    _("不能用 & 和 * 引用别处的内容，请把值完整写出来"),
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > RECURSION_GUARD:
                    doc.at_line(_line(event), nested_message())
                    return doc
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        if doc.problems:
            return doc
        node = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        line, message = syntax_problem(text, exc)
        doc.at_line(line, message)
        return doc
    except yaml.YAMLError:
        doc.problems.append(Problem(file, 0, "", _("YAML 格式有误，读不出这个文件")))
        return doc
    if node is None:
        doc.problems.append(Problem(file, 1, "", _("文件是空的")))
        return doc
    _walk(doc, node, (), 0)
    if not doc.problems:
        try:
            doc.data = yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader
        except yaml.MarkedYAMLError as exc:
            line, message = syntax_problem(text, exc)
            doc.at_line(line, message)
        except ValueError:  # e.g. an integer with thousands of digits
            doc.problems.append(Problem(file, 0, "", _("有一个值读不出来（数字太长了？）")))
    return doc


def _line(event: yaml.Event) -> int:
    """Return the line an event starts on, from 1 (parsed text always has its marks)."""
    return event.start_mark.line + 1 if event.start_mark else 0


def nested_message() -> str:
    return _("嵌套太深了（超过 %(most)s 层），请检查括号和缩进", most=MAX_DEPTH)


# A line that starts a key: what an unclosed quote swallows when it runs on.
KEY_LINE = re.compile(r"\n[ \t]*(?:- )?[A-Za-z_][\w-]*:(?:\s|$)")


def syntax_problem(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, str]:
    """Return the line to fix and what to do, in plain words, for a YAML syntax error."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    context, problem = exc.context or "", exc.problem or ""
    opened = _runaway_quote(text, line)
    if "quoted scalar" in context or opened:
        # Report where the quote opens: the parser only notices many lines further down.
        start = opened or (exc.context_mark.line + 1 if exc.context_mark else line)
        return start, _(
            '引号没有闭合：在这一行的值末尾补上配对的引号，比如 label: "过早来碗热干面"'
        )
    if "flow" in context and exc.context_mark is not None:
        return exc.context_mark.line + 1, _(
            "方括号 [ ] 或花括号 { } 没有闭合：在这一行补上配对的括号"
        )
    if "tab" in problem:
        return line, _("这一行用了 Tab 缩进；YAML 只能用空格缩进（每层 2 个空格）")
    if "mapping values are not allowed" in problem:
        return line, _(
            "这一行的缩进和上一行对不齐，或者值里有“: ”：对齐缩进；"
            '值里要写冒号时，把整个值放进引号，比如 label: "早安: 武汉"'
        )
    if "could not find expected ':'" in problem and exc.context_mark is not None:
        return exc.context_mark.line + 1, _("这一行缺少冒号：写成 名字: 值（冒号后面留一个空格）")
    if "cannot start any token" in problem:
        return line, _(
            '这一行有个字符不能放在值的开头（比如 @ 或 `）：把整个值放进引号，比如 "@武汉"'
        )
    if "expected key" in problem or "expected <block end>" in problem:
        return line, _(
            "这一行的缩进和上下文对不齐，或者少了“- ”：每层缩进 2 个空格，和同级的行对齐"
        )
    return line, _("这一行的写法 YAML 读不懂：检查缩进、冒号和引号")


def _runaway_quote(text: str, error_line: int) -> int | None:
    """Return the line where a quoted value that swallowed following keys starts, if any."""
    found = None
    try:
        for token in yaml.scan(text, Loader=LOADER):
            if token.start_mark.line + 1 > error_line:
                break
            if (
                isinstance(token, yaml.ScalarToken)
                and token.style in ("'", '"')
                and token.end_mark.line != token.start_mark.line
                and KEY_LINE.search(text[token.start_mark.index : token.end_mark.index])
            ):
                found = token.start_mark.line + 1
    except yaml.YAMLError:
        pass
    return found


def _tag_problem(doc: Document, node: yaml.Node, path: Path) -> bool:
    """Report a node with a tag other than the plain ones; return whether it had one."""
    if node.tag in PLAIN_TAGS:
        return False
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    line = node.start_mark.line + 1
    message = _("不能用 %(tag)s 这样的标记：删掉它，直接写值", tag=tag)
    doc.problems.append(
        Problem(doc.file, line, dotted(path), message, "error", subject(doc.text, line, path))
    )
    return True


def _walk(doc: Document, node: yaml.Node, path: Path, depth: int) -> None:
    """Record lines and check tags, duplicate keys and depth under ``node``."""
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if depth > MAX_DEPTH:
        doc.add(path, nested_message())
        return
    if _tag_problem(doc, node, path):
        return
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                doc.at_line(line, _("键必须是普通的词，比如 label"))
                continue
            if _tag_problem(doc, key_node, path):
                continue
            key = key_node.value
            if key in seen:
                message = _(
                    "%(key)s 写了两次（第一次在第 %(first)s 行），删掉一个",
                    key=key,
                    first=seen[key],
                )
                doc.problems.append(
                    Problem(
                        doc.file,
                        line,
                        dotted((*path, key)),
                        message,
                        "error",
                        subject(doc.text, line, (*path, key)),
                    )
                )
                continue
            seen[key] = line
            doc.lines[(*path, key)] = line
            _walk(doc, value_node, (*path, key), depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(doc, item, (*path, index), depth + 1)


M = TypeVar("M", bound=pydantic.BaseModel)


def validate(doc: Document, model: type[M], context: dict | None = None) -> M | None:
    """Build ``model`` from the document; translate every validation error into a Problem."""
    if doc.data is None:
        return None
    try:
        return model.model_validate(doc.data, context=context)
    except pydantic.ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            doc.add(loc, explain(error, model, loc))
        return None


def explain(error: pydantic_core.ErrorDetails, model: type[pydantic.BaseModel], loc: Path) -> str:
    """Say in plain words what is wrong with one value, and what is allowed."""
    kind, value = error["type"], error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return _("缺少 %(key)s，请补上", key=loc[-1] if loc else "")
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if hint:
            return _(
                "没有 %(key)s 这一项，是不是想写 %(hint)s？可以写的有：%(allowed)s",
                key=loc[-1],
                hint=hint[0],
                allowed=", ".join(allowed),
            )
        return _(
            "没有 %(key)s 这一项；可以写的有：%(allowed)s", key=loc[-1], allowed=", ".join(allowed)
        )
    if kind == "string_type":
        if isinstance(value, bool):
            return _(
                '这里要写文字，但 YAML 把它读成了是/否（true 或 false）：请把值放进引号，比如 "no"'
            )
        return _("这里要写文字（放进引号），不能是%(value)s", value=_describe(value))
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return _("这里要写一个整数，不能是%(value)s", value=_describe(value))
    if kind in {"float_type", "float_parsing"}:
        return _("这里要写一个数字，不能是%(value)s", value=_describe(value))
    if kind == "bool_type":
        return _("这里要写 true 或 false，不能是%(value)s", value=_describe(value))
    if kind in {"list_type", "tuple_type"}:
        return _("这里要写一个列表（每项以“- ”开头），不能是%(value)s", value=_describe(value))
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return _("这里要写几项“名字: 值”，不能是%(value)s", value=_describe(value))
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind == "string_too_long" or (kind == "too_long" and isinstance(value, str)):
        return _(
            "太长了：最多 %(most)s 个字，现在有 %(count)s 个字",
            most=ctx.get("max_length"),
            count=len(value) if isinstance(value, str) else "?",
        )
    if kind == "too_long":
        return _("太多了：最多 %(most)s 项", most=ctx.get("max_length"))
    if kind == "too_short":
        return _("太少了：至少要有 %(least)s 项", least=ctx.get("min_length"))
    if kind == "string_too_short":
        return _("不能是空的")
    if kind in {"greater_than_equal", "greater_than"}:
        bound = ctx.get("ge", ctx.get("gt"))
        word = _("至少是 %(bound)s") if kind == "greater_than_equal" else _("要大于 %(bound)s")
        return _(
            "数字太小了：%(rule)s，现在是 %(value)s", rule=word % {"bound": bound}, value=value
        )
    if kind in {"less_than_equal", "less_than"}:
        bound = ctx.get("le", ctx.get("lt"))
        word = _("最多是 %(bound)s") if kind == "less_than_equal" else _("要小于 %(bound)s")
        return _(
            "数字太大了：%(rule)s，现在是 %(value)s", rule=word % {"bound": bound}, value=value
        )
    if kind == "literal_error":
        return _(
            "只能是 %(expected)s 之一，不能是%(value)s",
            expected=ctx.get("expected"),
            value=_describe(value),
        )
    return _("这个值不对：%(value)s", value=_describe(value))


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return _("是/否值 %(value)s", value=str(value).lower())
    if isinstance(value, dict):
        return _("几项“名字: 值”")
    if isinstance(value, list):
        return _("一个列表")
    if value is None:
        return _("空值")
    if isinstance(value, str):
        return _("文字「%(value)s」", value=value)
    return f" {value!r}"


def _sections() -> dict[str, str]:
    """Name each part of a catalog the way the people who edit it do."""
    return {
        "choices": _("选项"),
        "categories": _("分类"),
        "regions": _("地区"),
        "campaign": _("活动设置"),
    }


def _fields() -> dict[str, str]:
    return {
        "id": _("编号（id）"),
        "label": _("名称"),
        "description": _("说明"),
        "category": _("分类"),
        "region": _("地区"),
        "icon": _("图标"),
        "link": _("链接"),
        "color": _("颜色"),
        "title": _("标题"),
        "slogan": _("标语"),
        "brand": _("品牌"),
        "footer": _("扫码提示"),
        "min_picks": _("最少选几项"),
        "max_picks": _("最多选几项"),
        "name_max_length": _("名字最长几个字"),
        "name_blocklist": _("名字屏蔽词"),
        "theme": _("主题"),
        "life_tags": _("生活标签"),
        "life_tag_default": _("默认生活标签"),
        "layout_rules": _("排版规则"),
        "layout": _("排版"),
        "default": _("默认排版"),
    }


SECTION = re.compile(r"^([A-Za-z_][\w-]*):")
ITEM = re.compile(r"^(\s*)- ")
LABEL = re.compile(r"^\s*(?:- )?label:\s*(.*)$")
ID = re.compile(r"^\s*(?:- )?id:\s*(.*)$")
KEY = re.compile(r"^\s*(?:- )?([A-Za-z_][\w-]*):")


def subject(text: str, line: int, path: Path = ()) -> str:
    """Name what ``line`` belongs to the way staff know it: 选项「过早来碗热干面」的图标.

    Read from the text, so it works for files YAML cannot parse too.
    """
    lines = text.split("\n") if text else []
    if not 1 <= line <= len(lines):
        return ""
    index = line - 1
    section = next(
        (m.group(1) for i in range(index, -1, -1) if (m := SECTION.match(lines[i]))), None
    )
    sections = _sections()
    if section not in sections:
        return ""
    names = [str(p) for p in path if isinstance(p, str)]
    key = names[-1] if len(names) > 1 else None
    if key is None and not names and (m := KEY.match(lines[index])):
        key = m.group(1)
    field_name = _fields().get(key or "", "")
    if section == "campaign":
        return _("活动设置的%(field)s", field=field_name) if field_name else _("活动设置")
    label = _item_label(lines, index)
    if not label:
        return sections[section]
    what = _("%(section)s「%(label)s」", section=sections[section], label=label)
    if field_name and key != "label":
        return _("%(what)s的%(field)s", what=what, field=field_name)
    return what


def _item_label(lines: list[str], index: int) -> str:
    """Return the label of the list item around ``lines[index]``, if it has one."""
    start, item = None, None
    for i in range(index, -1, -1):
        if SECTION.match(lines[i]):
            break
        if item := ITEM.match(lines[i]):
            start = i
            break
    if start is None or item is None:
        return ""
    indent = len(item.group(1))
    found_id = ""
    for i in range(start, len(lines)):
        if i > start and (
            SECTION.match(lines[i]) or ((m := ITEM.match(lines[i])) and len(m.group(1)) <= indent)
        ):
            break
        if m := LABEL.match(lines[i]):
            value = m.group(1)
            if value[:1] not in ("'", '"'):
                value = value.split(" #")[0]
            value = value.strip().strip("'\"").strip()
            return value if len(value) <= 20 else value[:20] + "…"
        if (m := ID.match(lines[i])) and not found_id:
            found_id = m.group(1).split(" #")[0].strip().strip("'\"").strip()[:40]
    return found_id


def _allowed_keys(model: type[pydantic.BaseModel], loc: Path) -> list[str]:
    """Find the keys allowed at ``loc`` by following the model's fields."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = {f.alias or name: f for name, f in getattr(current, "model_fields", {}).items()}
        if part not in fields:
            return []
        current = _model_in(fields[part].annotation)
    return sorted(f.alias or name for name, f in getattr(current, "model_fields", {}).items())


def _model_in(annotation: Any) -> Any:
    """Return the first pydantic model inside a type like ``list[Choice] | None``."""
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None

"""Edits the console's form makes to catalog YAML, keeping the file's comments, order and quotes.

The form and the YAML box are two views of one draft: the form sends a change (set a field of
a choice, add, duplicate, delete, move), this module applies it to the text with ruamel.yaml's
round-trip loader, and the text goes back to the page. Only the touched value changes; every
comment, blank line and quote elsewhere stays as staff wrote it.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from . import yamldoc
from .catalog import NATIONWIDE, is_image_path
from .i18n import _

# What the form may set on a choice, in the order a new choice is written.
CHOICE_FIELDS = ("id", "label", "category", "region", "icon", "description", "link")
OPTIONAL = {"description", "link"}
# Campaign settings the form edits (texts and numbers).
CAMPAIGN_TEXTS = ("title", "slogan", "brand", "footer", "life_tag_default")
CAMPAIGN_NUMBERS = ("min_picks", "max_picks", "name_max_length")
MOST_CHOICES = 1000


class EditError(ValueError):
    """A change the form sent cannot be applied; the message says what to do, in plain words."""


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long label onto two lines
    # The shipped layout: "  - id: x" with the keys of an item four spaces in.
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def load(text: str) -> CommentedMap:
    """Read catalog YAML for editing; refuse text the form cannot edit, saying why."""
    # The same guards as every check first (size, anchors and aliases, nesting, tags), so that
    # no hostile text reaches the round-trip loader, which has none of them.
    checked = yamldoc.parse(text, "catalog.yaml")
    if checked.data is None:
        first = checked.problems[0] if checked.problems else None
        raise EditError(
            _(
                "YAML 里有问题，表单先不能用：%(problem)s。请在“YAML”视图里改好再回来",
                problem=first.text if first is not None else "",
            )
        )
    try:
        data = _yaml().load(text)
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        raise EditError(
            _(
                "YAML 第 %(line)s 行附近有格式问题，表单先不能用：请在“YAML”视图里改好再回来",
                line=line,
            )
        ) from None
    if not isinstance(data, CommentedMap) or not isinstance(data.get("choices"), CommentedSeq):
        raise EditError(_("目录里找不到选项列表（choices:），表单先不能用：请在“YAML”视图里检查"))
    return data


def dump(data: CommentedMap) -> str:
    out = io.StringIO()
    _yaml().dump(data, out)
    return out.getvalue()


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise EditError(_("表单发来的值不是文字，请刷新页面再试"))
    value = value.strip()
    if field == "icon" and value and not is_image_path(value):
        # An emoji is quoted, as the file's own advice says: YAML reads some bare symbols badly.
        return DoubleQuotedScalarString(value)
    return value


def _choice_at(data: CommentedMap, index: object) -> tuple[int, CommentedMap]:
    """Return the checked ``index`` the form sent and the choice there."""
    choices = data["choices"]
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(choices):
        raise EditError(_("这个选项已经不在了（可能刚被删掉或移动了），请刷新表单"))
    item = choices[index]
    if not isinstance(item, CommentedMap):
        raise EditError(
            _("第 %(number)s 个选项不是“名字: 值”的写法，请在“YAML”视图里修改", number=index + 1)
        )
    return index, item


def _free_id(data: CommentedMap, base: str) -> str:
    """Return ``base``, or ``base-2``, ``base-3`` …: the first id no choice has."""
    taken = {c.get("id") for c in data["choices"] if isinstance(c, CommentedMap)}
    for n in range(1, MOST_CHOICES + 2):
        candidate = base if n == 1 else f"{base}-{n}"
        if candidate not in taken:
            return candidate
    raise EditError(_("选项太多了"))


def apply(text: str, change: dict) -> tuple[str, int | None]:
    """Apply one form change to catalog YAML; return the new text and the choice to show."""
    if not isinstance(change, dict):
        raise EditError(_("表单发来的修改看不懂，请刷新页面再试"))
    data = load(text)
    choices: CommentedSeq = data["choices"]
    op = change.get("op")
    index = change.get("index")
    if op == "set":
        field = change.get("field")
        if field not in CHOICE_FIELDS:
            raise EditError(_("表单发来的修改看不懂，请刷新页面再试"))
        index, item = _choice_at(data, index)
        value = _text(change.get("value", ""), field)
        if field in OPTIONAL and not value:
            item.pop(field, None)
        elif field == "region" and value == NATIONWIDE and "region" not in item:
            pass  # nationwide is the default: nothing to write
        elif field in item:
            item[field] = value
        else:
            # A new key goes where it belongs in the usual order, not at the end.
            order = [f for f in CHOICE_FIELDS if f in item or f == field]
            item.insert(order.index(field), field, value)
        return dump(data), index
    if op == "add":
        if len(choices) >= MOST_CHOICES:
            raise EditError(_("选项太多了"))
        new = CommentedMap()
        new["id"] = _free_id(data, "new-choice")
        new["label"] = _("新的选项")
        first = next((c for c in choices if isinstance(c, CommentedMap)), None)
        new["category"] = first.get("category", "") if first is not None else ""
        new["icon"] = DoubleQuotedScalarString("✨")
        where = len(choices) if index is None else _position(index, len(choices)) + 1
        choices.insert(where, new)
        return dump(data), where
    if op == "duplicate":
        index, item = _choice_at(data, index)
        copy = CommentedMap()
        for key, value in item.items():
            copy[key] = value
        copy["id"] = _free_id(
            data, re.sub(r"-copy(?:-\d+)?$", "", str(item.get("id", ""))) + "-copy"
        )
        choices.insert(index + 1, copy)
        return dump(data), index + 1
    if op == "delete":
        index, _item = _choice_at(data, index)
        del choices[index]
        return dump(data), min(index, len(choices) - 1) if choices else None
    if op == "move":
        index, item = _choice_at(data, index)
        to = _position(change.get("to"), len(choices))
        del choices[index]
        choices.insert(to, item)
        return dump(data), to
    if op == "campaign":
        field = change.get("field")
        campaign = data.get("campaign")
        if not isinstance(campaign, CommentedMap):
            raise EditError(_("目录里找不到活动设置（campaign:），请在“YAML”视图里检查"))
        if field in CAMPAIGN_TEXTS:
            campaign[field] = _text(change.get("value", ""), field)
        elif field in CAMPAIGN_NUMBERS:
            try:
                campaign[field] = int(str(change.get("value", "")).strip())
            except ValueError:
                raise EditError(_("这里要写一个整数")) from None
        else:
            raise EditError(_("表单发来的修改看不懂，请刷新页面再试"))
        return dump(data), None
    raise EditError(_("表单发来的修改看不懂，请刷新页面再试"))


def _position(value: Any, count: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise EditError(_("表单发来的修改看不懂，请刷新页面再试"))
    return max(0, min(value, max(count - 1, 0)))


def view(text: str) -> dict:
    """Return what the form shows: the choices, campaign texts, categories and regions."""
    data = load(text)

    def plain(value: Any) -> Any:
        return str(value) if isinstance(value, str) else value

    choices = []
    for i, item in enumerate(data["choices"]):
        row = {"index": i, "line": item.lc.line + 1 if hasattr(item, "lc") else 0}
        if isinstance(item, CommentedMap):
            row.update({f: plain(item.get(f, "")) for f in CHOICE_FIELDS})
            row["region"] = row["region"] or NATIONWIDE
        choices.append(row)

    def named(key: str) -> list[dict]:
        found = data.get(key)
        items = found if isinstance(found, list) else []
        return [
            {"id": plain(c.get("id")), "label": plain(c.get("label"))}
            for c in items
            if isinstance(c, dict)
        ]

    campaign = data.get("campaign") if isinstance(data.get("campaign"), dict) else {}
    return {
        "choices": choices,
        "categories": named("categories"),
        "regions": [{"id": NATIONWIDE, "label": _("全国通用")}, *named("regions")],
        "campaign": {f: plain(campaign.get(f, "")) for f in (*CAMPAIGN_TEXTS, *CAMPAIGN_NUMBERS)},
    }

"""Read staff-edited YAML into plain data, remembering the line of every key.

PyYAML's safe loader is used for the values; its node tree (``yaml.compose``) gives the
lines, the duplicate keys and the tags, which are checked before anything is built. All
problems found are returned together so that staff can fix them in one go.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import pydantic
import yaml

from .errors import Problem

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

    def line_of(self, path: Path) -> int:
        """Return the line of ``path``, or of its nearest ancestor that exists."""
        path = tuple(path)
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def problem(self, path: Path, message: str) -> Problem:
        """Make a problem located at ``path``."""
        return Problem(self.file, self.line_of(path), dotted(path), message)

    def add(self, path: Path, message: str) -> None:
        self.problems.append(self.problem(path, message))


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
            message = f"the text has an invalid character ({bad}) at position {exc.start}"
            doc.problems.append(Problem(file, text.count("\n", 0, exc.start) + 1, "", message))
            return doc
    else:
        size = len(text)
    if size > MAX_BYTES:
        doc.problems.append(
            Problem(file, 0, "", f"file is {size:,} bytes; at most {MAX_BYTES:,} are allowed")
        )
        return doc
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            message = f"file is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"
            doc.problems.append(Problem(file, 0, "", message))
            return doc
    try:
        # Before anything is built: anchors and aliases are refused (rare in hand-written files,
        # and how "billion laughs" files blow up memory), and so is deep nesting (building a
        # deep tree recurses once per level).
        depth = 0
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                message = "anchors and aliases (& and *) are not allowed; write the value out"
                doc.problems.append(Problem(file, line, "", message))
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > RECURSION_GUARD:
                    line = event.start_mark.line + 1
                    message = f"nested more than {MAX_DEPTH} levels deep"
                    doc.problems.append(Problem(file, line, "", message))
                    return doc
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        if doc.problems:
            return doc
        node = yaml.compose(text, Loader=LOADER)
    except yaml.MarkedYAMLError as exc:
        doc.problems.append(_syntax_problem(file, exc))
        return doc
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(file, 0, "", f"YAML error: {exc}"))
        return doc
    if node is None:
        doc.problems.append(Problem(file, 1, "", "file is empty"))
        return doc
    _walk(doc, node, (), 0)
    if not doc.problems:
        try:
            doc.data = yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader
        except yaml.MarkedYAMLError as exc:
            doc.problems.append(_syntax_problem(file, exc))
        except ValueError as exc:  # e.g. an integer with thousands of digits
            doc.problems.append(Problem(file, 0, "", f"a value cannot be read: {exc}"))
    return doc


def _syntax_problem(file: str, exc: yaml.MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    what = " ".join(filter(None, [exc.context, exc.problem]))
    context = exc.context_mark
    if context is not None and mark is not None and context.line != mark.line:
        # An unclosed quote or bracket is found far below where it was opened.
        what += f" (it starts on line {context.line + 1})"
    return Problem(file, mark.line + 1 if mark else 0, "", f"YAML syntax error: {what}")


def _tag_problem(doc: Document, node: yaml.Node, path: Path) -> bool:
    """Report a node with a tag other than the plain ones; return whether it had one."""
    if node.tag in PLAIN_TAGS:
        return False
    tag = node.tag.replace("tag:yaml.org,2002:", "!!")
    message = f"the tag {tag} is not allowed; remove it and write a plain value"
    doc.problems.append(Problem(doc.file, node.start_mark.line + 1, dotted(path), message))
    return True


def _walk(doc: Document, node: yaml.Node, path: Path, depth: int) -> None:
    """Record lines and check tags, duplicate keys and depth under ``node``."""
    doc.lines.setdefault(path, node.start_mark.line + 1)
    if depth > MAX_DEPTH:
        doc.add(path, f"nested more than {MAX_DEPTH} levels deep")
        return
    if _tag_problem(doc, node, path):
        return
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                doc.problems.append(
                    Problem(doc.file, line, dotted(path), "keys must be plain words")
                )
                continue
            if _tag_problem(doc, key_node, path):
                continue
            key = key_node.value
            if key in seen:
                message = f"key '{key}' appears twice (first on line {seen[key]}); keep one"
                doc.problems.append(Problem(doc.file, line, dotted((*path, key)), message))
                continue
            seen[key] = line
            doc.lines[(*path, key)] = line
            _walk(doc, value_node, (*path, key), depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(doc, item, (*path, index), depth + 1)


def validate(doc: Document, model: type[pydantic.BaseModel], context: dict | None = None):
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


def explain(error: dict, model: type[pydantic.BaseModel], loc: Path) -> str:
    """Say in plain words what is wrong with one value, and what is allowed."""
    kind, value = error["type"], error.get("input")
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        return f"unknown key '{loc[-1]}'; {suggestion}allowed keys: {', '.join(allowed)}"
    if kind == "string_type":
        if isinstance(value, bool):
            return (
                "must be text, but YAML read a yes/no value (true or false) here; put the value in "
                'quotes, like "no"'
            )
        return f"must be text in quotes, not {_describe(value)}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"must be a whole number, not {_describe(value)}"
    if kind in {"float_type", "float_parsing"}:
        return f"must be a number, not {_describe(value)}"
    if kind == "bool_type":
        return f"must be true or false, not {_describe(value)}"
    if kind in {"list_type", "tuple_type"}:
        return f"must be a list, not {_describe(value)}"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"must be a group of keys, not {_describe(value)}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "literal_error":
        return f"must be one of {error['ctx']['expected']}, not {_describe(value)}"
    return error["msg"][0].lower() + error["msg"][1:]


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the yes/no value {str(value).lower()}"
    if isinstance(value, dict):
        return "a group of keys"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{value!r}"


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

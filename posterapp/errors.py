"""Every error posterapp raises on purpose, each with a message a person can act on.

    PosterappError                 base: carries status_code and to_dict()
    ├── InvalidSource              a catalog or layout file has problems (all of them listed)
    ├── RequestError               a request body that is not what the API takes
    │   └── UnsupportedMediaType   the body is not sent as JSON
    ├── SelectionError             picks, name or layout a poster cannot be made from
    │   └── UndrawableText         text has characters no shipped font can draw
    ├── Conflict                   someone else changed the catalog first
    ├── PosterNotFound             no poster has that id
    ├── VersionNotFound            no stored catalog version has that id
    └── Unavailable                posterapp cannot serve this right now (503; try again)

The web layer turns these into JSON ``{error: {code, message, field?}}`` or a page; the CLI
prints the message and exits non-zero. ``code`` and ``field`` are for programs and never
change; ``message`` is for people, in their language (see ``posterapp.i18n``).
"""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import _, join, ngettext


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong in a staff-edited file, pointing at where to fix it."""

    file: str
    line: int
    path: str  # the key path, like choices[7].icon: for programs; people read ``where``
    message: str
    severity: str = "error"  # "warning": worth a look, but publishing goes ahead
    subject: str = ""  # what the line belongs to, by its label: 选项「过早来碗热干面」的图标

    @property
    def where(self) -> str:
        """Say where to look: 第 127 行（选项「过早来碗热干面」）."""
        if not self.line:
            return self.subject or _("整个文件")
        line = _("第 %(line)s 行", line=self.line)
        return (
            _("%(line)s（%(subject)s）", line=line, subject=self.subject) if self.subject else line
        )

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
            "subject": self.subject,
            "where": self.where,
            "text": self.text,
        }

    @property
    def text(self) -> str:
        """Say where and what, as one line a person reads: 第 127 行（…）：引号没有闭合."""
        where = self.where
        return _("%(where)s：%(text)s", where=where, text=self.message) if where else self.message

    def __str__(self) -> str:
        return f"{self.file} {self.text}"


class PosterappError(Exception):
    """Base class: an error with an HTTP status, a machine code and a readable message."""

    status_code = 400
    code = "bad_request"
    # Staff messages name files, keys and versions; on a public page they become plain words.
    for_staff = False

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        error = {"code": self.code, "message": self.message}
        if self.field:
            error["field"] = self.field
        return {"error": error}


class InvalidSource(PosterappError):
    """A catalog or layout file has problems; ``problems`` lists every one."""

    status_code = 422
    code = "invalid_source"
    for_staff = True

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        found = ngettext("发现 %(count)s 个问题：", "发现 %(count)s 个问题：", count)
        super().__init__(f"{found}\n{lines}")

    def to_dict(self) -> dict:
        data = super().to_dict()
        data["error"]["problems"] = [p.to_dict() for p in self.problems]
        return data


class SelectionError(PosterappError):
    """The picks, name or layout asked for cannot make a poster."""

    status_code = 422
    code = "invalid_selection"


class UndrawableText(SelectionError):
    """Text contains characters that no shipped font can draw (they would show as boxes)."""

    code = "undrawable_text"

    def __init__(self, chars: list[str], field: str | None = None):
        self.chars = chars
        message = ngettext(
            "这个字海报上写不出来：%(chars)s，换一个字试试",
            "这些字海报上写不出来：%(chars)s，换几个字试试",
            len(chars),
            chars=join(chars),
        )
        super().__init__(message, field)


class RequestError(PosterappError):
    """A request body that is not what the API takes (not JSON, not an object, extra fields)."""

    status_code = 400
    code = "invalid_request"


class UnsupportedMediaType(RequestError):
    """The body was not sent as JSON."""

    status_code = 415
    code = "unsupported_media_type"


class Conflict(PosterappError):
    """Someone published another catalog since this edit started; nothing was overwritten."""

    status_code = 409
    code = "conflict"
    for_staff = True


class PosterNotFound(PosterappError):
    """No poster has this id (it never existed, or the link was mistyped)."""

    status_code = 404
    code = "poster_not_found"

    def __init__(self, poster_id: str):
        self.poster_id = poster_id[:40]
        super().__init__(_("这张海报找不到了，看看链接是否完整，或者回首页做一张自己的吧"))


class VersionNotFound(PosterappError):
    """No stored catalog version has this id."""

    status_code = 404
    code = "version_not_found"
    for_staff = True


class Unavailable(PosterappError):
    """posterapp cannot do this right now (a render over its time budget, the database away)."""

    status_code = 503
    code = "unavailable"
    retry_after = 5

    def __init__(self, message: str | None = None):
        super().__init__(message or _("网络有点忙，请稍等几秒再试"))

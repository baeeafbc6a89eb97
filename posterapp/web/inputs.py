"""Checks every request passes before a route sees it: body size, and no control characters.

Both guard all routes at once, so no route can forget them: a chunked body over the limit
is a 413 rather than being cut short, and a NUL or other control character in a field,
a query parameter or an address is a 400 naming the field, before any of it reaches the
database (PostgreSQL refuses NUL in text with an error of its own).
"""

from __future__ import annotations

import re

from flask import Flask, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import RequestError
from ..i18n import _

# Bytes a request body may have, by the first matching path prefix (the rest: the app's
# MAX_CONTENT_LENGTH, 2 MB, for catalogs and icons in the console).
API_BODY_LIMIT = 64 * 1024  # a poster request is a few hundred bytes
# An icon upload in the console may be a phone photo of up to 10 MB (made small on arrival);
# the room above that is for the form around the file, so a 10 MB file is never a 413.
UPLOAD_BODY_LIMIT = 10 * 1024 * 1024 + 256 * 1024
BODY_LIMITS = (("/api/", API_BODY_LIMIT), ("/admin/uploads", UPLOAD_BODY_LIMIT))
PICKER_FORM_LIMIT = 16 * 1024  # the picker's form: at most a dozen ids, a name, a city
DRAIN_LIMIT = 4 * 1024 * 1024  # how much of a too-large body is read to answer it cleanly

# C0 and C1 controls and DEL, except tab, line feed and carriage return (YAML and text areas).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def field_label(key: str) -> str:
    """Name a form or API field the way a person would, in their language."""
    labels = {
        "name": _("名字"),
        "choices": _("挑选的美好小事"),
        "city": _("城市"),
        "layout": _("版式"),
        "ref": _("邀请链接"),
        "password": _("密码"),
        "next": _("跳转地址"),
        "poster_id": _("海报编号"),
    }
    return labels.get(key, _("填写的内容"))


def body_limit(path: str, method: str) -> int | None:
    """Return the largest body allowed for a request (None: the app's own limit)."""
    if path == "/" and method == "POST":
        return PICKER_FORM_LIMIT
    for prefix, limit in BODY_LIMITS:
        if path.startswith(prefix):
            return limit
    return None


def limit_body() -> None:
    """Refuse a body over its limit with a 413, also when it comes chunked (no length)."""
    limit = body_limit(request.path, request.method)
    if limit is not None:
        request.max_content_length = limit
    maximum = request.max_content_length
    length = request.content_length
    if length is not None and maximum is not None and length > maximum:
        _drain(length)
        raise RequestEntityTooLarge()
    if length is None and request.method in {"POST", "PUT", "PATCH"}:
        # Werkzeug stops reading a chunked body at the limit without saying so; reading it
        # here (it is kept for the route) and one byte more turns "cut short" into a 413.
        data = request.get_data(cache=True)
        if len(data) >= (maximum or float("inf")) and _drain(DRAIN_LIMIT):
            raise RequestEntityTooLarge()


def _drain(most: int) -> int:
    """Read and drop what is left of the body, up to ``DRAIN_LIMIT``; return how much.

    A server that answers while the client is still sending resets the connection, and the
    client never sees the 413; a body too large even for that is cut off (the reset).
    """
    rest = request.environ["wsgi.input"]
    drained = 0
    while drained < min(most, DRAIN_LIMIT) and (chunk := rest.read(64 * 1024)):
        drained += len(chunk)
    return drained


def refuse_control_characters() -> None:
    """Refuse control characters in the address, the query and form fields, with the field."""
    fields = [*(request.view_args or {}).items(), *request.args.items(multi=True)]
    if request.mimetype in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        fields += request.form.items(multi=True)
        fields += [(key, file.filename or "") for key, file in request.files.items(multi=True)]
    for key, value in fields:
        if isinstance(value, str) and (CONTROL.search(value) or CONTROL.search(key)):
            raise RequestError(
                _("%(label)s里有看不见的控制字符，删掉后再试一次吧", label=field_label(key)),
                field=key[:40],
            )


def init_app(app: Flask) -> None:
    app.before_request(limit_body)
    app.before_request(refuse_control_characters)

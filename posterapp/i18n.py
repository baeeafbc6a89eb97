"""The words people read, in their language: Simplified Chinese, or English if they prefer it.

Messages are written in Chinese in the code (the campaign speaks Chinese, and Chinese is
what everyone gets when nothing else is known), and translated to English in
``posterapp/translations/en/LC_MESSAGES/messages.po``. Placeholders are named
(``%(count)s``) so a translation can put them in any order.

``gettext`` here needs no Flask app: inside a request it answers in the locale Flask-Babel
chose from Accept-Language, anywhere else (the CLI, a Python shell, a test) in Chinese.
This module never imports Flask itself, because rendering code reaches it through
``errors`` and ``layouts`` and must stay free of Flask.

After changing a message in the code or in a .po file::

    .venv/bin/pybabel extract -F babel.cfg -o posterapp/translations/messages.pot .
    .venv/bin/pybabel update -i posterapp/translations/messages.pot -d posterapp/translations
    # translate the new entries in the .po, then:
    .venv/bin/pybabel compile -d posterapp/translations

The compiled .mo files are committed, so a fresh clone and an installed package work as
they are; tests/test_words.py fails if a .mo says something other than its .po.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import sys
from pathlib import Path

TRANSLATIONS = Path(__file__).parent / "translations"
DEFAULT_LOCALE = "zh"
LOCALES = (DEFAULT_LOCALE, "en")  # the first is the default when the browser says nothing we have


@functools.cache
def translations(locale: str) -> _gettext.NullTranslations:
    """Return the compiled catalog for ``locale`` (Chinese needs none: it is the source)."""
    return _gettext.translation("messages", TRANSLATIONS, [locale], fallback=True)


def current_locale() -> str:
    """Return the locale of the request being served, or Chinese outside a request."""
    # Look Flask up rather than import it: if nothing has imported Flask, there is no request.
    flask = sys.modules.get("flask")
    if flask is None or not flask.has_request_context():
        return DEFAULT_LOCALE
    from flask_babel import get_locale

    locale = get_locale()
    return locale.language if locale is not None else DEFAULT_LOCALE


def gettext(message: str, **variables) -> str:
    """Translate ``message`` for the person asking and fill in its named placeholders."""
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, count: int, **variables) -> str:
    """Translate a message whose words depend on ``count`` (available as ``%(count)s``)."""
    text = translations(current_locale()).ngettext(singular, plural, count)
    return text % {"count": count, **variables}


_ = gettext


def wait_text(seconds: int) -> str:
    """Say how long to wait the way people do: "40 秒", "15 分钟", "2 分 30 秒"."""
    minutes, rest = divmod(max(1, int(seconds)), 60)
    if not minutes:
        return ngettext("%(count)s 秒", "%(count)s 秒", rest)
    if not rest:
        return ngettext("%(count)s 分钟", "%(count)s 分钟", minutes)
    return gettext("%(minutes)s 分 %(seconds)s 秒", minutes=minutes, seconds=rest)


def join(items) -> str:
    """List things the way the locale does: 「甲」、「乙」 or “a”, “b”."""
    return gettext("、").join(gettext("「%(item)s」", item=item) for item in items)


def select_locale() -> str:
    """Choose the locale of a request: English if the browser prefers it, Chinese otherwise."""
    from flask import request

    # Not best_match: it prefers an exact match anywhere in the list over a better-liked
    # regional one, so "zh-CN,en;q=0.5" would get English. Take the first language the
    # browser likes most that we have, by its main tag (zh-CN, zh-Hans, zh-TW are zh).
    for tag, quality in request.accept_languages:  # most liked first
        language = tag.replace("_", "-").split("-")[0].lower()
        if quality > 0 and language in LOCALES:
            return language
    return DEFAULT_LOCALE


def init_app(app) -> None:
    """Let Flask-Babel choose each request's locale and give templates ``_()``."""
    from flask_babel import Babel

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    Babel(app, locale_selector=select_locale)

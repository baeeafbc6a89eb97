"""What keeps a worker small: jieba only while a request needs it, Alembic only to migrate.

bench/memory.py measures the worker's RSS; these check the mechanisms it relies on.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time
from urllib.parse import urlsplit

from posterapp.render import caches, text

from .conftest import ROOT, TEST_CONFIG

NAMES = ["小满", "陈一一", "Lily 王", "阿May", "欧阳娜娜娜娜娜娜娜娜", "说走就走的旅行达人",
         "🌸花花", "王 小 二", "Kiki（小K）", "张伟伟伟伟伟伟伟伟伟伟伟伟伟伟伟"]  # fmt: skip


def segmenter_loaded() -> bool:
    return text.segmenter.cache_info().currsize == 1


def test_one_line_of_text_sets_the_same_without_jieba(default_version):
    """A text of one line fits or not whatever its words: fit() does not ask jieba, and sets
    it exactly as breaking by words would have."""
    rng = random.Random(5)
    styles = [lay.name_line for lay in default_version.layouts.values()]
    styles += [lay.slots.label for lay in default_version.layouts.values()]
    styles = [style for style in styles if style.max_lines == 1]
    assert len(styles) >= 4  # every name line, and the labels of hero and list
    labels = [choice.label for choice in default_version.catalog.choices]
    seen = set()
    for style in styles:
        for content in [*NAMES, *rng.sample(labels, 20), "".join(rng.sample(labels, 3))]:
            width, height = style.box[2], style.box[3]
            text.release_segmenter()
            text.fit.cache_clear()
            fast = text.fit(content, style.font, style.size, style.smallest, 1,
                            style.line_height, width, height)  # fmt: skip
            assert not segmenter_loaded(), content
            by_words = _fit_by_words(content, style, width, height)
            assert fast == by_words, (content, fast, by_words)
            seen.add("cut" if fast.truncated else "smaller" if fast.size < style.size else "whole")
    assert seen == {"cut", "smaller", "whole"}  # every way a line can end up was compared


def _fit_by_words(content, style, width, height):
    """fit() as it was: every text broken by words, whatever its lines."""
    for split_words in (False, True):
        current = style.size
        while True:
            lines = text.wrap(content, style.font, current, width, split_words, by_words=True)
            fits = all(text.width(line, style.font, current) <= width for line in lines)
            if len(lines) <= 1 and fits:
                return text.SetText(tuple(lines), current, style.font, style.line_height, False)
            if current <= style.smallest:
                break
            current = max(style.smallest, current - max(1, math.ceil(current * 0.04)))
    last = text.ellipsize(text._remainder(content, []), style.font, current, width)
    return text.SetText((last,), current, style.font, style.line_height, True)


def test_a_poster_with_a_name_does_not_load_jieba_and_a_preview_lets_it_go(tmp_path, monkeypatch):
    """The dictionary is freed after the request that loaded it, and the heap handed back at
    once (not up to a second later, as after other requests)."""
    from posterapp import create_app

    app = create_app({**TEST_CONFIG, "DATA_DIR": str(tmp_path), "PUBLIC_URL": "https://x.example"})
    trims = []
    monkeypatch.setattr(caches, "trim", lambda: trims.append(time.monotonic()))
    try:
        assert not segmenter_loaded()  # the catalog's texts were set at start-up; jieba went
        client = app.test_client()
        made = client.post("/api/posters", json={"choices": ["travel-fund"], "name": "说走就走"})
        assert made.status_code == 201
        assert client.get(urlsplit(made.get_json()["image_url"]).path).status_code == 200
        assert not segmenter_loaded()
        before = len(trims)
        for _ in range(2):  # the second within a second of the first's trim
            with app.test_request_context("/"):
                text.segmenter()("两行的说明文字")  # as a preview of an edited description does
                assert segmenter_loaded()
                app.do_teardown_request()
            assert not segmenter_loaded()
        assert len(trims) == before + 2 and trims[-1] - trims[-2] < 1
    finally:
        app.extensions["posterapp"].store.close()


START = """
import json, sys
from posterapp import create_app
create_app(json.loads(sys.argv[1])).extensions["posterapp"].store.close()
print(json.dumps(["alembic" in sys.modules, "rjieba" in sys.modules]))
"""


def test_a_worker_that_finds_its_database_current_never_imports_alembic(tmp_path):
    config = json.dumps({**TEST_CONFIG, "DATA_DIR": str(tmp_path)})
    found = []
    for _ in range(2):  # the first start makes the tables (Alembic stamps them); then a worker
        done = subprocess.run([sys.executable, "-c", START, config], cwd=ROOT,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        found.append(json.loads(done.stdout.splitlines()[-1]))
    assert found == [[True, False], [False, False]]

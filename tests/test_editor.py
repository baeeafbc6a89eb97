"""The catalog editor: messages staff can act on, warnings, drafts that survive, merging, publish.

Bad catalogs are small textual edits of the shipped one; the expected line is found in the
edited text, never written down by hand.
"""

from __future__ import annotations

import logging
import re

import pytest

from posterapp import catalog as catalog_module
from posterapp import staff
from posterapp.assets import Assets
from posterapp.cli import main
from posterapp.drafts import merge
from posterapp.store import Store

from .conftest import ASSETS, DEFAULT_CATALOG, TEST_CONFIG, BufferedClient
from .test_validation import FIRST_ICON, FIRST_ID, FIRST_LABEL, edit, line_of

NAME, PASSWORD = "zhou.min", "a long enough password"
SOURCE = DEFAULT_CATALOG.read_text(encoding="utf-8")
NOODLES = "选项「过早来碗热干面」"


# --- messages: plain Chinese, the line to fix, the choice by its label ---------------------

# (old, new, needle on the expected line, what a person reads there)
MESSAGES = [
    pytest.param(
        FIRST_LABEL,
        '    label: "过早来碗热干面',
        'label: "过早',
        f"（{NOODLES}）：引号没有闭合",
        id="unclosed-double-quote",
    ),
    pytest.param(
        FIRST_LABEL,
        "    label: '过早来碗热干面",
        "label: '过早",
        f"（{NOODLES}）：引号没有闭合",
        id="unclosed-single-quote",
    ),
    pytest.param(
        FIRST_LABEL,
        "\tlabel: 过早来碗热干面",
        "\tlabel:",
        f"（{NOODLES}）：这一行用了 Tab 缩进",
        id="tab",
    ),
    pytest.param(
        FIRST_LABEL,
        "    label: 早安: 热干面",
        "早安: 热干面",
        "（选项「早安: 热干面」）：这一行的缩进和上一行对不齐，或者值里有“: ”",
        id="colon-in-value",
    ),
    pytest.param(
        FIRST_LABEL,
        "    lable: 过早来碗热干面",
        "lable:",
        "（选项「wuhan-hot-dry-noodles」）：没有 lable 这一项，是不是想写 label？",
        id="unknown-key-named-by-id",
    ),
    pytest.param(
        FIRST_ICON,
        '    icon: "ab"',
        'icon: "ab"',
        f"（{NOODLES}的图标）：图标「ab」要么是一个 emoji",
        id="icon-not-emoji",
    ),
    pytest.param(
        FIRST_LABEL,
        "    label: " + "过早来碗热干面" * 13,
        "过早来碗热干面过早",
        "（选项「过早来碗热干面过早来碗热干面过早来碗热干…」）："
        "太长了：最多 40 个字，现在有 91 个字",
        id="label-too-long-in-characters",
    ),
    pytest.param(
        "    description: 芝麻酱拌得匀匀的，武汉的早晨从这碗面开始",
        "    description: " + "芝麻酱" * 30,
        "芝麻酱芝麻酱",
        f"（{NOODLES}的说明）：太长了：最多 80 个字，现在有 90 个字",
        id="description-too-long",
    ),
    pytest.param(
        '    color: "#C0392B"',
        "    color: red",
        "color: red",
        "（分类「城市美食」的颜色）：「red」不是颜色",
        id="colour",
    ),
    pytest.param(
        "  max_picks: 12\n",
        "  max_picks: twelve\n",
        "max_picks: twelve",
        "（活动设置的最多选几项）：这里要写一个整数，不能是文字「twelve」",
        id="campaign-number",
    ),
    pytest.param(
        "    category: food",
        "    category: snacks",
        "category: snacks",
        f"（{NOODLES}的分类）：没有「snacks」这个分类",
        id="unknown-category",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "reads"), MESSAGES)
def test_a_problem_names_its_line_and_choice_in_plain_chinese(
    catalog_problems, old, new, needle, reads
):
    text = edit(SOURCE, old, new)
    line = line_of(text, needle)
    shown = [f"{p.where}：{p.message}" for p in catalog_problems(text)]
    expected = f"第 {line} 行{reads}"
    assert any(s.startswith(expected) or expected in s for s in shown), (expected, shown)
    for message in shown:  # no parser English, no key paths like choices[7].id
        assert "choices[" not in message and "while parsing" not in message


def test_the_line_of_an_unclosed_quote_is_where_it_opens_not_where_yaml_noticed(
    catalog_problems,
):
    text = edit(SOURCE, FIRST_LABEL, '    label: "过早来碗热干面')
    [problem] = catalog_problems(text)
    quote_line = line_of(text, 'label: "过早')
    assert str(problem).endswith(
        f"第 {quote_line} 行（{NOODLES}）：引号没有闭合："
        '在这一行的值末尾补上配对的引号，比如 label: "过早来碗热干面"'
    )


def test_a_label_that_does_not_fit_is_shown_together_with_other_problems(catalog_problems):
    long_label = "过早来碗热干面" * 4
    text = edit(SOURCE, FIRST_LABEL, f"    label: {long_label}")
    text = edit(text, "    category: food", "    category: snacks")  # a cross-part problem
    text = edit(text, "  - id: wuhan-duck-neck", "  - id: no")  # a schema problem
    problems = catalog_problems(text)
    fits = [p for p in problems if "放不下" in p.message]
    assert fits and all(p.line == line_of(text, long_label) for p in fits)
    assert any("snacks" in p.message for p in problems)
    assert any("是/否" in p.message for p in problems)


# --- warnings: allowed, but worth a second look -------------------------------------------


def warnings_of(text: str, live=None):
    live_catalog = None
    if live is not None:
        live_catalog, _doc = catalog_module.parse(live, "live.yaml", Assets(ASSETS))
    return catalog_module.warnings(text, live_catalog, Assets(ASSETS))


# (old, new, needle on the expected line, what a person reads there)
WARNINGS = [
    pytest.param(
        FIRST_LABEL,
        "    label: 过早来碗热干面 #1",
        "热干面 #1",
        f"（{NOODLES}）：「#1」被 YAML 当成了注释，不会出现在海报上；"
        '要保留它，就把整个值放进引号：label: "过早来碗热干面 #1"',
        id="comment-in-label",
    ),
    pytest.param(
        '    color: "#C0392B"',
        '    color: "#FFFF00"',
        "#FFFF00",
        "（分类「城市美食」的颜色）：颜色 #FFFF00 在白底上太浅了（对比度 1.1:1，至少要 3:1）",
        id="pale-category-colour",
    ),
    pytest.param(
        FIRST_ID,
        "  - id: wuhan-noodles",
        "id: wuhan-noodles",
        f"（{NOODLES}的编号（id））：上线的选项「过早来碗热干面」的编号从 "
        "wuhan-hot-dry-noodles 改成了 wuhan-noodles",
        id="renamed-live-choice",
    ),
    pytest.param(
        "  id: ",
        "  id: faxian-2027\n  # was: ",
        "id: faxian-2027",
        "（活动设置的编号（id））：活动编号从",
        id="renamed-campaign",
    ),
]


@pytest.mark.parametrize(("old", "new", "needle", "reads"), WARNINGS)
def test_a_warning_names_its_line_and_does_not_block(catalog_problems, old, new, needle, reads):
    text = edit(SOURCE, old, new)
    shown = [f"{w.where}：{w.message}" for w in warnings_of(text, live=SOURCE)]
    expected = f"第 {line_of(text, needle)} 行{reads}"
    assert any(expected in s for s in shown), (expected, shown)
    assert all(w.severity == "warning" for w in warnings_of(text, live=SOURCE))
    assert catalog_problems(text) == []  # publishing is not blocked


def test_the_shipped_catalog_has_no_warnings():
    assert warnings_of(SOURCE, live=SOURCE) == []


def test_a_quoted_hash_and_a_new_choice_are_not_warned_about():
    text = edit(SOURCE, FIRST_LABEL, '    label: "过早来碗热干面 #1"')
    assert warnings_of(text, live=SOURCE) == []


# --- merging -------------------------------------------------------------------------------


def test_edits_on_different_lines_merge_by_themselves():
    mine = edit(SOURCE, FIRST_LABEL, "    label: 过早就要热干面")
    theirs = edit(SOURCE, "    label: 存一笔旅游资金", "    label: 存一笔旅行基金")
    merged = merge(SOURCE, mine, theirs)
    assert merged.conflicts == 0
    assert "label: 过早就要热干面" in merged.text and "label: 存一笔旅行基金" in merged.text


def test_edits_of_the_same_line_are_a_conflict_with_all_three_versions():
    mine = edit(SOURCE, FIRST_LABEL, "    label: 过早就要热干面")
    theirs = edit(SOURCE, FIRST_LABEL, "    label: 过早吃碗热干面")
    theirs = edit(theirs, "    label: 存一笔旅游资金", "    label: 存一笔旅行基金")
    merged = merge(SOURCE, mine, theirs)
    assert merged.conflicts == 1
    [chunk] = [c.to_dict() for c in merged.chunks if c.conflict]
    assert chunk == {
        "conflict": True,
        "base": FIRST_LABEL + "\n",
        "mine": "    label: 过早就要热干面\n",
        "theirs": "    label: 过早吃碗热干面\n",
    }
    plain = "".join(c.to_dict()["text"] for c in merged.chunks if not c.conflict)
    assert "存一笔旅行基金" in plain  # their other edit is merged anyway


def test_the_same_edit_on_both_sides_is_no_conflict():
    mine = edit(SOURCE, FIRST_LABEL, "    label: 过早就要热干面")
    assert merge(SOURCE, mine, mine).text == mine


# --- the console: drafts, checks, publishing, conflicts ------------------------------------


@pytest.fixture(scope="module")
def editor_app(tmp_path_factory):
    """An app of its own: publishing here must not change what other tests see."""
    from posterapp import create_app

    app = create_app(
        {
            **TEST_CONFIG,
            "DATA_DIR": str(tmp_path_factory.mktemp("editor")),
            "PUBLIC_URL": "https://posters.example",
        }
    )
    app.test_client_class = BufferedClient
    staff.add_user(app.extensions["posterapp"].store, NAME, PASSWORD)
    staff.add_user(app.extensions["posterapp"].store, "other.one", PASSWORD)
    yield app
    app.extensions["posterapp"].store.close()


def token_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html)[1]


def signed_in(app, name=NAME):
    client = app.test_client()
    token = token_of(client.get("/admin/login").get_data(as_text=True))
    response = client.post(
        "/admin/login", data={"name": name, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    page = client.get("/admin/catalog").get_data(as_text=True)
    return client, token_of(page), page


def api(client, token, path, body=None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token})


@pytest.fixture
def site(editor_app):
    site = editor_app.extensions["posterapp"]
    yield site
    for name in (NAME, "other.one"):
        site.store.discard_draft(name)


def test_a_draft_survives_a_reload_and_signing_in_again_elsewhere(editor_app, site):
    client, token, _page = signed_in(editor_app)
    live = site.store.live()
    draft = edit(live.source, FIRST_LABEL, "    label: 过早就要热干面")
    saved = api(client, token, "/admin/api/draft", {"source": draft, "base": live.id})
    assert saved.status_code == 200 and saved.get_json()["ok"]
    assert "label: 过早就要热干面" in client.get("/admin/catalog").get_data(as_text=True)
    # The session ends: the API says so (401), and the draft is still there afterwards.
    client.post("/admin/logout", data={"csrf_token": token})
    gone = api(client, token, "/admin/api/draft", {"source": draft + "\n", "base": live.id})
    assert gone.status_code == 401
    assert "请先登录" in gone.get_json()["error"]["message"]
    other_machine, _token, page = signed_in(editor_app)
    assert "label: 过早就要热干面" in page and "这是你没发布的草稿" in page
    state = other_machine.get("/admin/api/draft").get_json()
    assert state["draft"]["source"] == draft and state["draft"]["base"] == live.id
    assert state["csrf_token"]
    # Drafts are per account: someone else opens the live catalog.
    _client, _token, theirs = signed_in(editor_app, "other.one")
    assert "label: 过早来碗热干面" in theirs and "这是你没发布的草稿" not in theirs


def test_check_lists_problems_and_warnings_with_line_and_label(editor_app, site):
    client, token, _page = signed_in(editor_app)
    text = edit(SOURCE, FIRST_LABEL, "    label: 过早来碗热干面 #1")
    text = edit(text, "  - id: wuhan-duck-neck", "  - id: no")
    result = api(client, token, "/admin/api/validate", {"source": text}).get_json()
    assert result["ok"] is False
    [problem] = result["problems"]
    assert (
        problem["where"]
        == f"第 {line_of(text, '  - id: no')} 行（选项「啃一盒周黑鸭鸭脖」的编号（id））"
    )
    [warning] = result["warnings"]
    assert warning["severity"] == "warning"
    assert warning["where"] == f"第 {line_of(text, '热干面 #1')} 行（{NOODLES}）"


def test_publish_discards_the_draft_and_a_stale_publish_gets_a_merge(editor_app, site):
    mine_client, mine_token, _ = signed_in(editor_app)
    their_client, their_token, _ = signed_in(editor_app, "other.one")
    live = site.store.live()
    mine = edit(live.source, FIRST_LABEL, "    label: 过早就要热干面")
    theirs = edit(live.source, "    label: 存一笔旅游资金", "    label: 存一笔旅行基金")
    api(mine_client, mine_token, "/admin/api/draft", {"source": mine, "base": live.id})
    first = api(
        their_client, their_token, "/admin/api/publish", {"source": theirs, "base": live.id}
    )
    assert first.status_code == 200 and first.get_json()["ok"]
    stale = api(mine_client, mine_token, "/admin/api/publish", {"source": mine, "base": live.id})
    assert stale.status_code == 409
    found = stale.get_json()
    assert "other.one" in found["message"] and "自动合并" in found["message"]
    conflict = found["conflict"]
    assert conflict["conflicts"] == 0
    assert "过早就要热干面" in conflict["merged"] and "存一笔旅行基金" in conflict["merged"]
    assert site.store.draft(NAME).source == mine  # kept while the merge is checked
    done = api(
        mine_client,
        mine_token,
        "/admin/api/publish",
        {"source": conflict["merged"], "base": conflict["live"]},
    )
    assert done.status_code == 200, done.get_json()
    assert site.store.draft(NAME) is None
    published = site.store.live()
    assert published.who == NAME and "存一笔旅行基金" in published.source


def test_overlapping_edits_are_left_for_the_person_to_choose(editor_app, site):
    mine_client, mine_token, _ = signed_in(editor_app)
    their_client, their_token, _ = signed_in(editor_app, "other.one")
    live = site.store.live()
    old = next(line for line in live.source.splitlines() if line.startswith("    label: 过早"))
    mine = live.source.replace(old, "    label: 过早我来定", 1)
    theirs = live.source.replace(old, "    label: 过早你来定", 1)
    assert (
        api(
            their_client, their_token, "/admin/api/publish", {"source": theirs, "base": live.id}
        ).status_code
        == 200
    )
    stale = api(mine_client, mine_token, "/admin/api/publish", {"source": mine, "base": live.id})
    conflict = stale.get_json()["conflict"]
    assert stale.status_code == 409 and conflict["conflicts"] == 1 and conflict["merged"] is None
    [chunk] = [c for c in conflict["chunks"] if c["conflict"]]
    assert (chunk["base"], chunk["mine"], chunk["theirs"]) == (
        old + "\n",
        "    label: 过早我来定\n",
        "    label: 过早你来定\n",
    )
    assert "1 处" in stale.get_json()["message"]


# --- the command line ----------------------------------------------------------------------


def cli(runner, data_dir, *args):
    return runner.invoke(main, ["--assets", str(ASSETS), "--data-dir", str(data_dir), *args])


def test_publish_from_the_command_line_checks_records_and_compares(runner, tmp_path):
    data = tmp_path / "data"
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(SOURCE, encoding="utf-8")
    first = cli(runner, data, "publish", str(catalog), "--as", "li.na")
    assert first.exit_code == 0, first.output
    assert "已发布 #1" in first.output and "105 个选项" in first.output
    again = cli(runner, data, "publish", str(catalog))
    assert again.exit_code == 0 and "一样，不需要发布" in again.output
    # A bad file: the same checks as the console, nothing published.
    bad = edit(SOURCE, FIRST_LABEL, '    label: "过早来碗热干面')
    catalog.write_text(bad, encoding="utf-8")
    refused = cli(runner, data, "publish", str(catalog), "--as", "li.na")
    assert refused.exit_code == 1
    quote_line = line_of(bad, 'label: "过早')
    assert f"第 {quote_line} 行（{NOODLES}）：引号没有闭合" in refused.output
    # A good edit with a warning: published, the warning printed, the history names the person.
    good = edit(SOURCE, FIRST_LABEL, "    label: 过早来碗热干面 #1")
    catalog.write_text(good, encoding="utf-8")
    done = cli(runner, data, "publish", str(catalog), "--as", "wang.fang")
    assert done.exit_code == 0, done.output
    assert "提醒" in done.output and "被 YAML 当成了注释" in done.output
    # Compare-and-set: a file edited from #1 while #2 is live is refused.
    stale = cli(runner, data, "publish", str(catalog), "--base", "1")
    assert stale.exit_code == 1 and "现在正在使用的是 #2" in stale.output
    store = Store(f"sqlite:///{data / 'posterapp.db'}")
    try:
        assert [(p.id, p.who) for p in store.publications()] == [(2, "wang.fang"), (1, "li.na")]
    finally:
        store.close()


def test_start_up_says_when_the_catalog_file_is_not_what_is_live(tmp_path, caplog):
    from posterapp import create_app

    config = {**TEST_CONFIG, "DATA_DIR": str(tmp_path / "data"), "PUBLIC_URL": "https://p.example"}
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(SOURCE, encoding="utf-8")
    first = create_app({**config, "CATALOG": str(catalog)})
    first.extensions["posterapp"].store.close()
    catalog.write_text(edit(SOURCE, FIRST_LABEL, "    label: 过早就要热干面"), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        second = create_app({**config, "CATALOG": str(catalog)})
    second.extensions["posterapp"].store.close()
    [record] = [r for r in caplog.records if "posterapp publish" in r.getMessage()]
    assert f"posterapp publish {catalog}" in record.getMessage()
    assert "不会自动生效" in record.getMessage()


def test_validate_speaks_chinese(runner, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(edit(SOURCE, "  - id: wuhan-duck-neck", "  - id: no"), encoding="utf-8")
    result = cli(runner, tmp_path / "data", "validate", str(catalog))
    assert result.exit_code == 1
    assert "发现 1 个问题" in result.output and "选项「啃一盒周黑鸭鸭脖」" in result.output


# --- the form: changes applied to the YAML, comments and order kept ------------------------


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    import difflib

    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


@pytest.mark.parametrize(
    ("change", "removed", "added"),
    [
        pytest.param(
            {"op": "set", "index": 0, "field": "label", "value": "过早必吃热干面"},
            [FIRST_LABEL],
            ["    label: 过早必吃热干面"],
            id="label",
        ),
        pytest.param(
            {"op": "set", "index": 0, "field": "label", "value": "过早来碗热干面 #1"},
            [FIRST_LABEL],
            ["    label: '过早来碗热干面 #1'"],  # quoted, so the #1 is not a comment
            id="label-with-hash",
        ),
        pytest.param(
            {"op": "set", "index": 0, "field": "icon", "value": "🍜"},
            [FIRST_ICON],
            ['    icon: "🍜"'],
            id="emoji-icon-in-quotes",
        ),
        pytest.param(
            {"op": "set", "index": 0, "field": "description", "value": ""},
            ["    description: 芝麻酱拌得匀匀的，武汉的早晨从这碗面开始"],
            [],
            id="optional-field-emptied",
        ),
    ],
)
def test_a_form_change_touches_only_its_line(change, removed, added):
    from posterapp.catalog_edit import apply

    after, focus = apply(SOURCE, change)
    assert changed_lines(SOURCE, after) == (removed, added)
    assert focus == 0


def test_adding_duplicating_moving_and_deleting_keep_the_comments():
    from posterapp.catalog_edit import apply, view

    comments = [line for line in SOURCE.splitlines() if line.lstrip().startswith("#")]
    text, focus = apply(SOURCE, {"op": "add", "index": 0})
    assert focus == 1 and view(text)["choices"][1]["id"] == "new-choice"
    text, focus = apply(text, {"op": "duplicate", "index": 0})
    assert view(text)["choices"][1]["id"] == "wuhan-hot-dry-noodles-copy"
    text, focus = apply(text, {"op": "move", "index": 2, "to": 0})
    assert [c["id"] for c in view(text)["choices"][:3]] == [
        "new-choice",
        "wuhan-hot-dry-noodles",
        "wuhan-hot-dry-noodles-copy",
    ]
    text, _focus = apply(text, {"op": "delete", "index": 2})
    text, _focus = apply(text, {"op": "delete", "index": 0})
    assert text == SOURCE  # back where it started, every comment and blank line included
    assert [line for line in text.splitlines() if line.lstrip().startswith("#")] == comments


@pytest.mark.parametrize(
    ("text", "change", "words"),
    [
        pytest.param(
            edit(SOURCE, FIRST_LABEL, '    label: "过早'),
            {"op": "set", "index": 0, "field": "label", "value": "x"},
            "引号没有闭合",
            id="broken-yaml",
        ),
        pytest.param(
            SOURCE,
            {"op": "set", "index": 999, "field": "label", "value": "x"},
            "已经不在了",
            id="gone",
        ),
        pytest.param(
            SOURCE, {"op": "set", "index": 0, "field": "colour", "value": "x"}, "看不懂", id="field"
        ),
    ],
)
def test_a_change_the_form_cannot_make_is_refused_in_plain_words(text, change, words):
    from posterapp.catalog_edit import EditError, apply

    with pytest.raises(EditError) as caught:
        apply(text, change)
    assert words in str(caught.value)


def test_the_form_api_saves_the_draft_and_returns_text_form_and_checks(editor_app, site):
    client, token, _page = signed_in(editor_app)
    live = site.store.live()
    result = api(
        client,
        token,
        "/admin/api/form",
        {
            "source": live.source,
            "base": live.id,
            "change": {"op": "set", "index": 0, "field": "label", "value": "过早" * 21},
        },
    ).get_json()
    assert result["ok"] and f"label: {'过早' * 21}" in result["source"]
    assert result["form"]["choices"][0]["label"] == "过早" * 21
    [problem] = [p for p in result["problems"] if p["path"] == "choices[0].label"]
    assert "太长了：最多 40 个字，现在有 42 个字" in problem["message"]
    assert site.store.draft(NAME).source == result["source"]
    refused = api(
        client,
        token,
        "/admin/api/form",
        {"source": "campaign: [", "change": {"op": "add"}},
    )
    assert refused.status_code == 422 and "表单先不能用" in refused.get_json()["message"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        pytest.param("a: &x [1]\nb: *x\n" * 3, "不能用 & 和 *", id="aliases"),
        pytest.param("x: " + "[" * 200 + "]" * 200 + "\n", "嵌套太深了", id="deep"),
        pytest.param("x: !!python/name:os.system y\n", "不能用 !!python/name:os.system", id="tag"),
        pytest.param("# " + "x" * 300_000 + "\n", "文件太大了", id="huge"),
    ],
)
def test_hostile_yaml_never_reaches_the_round_trip_loader(editor_app, site, text, words):
    client, token, _page = signed_in(editor_app)
    refused = api(client, token, "/admin/api/form", {"source": text, "change": {"op": "add"}})
    assert refused.status_code == 422
    assert "表单先不能用" in refused.get_json()["message"]
    assert words in refused.get_json()["message"]

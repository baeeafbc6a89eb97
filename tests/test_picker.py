"""The picker page and its plain-form path (which works without JavaScript)."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from posterapp.errors import SelectionError
from posterapp.selection import clean_name


def test_the_picker_lists_every_choice_with_a_labelled_checkbox(client):
    html = client.get("/").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="choices" value="([a-z0-9-]+)"', html)
    assert len(boxes) == 105 and len(set(boxes)) == 105
    assert "过早来碗热干面" in html
    assert 'data-min="1" data-max="12"' in html
    # Everything the page loads comes from posterapp itself.
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(("/", "#")) for s in sources), sources


def test_choosing_a_city_brings_its_choices_first(client):
    html = client.get("/?city=wuhan").get_data(as_text=True)
    local = html.split('id="group-local"')[1].split("</section>")[0]
    assert "武汉 · 本地精选" in local
    assert local.count('name="choices"') == 9
    assert "过早来碗热干面" in local


def test_a_referral_link_is_carried_into_the_form(client):
    made = client.post("/api/posters", json={"choices": ["travel-fund"], "name": "阿May"})
    parent = made.get_json()["id"]
    html = client.get(f"/?ref={parent}").get_data(as_text=True)
    assert "阿May 分享了 TA 的美好生活清单" in html
    assert f'<input type="hidden" name="ref" value="{parent}">' in html


def test_the_form_makes_a_poster_and_opens_its_share_page(client, studio):
    response = client.post(
        "/", data={"choices": ["travel-fund", "wuhan-hot-dry-noodles"], "name": "小满"}
    )
    assert response.status_code == 303
    poster_id = re.fullmatch(r"/s/([A-Za-z0-9_-]{12})\?new=1", response.headers["Location"])[1]
    assert studio.store.get_poster(poster_id).name == "小满"


def test_a_form_error_keeps_what_was_chosen(client, studio):
    with pytest.raises(SelectionError) as refused:
        clean_name(studio.active, "官方")
    response = client.post(
        "/", data={"choices": ["travel-fund"], "name": "官方", "city": "wuhan", "layout": "hero"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The message sits beside the name field, which points at it and gets the focus.
    beside = re.search(r'<p class="field-error" id="name-error" role="alert">([^<]*)</p>', html)
    assert beside and beside[1] == escape(refused.value.message)
    field = re.search(r'<input type="text" id="name"[^>]*>', html)[0]
    assert 'value="官方"' in field and 'aria-describedby="name-help name-error"' in field
    assert 'aria-invalid="true"' in field and "autofocus" in field
    assert 'value="travel-fund" checked' in html
    assert '<option value="wuhan" selected>' in html
    assert 'value="hero" checked' in html


def test_the_name_field_does_not_cut_what_people_type(client):
    """No maxlength (it counts UTF-16 units): the page counts like the server and says so."""
    html = client.get("/").get_data(as_text=True)
    field = re.search(r'<input type="text" id="name"[^>]*>', html)[0]
    assert "maxlength" not in field
    assert 'data-name-max="12"' in html
    assert '<span id="name-count">0</span>/12' in html

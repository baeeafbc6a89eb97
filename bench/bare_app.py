"""The references for bench/serve.py: a bare Flask app that does one thing per route.

``GET /p/<anything>.png`` sends one PNG file with Flask's ``send_file``: the floor for a
cached poster image. ``POST /render`` takes ``{"choices": [...], "name": ...}`` and answers
the poster's PNG, drawn by posterapp's renderer and nothing else (no checks of the request,
no database, no image cache, no limits, no logging but gunicorn's): the floor for making a
poster over HTTP.
"""

import os

from flask import Flask, Response, request, send_file

from posterapp import settings, versions
from posterapp.assets import Assets
from posterapp.model import new_poster_id
from posterapp.render.poster import render_png
from posterapp.selection import make_poster
from posterapp.urls import scan_url

PNG = os.environ["BENCH_PNG"]
PUBLIC_URL = os.environ["BENCH_PUBLIC_URL"]  # posterapp's: QR codes of the same size


def create_app() -> Flask:
    app = Flask(__name__)
    values = settings.load()
    version = versions.load_sources(values.CATALOG, Assets(values.ASSETS_DIR))

    @app.get("/p/<poster_id>.png")
    def poster(poster_id: str):
        return send_file(PNG, mimetype="image/png", max_age=31536000)

    @app.post("/render")
    def render():
        body = request.get_json()
        url = scan_url(PUBLIC_URL, new_poster_id())
        poster = make_poster(version, body["choices"], body.get("name"), url)
        return Response(render_png(version, poster), mimetype="image/png")

    return app

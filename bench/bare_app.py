"""The reference for bench/http.py: a bare Flask app sending one PNG file, nothing else."""

import os

from flask import Flask, send_file

PNG = os.environ["BENCH_PNG"]


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/p/<poster_id>.png")
    def poster(poster_id: str):
        return send_file(PNG, mimetype="image/png", max_age=31536000)

    return app

"""Security headers on every response: a Content-Security-Policy with a nonce per request.

Pages load scripts and styles only from posterapp itself; the one inline style block (the
catalog's category colours) carries the request's nonce. Nothing may frame the pages.
"""

from __future__ import annotations

import secrets

from flask import Flask, g


def nonce() -> str:
    """Return this request's CSP nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def policy(request_nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{request_nonce}'",
            f"style-src 'self' 'nonce-{request_nonce}'",
            "img-src 'self' data:",  # console previews arrive as data: URLs
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


# What an image (or any response that is not a page) carries: it runs nothing and loads
# nothing, and nothing may frame it. web/images.py sends these with cached posters too.
IMAGE_HEADERS = (
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
    ("X-Frame-Options", "DENY"),
)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = nonce  # templates call it: {{ csp_nonce() }}

    @app.after_request
    def secure(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", policy(nonce()))
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        return response

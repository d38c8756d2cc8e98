"""Security headers on every response: a strict Content-Security-Policy and its companions."""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

# Scripts and styles come from our own origin only; an inline script needs the page's nonce.
POLICY = (
    "default-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
    "base-uri 'none'",
)
# A year, as the HSTS preload list asks.
HSTS = "max-age=31536000; includeSubDomains"


def csp_nonce() -> str:
    """Return this response's script nonce (made on first use, so only pages using it get one)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return str(g.csp_nonce)


# The policy of a page without inline scripts, the same for every such page.
SCRIPTS_OF_OUR_OWN = "; ".join((*POLICY, "script-src 'self'"))


def content_security_policy() -> str:
    """Return the policy, allowing the nonce's inline scripts when the page used one."""
    if "csp_nonce" not in g:
        return SCRIPTS_OF_OUR_OWN
    return f"{SCRIPTS_OF_OUR_OWN} 'nonce-{g.csp_nonce}'"


def add_security_headers(response: Response, secure_cookies: bool) -> Response:
    """Set the headers, keeping a Referrer-Policy (manage pages: none) or a policy a view chose.

    Only the API documentation sets its own policy (Redoc needs inline styles).
    """
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers.add("Content-Security-Policy", content_security_policy())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["X-Frame-Options"] = "DENY"
    if "Referrer-Policy" not in headers:
        headers.add("Referrer-Policy", "same-origin")
    if secure_cookies:
        headers["Strict-Transport-Security"] = HSTS
    return response


def register(app: Flask) -> None:
    """Install the header hook and the template's nonce helper on the app."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        return add_security_headers(response, bool(app.config["SESSION_COOKIE_SECURE"]))

    app.add_template_global(csp_nonce)

"""What every request and answer passes: control characters refused, the headers every
answer carries, and what changes behind an HTTPS reverse proxy.

The Content-Security-Policy allows only the portal's own scripts and styles: no inline
script, no inline style, no ``eval`` (htmx is configured to need none of them: its indicator
styles live in layout.css, and no ``hx-on`` or trigger filters are used). ``frame-ancestors
'none'`` keeps another site from framing the pages' buttons.
"""

import sys

from flask import Flask, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.converters import has_control_characters

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        # Pico draws its checkboxes, selects and icons with data: SVGs.
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# Over HTTPS (behind the proxy), browsers are told to come back over HTTPS only, for a year.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def init_app(app: Flask) -> None:
    app.before_request(refuse_control_characters)
    app.after_request(add_security_headers)
    app.wsgi_app = ErrorPageOfLastResort(app)
    if app.config.get("BEHIND_HTTPS_PROXY"):
        # The proxy ends TLS and says so in X-Forwarded-Proto/-For/-Host: trust one hop,
        # so that redirects and external URLs say https, and keep cookies to HTTPS.
        # Answers over HTTPS also carry HSTS (security_headers).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)
        app.config.update(
            SESSION_COOKIE_SECURE=True,
            REMEMBER_COOKIE_SECURE=True,
            PREFERRED_URL_SCHEME="https",
        )


def refuse_control_characters():
    """No value of a query or a form holds a NUL or another control character a person
    cannot type: PostgreSQL cannot store or search them. Refused here, once, for all."""
    if request.endpoint == "webhooks.receive":
        return  # it reads its body raw, to check the signature: parsing a form would eat it
    for source in (request.args, request.form):
        for key, value in source.items(multi=True):
            if has_control_characters(key) or has_control_characters(value):
                abort(
                    400,
                    "The request holds a control character (such as NUL) that no one "
                    "types: check the address or the form, and try again.",
                )


def add_security_headers(response):
    headers = response.headers
    for name, value in security_headers(request.is_secure).items():
        headers.setdefault(name, value)
    if request.endpoint != "static":
        # A page may hold what only its signed-in user may read: no copy in any cache. (Not
        # asked of current_user: that would read the database, which may be what is down.)
        headers["Cache-Control"] = "no-store"
    return response


def security_headers(secure: bool) -> dict[str, str]:
    """The headers of every answer; HSTS over HTTPS only (a browser ignores it over HTTP)."""
    if secure:
        return {**SECURITY_HEADERS, "Strict-Transport-Security": STRICT_TRANSPORT_SECURITY}
    return SECURITY_HEADERS


LAST_RESORT_PAGE = (
    b"<!doctype html><html lang=en><meta charset=utf-8><title>Internal Server Error</title>"
    b"<h1>Internal Server Error</h1><p>Something went wrong in the portal. Try again in a "
    b"moment; if it keeps happening, tell whoever runs the connector.</p></html>"
)


class ErrorPageOfLastResort:
    """The answer to an exception the portal's error pages could not answer, because making
    the page failed too (its layout reads the signed-in user from the database, which may be
    what failed). The server's own page would carry none of the security headers."""

    def __init__(self, app: Flask):
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        except Exception:
            if self.propagates():
                raise  # to the debugger, or to the test that caused it
            self.app.logger.exception("The error page failed: %s", environ.get("PATH_INFO"))
            headers = {
                **security_headers(environ.get("wsgi.url_scheme") == "https"),
                "Content-Type": "text/html; charset=utf-8",
                "Content-Length": str(len(LAST_RESORT_PAGE)),
                "Cache-Control": "no-store",
            }
            start_response("500 INTERNAL SERVER ERROR", list(headers.items()), sys.exc_info())
            return [LAST_RESORT_PAGE]

    def propagates(self) -> bool:
        """As Flask decides: exceptions reach the server when debugging or testing."""
        propagate = self.app.config["PROPAGATE_EXCEPTIONS"]
        return self.app.testing or self.app.debug if propagate is None else propagate

"""The headers every answer carries, and the setting for deployments behind HTTPS."""

from werkzeug.middleware.proxy_fix import ProxyFix

from app import create_app
from config import TestConfig
from portal import db
from portal.security import CONTENT_SECURITY_POLICY


def test_every_answer_carries_the_security_headers(client, signed_in_viewer):
    for path in ("/login", "/", "/imports/", "/static/app.css", "/no-such-page"):
        with client.get(path) as response:
            headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_the_policy_allows_only_the_portals_own_scripts_and_styles():
    rules = dict(rule.split(" ", 1) for rule in CONTENT_SECURITY_POLICY.split("; "))
    assert rules["script-src"] == "'self'" and rules["style-src"] == "'self'"
    assert rules["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_pages_are_never_cached_and_static_files_are(client, signed_in_viewer):
    assert client.get("/").headers["Cache-Control"] == "no-store"
    assert client.get("/imports/").headers["Cache-Control"] == "no-store"
    with client.get("/static/app.css") as static:
        assert "no-store" not in static.headers.get("Cache-Control", "")


def test_pages_hold_no_inline_script_or_style(signed_in_admin, demo_webstore):
    for path in ("/", "/imports/new", "/setup/", f"/setup/webstores/{demo_webstore.id}"):
        html = signed_in_admin.get(path).text
        assert "<script>" not in html and " style=" not in html, path
        assert " onsubmit=" not in html and " onclick=" not in html and "hx-on" not in html


def test_behind_an_https_proxy_cookies_are_secure_and_one_hop_is_trusted(tmp_path):
    app = create_app(TestConfig, instance_path=str(tmp_path), BEHIND_HTTPS_PROXY=True)

    login = app.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    with app.app_context():
        db.engine.dispose()  # this app's own pool: closed now, not when collected

    assert "; Secure" in login.headers["Set-Cookie"]
    assert isinstance(app.wsgi_app, ProxyFix)
    assert (app.wsgi_app.x_for, app.wsgi_app.x_proto, app.wsgi_app.x_host) == (1, 1, 1)
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_without_the_setting_forwarded_headers_are_not_trusted(app):
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert not app.config.get("BEHIND_HTTPS_PROXY")

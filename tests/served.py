"""The portal over real HTTP, as a browser meets it: helpers for tests of the live server."""

import os
import socket
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path

import requests
from werkzeug.serving import make_server

from app import create_app
from config import TestConfig
from portal import db
from tests.conftest import (
    PASSWORD,
    build_database,
    csrf_token_from,
    database_beside,
    empty_database,
    make_database,
)


def served_postgres_url() -> str:
    """The PostgreSQL database of these tests, beside the shared one of TEST_DATABASE_URL on
    its server (``test`` gives ``test_served``), made where it is missing."""
    if given := os.environ.get("SERVED_POSTGRES_URL"):
        return given
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if not test_url.startswith("postgresql"):
        test_url = "postgresql://postgres@127.0.0.1:5432/test"
    url = database_beside(test_url, "_served")
    make_database(url, fresh=False)
    return url


class Visitor:
    """One browser: its own cookies, signing in through the form with the page's token."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.http = requests.Session()
        self.token = None

    def sign_in(self, username: str, password: str = PASSWORD) -> requests.Response:
        token = csrf_token_from(self.get("/login").text)
        response = self.http.post(
            self.base_url + "/login",
            data={"username": username, "password": password, "csrf_token": token},
            allow_redirects=False,
        )
        page = self.get("/", allow_redirects=False)
        self.token = csrf_token_from(page.text) if page.status_code == 200 else None
        return response

    def get(self, path: str, **kw) -> requests.Response:
        return self.http.get(self.base_url + path, timeout=30, **kw)

    def post(self, path: str, data=None, **kw) -> requests.Response:
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        kw.setdefault("allow_redirects", False)
        return self.http.post(self.base_url + path, data=data, timeout=30, **kw)


def signed_in(base_url: str, username: str) -> Visitor:
    visitor = Visitor(base_url)
    visitor.sign_in(username)
    return visitor


def database_of_kind(kind: str, folder: Path) -> str:
    """A database built for a test module: SQLite in ``folder``, or the PostgreSQL one."""
    if kind == "postgresql":
        return build_database(served_postgres_url())
    return build_database(f"sqlite:///{folder / 'portal.db'}")


def edit_form(admin: Visitor, webstore, **changes) -> dict:
    """The webstore's edit form as the page shows it, with ``changes`` typed in."""
    fields = form_fields(admin.get(f"/setup/webstores/{webstore.id}").text, "webstore-form")
    return {**fields, **changes}


def press_test_connection(admin: Visitor, webstore, **changes) -> requests.Response:
    """Test connection as its HTMX button sends it: the Connection fieldset, as typed."""
    form = edit_form(admin, webstore, **changes)
    connection = ("base_url", "consumer_key", "consumer_secret", "api_version", "timeout_seconds")
    typed = {name: form[name] for name in ("code", "name", *connection, "verify_tls")}
    return admin.post(
        f"/setup/webstores/{webstore.id}/test-connection",
        typed,
        headers={"HX-Request": "true", "X-CSRFToken": admin.token},
    )


class Served:
    """``app`` served over HTTP on a free loopback port, in a thread, until ``close``."""

    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        # Closing waits for requests in flight, which hold database connections.
        self.server.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@contextmanager
def serving(database_url: str, **config) -> Iterator[tuple]:
    """The portal on an emptied ``database_url``, served over HTTP: (app, its URL). Errors
    are handled as in production, not raised to the test. Routes may still be added until
    its first request."""
    config.setdefault("PROPAGATE_EXCEPTIONS", False)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, **config)
    with app.app_context():
        empty_database()
        server = Served(app)
        try:
            yield app, server.url
        finally:
            server.close()
            db.session.remove()
            db.engine.dispose()


class Listener:
    """A loopback port that keeps what arrives at it. It answers each connection with a 404;
    or ``reset`` drops it with a TCP reset, and ``silent`` never answers."""

    def __init__(self, reset: bool = False, silent: bool = False):
        self.reset = reset
        self.silent = silent
        self.received: list[bytes] = []
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return  # closed
            with connection:
                connection.settimeout(5)
                self.received.append(self.read_request(connection))
                if self.reset:
                    # Linger 0: close sends RST, as a firewall or a crashed service does.
                    connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                elif self.silent:
                    self.read_request(connection)  # until the client gives up and closes
                else:
                    connection.sendall(NOT_FOUND)

    @staticmethod
    def read_request(connection) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            try:
                chunk = connection.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.socket.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way
        self.socket.close()
        self.thread.join()


NOT_FOUND = (
    b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\n{}"
)


class FormFields(HTMLParser):
    """The fields a browser submits from one form of a page, as the page shows them."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.select = self.first_option = None
        self.chosen = False
        self.textarea = None
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        if tag == "input" and attrs.get("name"):
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append(
                    (attrs["name"], attrs.get("value", "on" if kind == "checkbox" else ""))
                )
        elif tag == "select":
            self.select = attrs.get("name")
            self.first_option = None if "multiple" not in attrs else False
            self.chosen = False
        elif tag == "option" and self.select:
            if self.first_option is None:
                self.first_option = attrs.get("value", "")
            if "selected" in attrs:
                self.fields.append((self.select, attrs.get("value", "")))
                self.chosen = True
        elif tag == "textarea":
            self.textarea = attrs.get("name")
            self.fields.append((self.textarea, ""))

    def handle_data(self, data):
        if self.textarea:
            name, text = self.fields.pop()
            self.fields.append((name, text + data))

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self.select:
            # A single choice with none selected sends its first option.
            if not self.chosen and self.first_option not in (None, False):
                self.fields.append((self.select, self.first_option))
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(html: str, form_id: str) -> dict[str, list[str]]:
    """What submitting the form ``form_id`` of ``html`` sends, unchanged: name → values."""
    parser = FormFields(form_id)
    parser.feed(html)
    fields: dict[str, list[str]] = {}
    for name, value in parser.fields:
        fields.setdefault(name, []).append(value)
    return fields

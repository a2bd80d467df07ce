"""Configuration read from the environment.

Every setting has a default that works for a first run on one machine: SQLite in the
instance folder, Redis on localhost, and secret keys generated once and kept in the
instance folder (which git ignores).
"""

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret(instance_path: str, name: str, make) -> str:
    """Read a secret kept in the instance folder, creating it on first use.

    Processes that start at once (gunicorn's workers, an RQ worker, the scheduler) agree on
    one: each writes its own draft, the first to link it in place wins, the others read it.
    """
    path = Path(instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        with os.fdopen(os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
            file.write(make())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass  # another process made it first
        finally:
            draft.unlink()
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    SECRET_KEY = os.environ.get("SECRET_KEY")
    # Fernet key that encrypts webstore secrets at rest (consumer and webhook secrets).
    WEBSTORE_SECRETS_KEY = os.environ.get("WEBSTORE_SECRETS_KEY")
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "imports")
    # Webhook runs: a worker takes from it before RQ_QUEUE (the README's worker command).
    RQ_WEBHOOK_QUEUE = os.environ.get("RQ_WEBHOOK_QUEUE", "webhooks")
    # Where stores reach the portal (https://portal.example.com): webhooks deliver there.
    PUBLIC_URL = os.environ.get("PUBLIC_URL")
    # Staff keep the import page open all day: a token bound to the session (and so
    # ended by signing out) instead of one that expires after an hour.
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Behind a reverse proxy that ends HTTPS: trust its X-Forwarded-* headers (one hop) and
    # send cookies over HTTPS only.
    BEHIND_HTTPS_PROXY = os.environ.get("BEHIND_HTTPS_PROXY", "").lower() in ("1", "true", "yes")
    LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
    LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
    # A signed-in session ends when unused this long, and in any case this long after the
    # sign-in: a computer left signed in, or a stolen cookie, does not stay good for weeks.
    SESSION_IDLE_HOURS = float(os.environ.get("SESSION_IDLE_HOURS", "8"))
    SESSION_MAX_DAYS = float(os.environ.get("SESSION_MAX_DAYS", "7"))
    # A request body larger than this is refused (413) before it is read: the portal's forms
    # are small. Webhook deliveries have their own limit: an order of a few hundred lines is
    # some hundreds of KB of JSON (about 50 KB for a large ordinary one).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(1024 * 1024)))
    WEBHOOK_MAX_BYTES = int(os.environ.get("WEBHOOK_MAX_BYTES", str(5 * 1024 * 1024)))
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Store requests a run asks at once: where it starts (a webstore's first run; later ones
    # start from what the last learnt), and at most; the limit adapts between 1 and the
    # most (portal.woo.limit). IMPORT_CONCURRENCY_ADAPTIVE=0 holds it at IMPORT_CONCURRENCY.
    IMPORT_CONCURRENCY = int(os.environ.get("IMPORT_CONCURRENCY", "2"))
    IMPORT_CONCURRENCY_MAX = int(os.environ.get("IMPORT_CONCURRENCY_MAX", "8"))
    IMPORT_CONCURRENCY_ADAPTIVE = os.environ.get("IMPORT_CONCURRENCY_ADAPTIVE", "1") != "0"
    # A running import touches its run this often; one silent for RUN_STALE_SECONDS is
    # taken for dead (its worker was killed) and marked failed.
    RUN_HEARTBEAT_SECONDS = float(os.environ.get("RUN_HEARTBEAT_SECONDS", "5"))
    RUN_STALE_SECONDS = float(os.environ.get("RUN_STALE_SECONDS", "60"))
    # An automatic sync with more to read than this many seconds of work goes back to the
    # end of the queue and goes on in its turn (portal.sync.runs.pause): a big store's first
    # import interleaves with the other webstores' syncs instead of holding a worker.
    RUN_SLICE_SECONDS = float(os.environ.get("RUN_SLICE_SECONDS", "10"))
    # The first wait before a store request is tried again (then doubled, with jitter).
    STORE_BACKOFF_SECONDS = float(os.environ.get("STORE_BACKOFF_SECONDS", "0.5"))
    # A run that stopped because the store stopped answering is started again after each
    # of these delays in turn (seconds), continuing from what it settled; then it stays failed.
    RUN_RETRY_DELAYS = tuple(
        int(delay)
        for delay in os.environ.get("RUN_RETRY_DELAYS", "60,300,1800").split(",")
        if delay
    )
    # Alerts by e-mail (portal.alerts): the SMTP server and the sender; no MAIL_SERVER, no
    # e-mail (webhook alerts still go). MAIL_USE_TLS upgrades the connection with STARTTLS.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "587"))
    MAIL_USE_TLS = os.environ.get("MAIL_USE_TLS", "true").lower() in ("1", "true", "yes")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_FROM = os.environ.get("MAIL_FROM", "webstore-connector@localhost")
    # /metrics answers Prometheus with this bearer token (or a scrape from the same host).
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN")
    # The company's currency (ISO 4217, "EUR"): an order in another currency carries the
    # exchange rate of its order date and amounts in this one. Unset, every document stays
    # in its own currency and no rate is asked for.
    COMPANY_CURRENCY = os.environ.get("COMPANY_CURRENCY", "").strip().upper() or None

    @classmethod
    def finish(cls, app) -> None:
        """Fill what the environment left unset, once the instance folder is known."""
        if not app.config.get("SQLALCHEMY_DATABASE_URI"):
            path = Path(app.instance_path) / "connector.db"
            path.parent.mkdir(parents=True, exist_ok=True)
            app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(app.config["SQLALCHEMY_DATABASE_URI"])
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = instance_secret(
                app.instance_path, "secret_key", lambda: secrets.token_hex(32)
            )
        if not app.config.get("WEBSTORE_SECRETS_KEY"):
            app.config["WEBSTORE_SECRETS_KEY"] = instance_secret(
                app.instance_path, "webstore_secrets.key", lambda: Fernet.generate_key().decode()
            )


class TestConfig(Config):
    TESTING = True
    # Faults are retried as in production, without the tests waiting for it.
    STORE_BACKOFF_SECONDS = 0.01
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    SECRET_KEY = "test-secret-key"
    # Fixed, so that worker processes started by the tests can read what the tests wrote.
    WEBSTORE_SECRETS_KEY = "TJQFgiYxWEevYqVdUVN6cSsWBYydtWyxM-hlS_uTcpA="
    RQ_QUEUE = "test-imports"
    RQ_WEBHOOK_QUEUE = "test-webhooks"
    # Two suites' sandbox stores share two cores: runs ask them at most two at once, as
    # before the limit adapted (tests/test_store_limit.py sets its own bounds).
    IMPORT_CONCURRENCY_MAX = 2
    COMPANY_CURRENCY = None

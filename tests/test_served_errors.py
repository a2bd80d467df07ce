"""Error pages as a running server sends them, on SQLite and on PostgreSQL: the security
headers, plain words, and nothing of the code or the database."""

from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Outcome, Role, SyncLogEntry, SyncRun, Trigger, User, Webstore
from portal.security import SECURITY_HEADERS
from tests.conftest import QUICK_HASH
from tests.served import Visitor, database_of_kind, serving

# What a page must never show of a failure.
INTERNALS = ("Traceback", "psycopg", "sqlite3", "sqlalchemy", "SELECT", "does not exist")
PLAIN_WORDS = "Something went wrong in the portal."
DATABASE_DOWN = "The database is not answering right now."


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    return request.param, database_of_kind(request.param, tmp_path_factory.mktemp("served"))


@pytest.fixture
def served(database):
    """The portal served over HTTP, errors handled as in production, and a viewer; the test
    may add routes before the viewer signs in."""
    kind, url = database
    with serving(url) as (app, base_url):
        db.session.add(User(username="viewer", role=Role.VIEWER, password_hash=QUICK_HASH))
        db.session.commit()
        yield kind, app, Visitor(base_url)


@contextmanager
def table_gone(name: str):
    """``name`` renamed away, as a half-applied migration would leave it; then put back."""
    db.session.execute(sa.text(f"ALTER TABLE {name} RENAME TO {name}_gone"))
    db.session.commit()
    try:
        yield
    finally:
        db.session.execute(sa.text(f"ALTER TABLE {name}_gone RENAME TO {name}"))
        db.session.commit()


def assert_plain_error_page(response, status: int, words: str) -> None:
    assert response.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, name
    assert response.headers["Cache-Control"] == "no-store"
    assert words in response.text
    shown = [word for word in INTERNALS if word.lower() in response.text.lower()]
    assert shown == []


def test_a_page_that_fails_answers_plain_words_with_the_headers(served):
    kind, app, visitor = served

    def broken():
        raise sa.exc.ProgrammingError(
            "SELECT secret FROM users", {}, Exception('column "secret" does not exist')
        )

    app.add_url_rule("/broken", "broken", broken)
    visitor.sign_in("viewer")

    response = visitor.get("/broken")

    assert_plain_error_page(response, 500, PLAIN_WORDS)
    assert "Sign out viewer" in response.text  # in the layout, as any page


def test_a_download_whose_rows_cannot_be_read_answers_plain_words_with_the_headers(served):
    kind, app, visitor = served
    visitor.sign_in("viewer")
    webstore = Webstore(code="MAIN", name="Main", base_url="http://127.0.0.1:9", consumer_key="k")
    webstore.consumer_secret = "s"
    run = SyncRun(webstore=webstore, trigger=Trigger.MANUAL)
    db.session.add(run)
    db.session.commit()
    db.session.add(
        SyncLogEntry(run_id=run.id, webstore_id=webstore.id, woo_order_id=1, outcome=Outcome.FAILED)
    )
    db.session.commit()

    with table_gone("sync_log_entries"):
        response = visitor.get(f"/imports/runs/{run.id}/entries.csv")

    # SQLite says "no such table" as it says "database is locked": taken for an outage.
    if kind == "sqlite":
        assert_plain_error_page(response, 503, DATABASE_DOWN)
    else:
        assert_plain_error_page(response, 500, PLAIN_WORDS)


def test_an_error_page_that_fails_too_still_answers_plain_words_with_the_headers(served):
    kind, app, visitor = served
    visitor.sign_in("viewer")

    # Every page, the error page too, reads the signed-in user's session from this table.
    with table_gone("user_sessions"):
        response = visitor.get("/")

    if kind == "sqlite":
        assert_plain_error_page(response, 503, DATABASE_DOWN)
    else:
        assert_plain_error_page(response, 500, PLAIN_WORDS)

"""``/healthz``: anyone learns whether the portal is well and which part is not; hosts, ports
and driver errors are for signed-in admins and the log."""

import logging

import pytest

from tests.conftest import Portal

DATABASE_DOWN = "postgresql://nobody@127.0.0.1:1/none"
REDIS_DOWN = "redis://127.0.0.1:1/0"


def signed_in(app, user) -> Portal:
    portal = Portal(app.test_client())
    with app.app_context():  # its own context: the test's holds another user's g
        portal.sign_in(user.username)
    return portal


@pytest.fixture(autouse=True)
def health_log():
    """The health logger, on (migrations/env.py's fileConfig() turns existing loggers off)."""
    logger = logging.getLogger("portal.health")
    disabled, logger.disabled = logger.disabled, False
    yield
    logger.disabled = disabled


# Anyone


def test_healthz_says_only_ok_to_anyone_when_all_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_healthz_names_only_redis_to_anyone_when_it_is_down(make_app, caplog):
    response = make_app(REDIS_URL=REDIS_DOWN).test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "failing", "failing": ["redis"]}
    assert "127.0.0.1" not in response.text and "Connection" not in response.text
    [line] = [r.getMessage() for r in caplog.records if r.name == "portal.health"]
    assert "redis is failing: error: ConnectionError" in line and "127.0.0.1:1" in line


def test_healthz_names_only_the_database_to_anyone_when_it_is_down(make_app, caplog):
    response = make_app(SQLALCHEMY_DATABASE_URI=DATABASE_DOWN).test_client().get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "failing", "failing": ["database"]}
    assert "OperationalError" not in response.text and "port" not in response.text
    [line] = [r.getMessage() for r in caplog.records if r.name == "portal.health"]
    assert "database is failing: error: OperationalError" in line


def test_healthz_gives_signed_in_staff_no_details(make_app, staff_user):
    app = make_app(REDIS_URL=REDIS_DOWN)

    response = signed_in(app, staff_user).get("/healthz")

    assert response.json == {"status": "failing", "failing": ["redis"]}


# Signed-in admins


def test_healthz_gives_a_signed_in_admin_the_details(app, admin_user):
    response = signed_in(app, admin_user).get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_tells_a_signed_in_admin_what_redis_said(make_app, admin_user):
    app = make_app(REDIS_URL=REDIS_DOWN)

    response = signed_in(app, admin_user).get("/healthz")

    assert response.status_code == 503
    assert response.json["status"] == "failing" and response.json["failing"] == ["redis"]
    assert response.json["database"] == "ok"
    assert response.json["redis"].startswith("error: ConnectionError")
    assert "127.0.0.1:1" in response.json["redis"]


def test_an_admin_signed_in_while_the_database_is_down_is_told_as_much_as_anyone(
    make_app, admin_user
):
    """Who asks is known from the database only: while it is down, nobody gets details."""
    portal = signed_in(make_app(), admin_user)
    down = make_app(SQLALCHEMY_DATABASE_URI=DATABASE_DOWN).test_client()
    down.set_cookie("session", portal.client.get_cookie("session").value)

    response = down.get("/healthz")

    assert response.status_code == 503
    assert response.json == {"status": "failing", "failing": ["database"]}


def test_a_page_whose_database_is_down_answers_a_readable_503(make_app):
    client = make_app(SQLALCHEMY_DATABASE_URI=DATABASE_DOWN).test_client()
    with client.session_transaction() as session:
        session["_user_id"] = "1"
    response = client.get("/setup/")
    assert response.status_code == 503
    assert "The database is not answering right now." in response.text
    assert "Traceback" not in response.text

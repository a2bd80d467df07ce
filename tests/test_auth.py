import pytest
import sqlalchemy as sa
from flask import url_for

from portal import db
from portal.models import User
from tests.conftest import PASSWORD, csrf_token_from

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static", "webhooks.receive"}


def portal_routes(app, webstore_id):
    """Every (method, path) of the portal but the public ones, with sample arguments."""
    samples = {"webstore_id": webstore_id, "kind": "customer"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        values = {arg: samples.get(arg, 1) for arg in rule.arguments}
        with app.test_request_context():
            path = url_for(rule.endpoint, **values)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            yield method, path


def test_every_route_refuses_anonymous_users(app, client, webstore):
    routes = list(portal_routes(app, webstore.id))
    assert len(routes) > 10
    for method, path in routes:
        response = client.open(path, method=method)
        if method == "GET":
            assert response.status_code == 302, path
            assert response.headers["Location"].startswith("/login"), path
        else:  # refused before anything runs: no token, no session
            assert response.status_code in (302, 400), (method, path)


def test_sign_in_with_the_right_password_opens_the_portal(portal, staff_user):
    response = portal.sign_in(staff_user.username)
    assert response.status_code == 302
    page = portal.get("/")
    assert page.status_code == 200
    assert "Sign out staff-user" in page.text


def test_sign_in_with_a_wrong_password_says_so(portal, staff_user):
    response = portal.sign_in(staff_user.username, "wrong password")
    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.text


def test_sign_out_ends_the_session(signed_in_staff):
    response = signed_in_staff.post("/logout")
    assert response.status_code == 302
    assert signed_in_staff.get("/").status_code == 302


def test_passwords_are_stored_hashed(staff_user):
    stored = db.session.scalar(sa.select(User.password_hash).where(User.id == staff_user.id))
    assert PASSWORD not in stored
    assert stored.startswith(("scrypt:", "pbkdf2:"))


def test_repeated_failures_lock_out_that_user_from_that_address(portal, staff_user, app):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert portal.sign_in(staff_user.username, "guess").status_code == 401
    locked = portal.sign_in(staff_user.username)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.text


def test_a_lockout_is_per_address(portal, staff_user, app, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        portal.sign_in(staff_user.username, "guess")
    other = app.test_client()
    with app.app_context():  # a context of its own: the test's context holds the first token
        page = other.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.9"})
        response = other.post(
            "/login",
            data={
                "username": staff_user.username,
                "password": PASSWORD,
                "csrf_token": csrf_token_from(page.text),
            },
            environ_base={"REMOTE_ADDR": "10.0.0.9"},
        )
    assert response.status_code == 302, response.text


def test_sign_in_does_not_follow_next_to_another_site(portal, staff_user):
    token = csrf_token_from(portal.get("/login").text)
    response = portal.client.post(
        "/login?next=https://evil.example/",
        data={"username": staff_user.username, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/"


def test_a_post_without_csrf_token_is_refused(signed_in_admin):
    response = signed_in_admin.client.post("/setup/users/new", data={"username": "x"})
    assert response.status_code == 400
    assert "Reload the page" in response.text


def test_an_htmx_post_without_csrf_header_is_refused_with_a_fragment(signed_in_admin):
    response = signed_in_admin.client.post(
        "/setup/users/new", data={"username": "x"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 400
    assert "<html" not in response.text
    assert "Reload the page" in response.text


def test_an_htmx_post_with_the_csrf_header_is_accepted(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/users/new",
        {"username": "newbie", "role": "viewer", "password": "long enough pass", "active": "y"},
        htmx=True,
    )
    assert response.status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/setup/webstores/new", "/setup/users", "/setup/users/new", "/setup/templates/item/new"],
)
def test_staff_cannot_open_admin_pages(signed_in_staff, path):
    response = signed_in_staff.get(path)
    assert response.status_code == 403
    assert "needs the admin role" in response.text


def test_viewers_can_read_setup(signed_in_viewer):
    assert signed_in_viewer.get("/setup/").status_code == 200
    assert signed_in_viewer.get("/setup/templates").status_code == 200


def test_admins_create_users_with_a_role(signed_in_admin):
    signed_in_admin.post(
        "/setup/users/new",
        {"username": "warehouse", "role": "staff", "password": "a long password", "active": "y"},
    )
    user = db.session.scalar(sa.select(User).where(User.username == "warehouse"))
    assert user.role == "staff"
    assert user.check_password("a long password")


def test_create_user_command_takes_the_password_from_the_environment(runner, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "from the environment")
    result = runner.invoke(args=["create-user", "ops", "--role", "admin"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.username == "ops"))
    assert user.role == "admin" and user.check_password("from the environment")


def test_create_user_command_can_generate_and_print_a_password_once(runner):
    result = runner.invoke(args=["create-user", "first", "--role", "admin", "--generate-password"])
    password = result.output.split("Password (shown once): ")[1].strip()
    user = db.session.scalar(sa.select(User).where(User.username == "first"))
    assert user.check_password(password)

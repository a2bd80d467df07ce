import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import url_for
from flask.testing import FlaskClient

from portal import db
from portal.auth import login
from portal.models import Role, User, UserSession
from portal.models.base import utcnow
from tests.conftest import PASSWORD, Portal, csrf_token_from

PUBLIC_ENDPOINTS = {"auth.login", "health.healthz", "static", "webhooks.receive", "metrics.scrape"}


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


# Sessions that end. Each browser below sends every request in an app context of its own, as
# in production: requests made inside the test's context share its ``g``, where Flask-Login
# keeps the user it loaded, and would never read the session from the cookie.


class OwnContextClient(FlaskClient):
    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def browser(app):
    """Opens a browser of its own: a client with its own cookies and its own contexts."""

    def open_browser(cookie: str | None = None) -> Portal:
        client = OwnContextClient(app, app.response_class, use_cookies=True)
        if cookie is not None:
            client.set_cookie("session", cookie)
        return Portal(client)

    return open_browser


def session_cookie(portal: Portal) -> str:
    return portal.client.get_cookie("session").value


def is_signed_in(portal: Portal) -> bool:
    response = portal.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_session_cookie_copied_before_signing_out_is_refused_after_it(browser, staff_user):
    staff = browser()
    staff.sign_in(staff_user.username)
    copied = session_cookie(staff)
    assert is_signed_in(browser(copied))  # the copy works while the session is on

    assert staff.post("/logout").status_code == 302

    assert not is_signed_in(browser(copied))
    assert not is_signed_in(staff)


def test_signing_out_leaves_the_users_other_browsers_signed_in(browser, staff_user):
    laptop, phone = browser(), browser()
    laptop.sign_in(staff_user.username)
    phone.sign_in(staff_user.username)

    laptop.post("/logout")

    assert not is_signed_in(laptop)
    assert is_signed_in(phone)


def test_a_cookie_that_carries_a_user_id_signs_no_one_in(browser, admin_user):
    """As every cookie did before sessions were kept on the server: they sign in once more."""
    old = browser()
    with old.client.session_transaction() as session:
        session["_user_id"] = str(admin_user.id)

    assert not is_signed_in(old)


def test_the_database_keeps_only_a_hash_of_the_session_token(browser, staff_user):
    staff = browser()
    staff.sign_in(staff_user.username)

    [stored] = db.session.scalars(sa.select(UserSession.token_hash)).all()
    with staff.client.session_transaction() as session:
        token = session["_user_id"]  # what the cookie carries
    assert len(token) >= 40 and token != str(staff_user.id)
    assert stored == hashlib.sha256(token.encode()).hexdigest()


def test_a_session_unseen_for_longer_than_the_idle_time_is_over(app, browser, staff_user):
    staff = browser()
    staff.sign_in(staff_user.username)
    unseen = utcnow() - timedelta(hours=app.config["SESSION_IDLE_HOURS"], minutes=1)
    db.session.execute(sa.update(UserSession).values(last_seen_at=unseen))
    db.session.commit()

    assert not is_signed_in(staff)


def test_a_session_in_use_is_seen_again_at_most_every_few_minutes(browser, staff_user):
    staff = browser()
    staff.sign_in(staff_user.username)
    seen_at = db.session.scalar(sa.select(UserSession.last_seen_at))
    assert is_signed_in(staff)
    db.session.expire_all()
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) == seen_at  # not written

    hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(sa.update(UserSession).values(last_seen_at=hour_ago))
    db.session.commit()
    assert is_signed_in(staff)

    db.session.expire_all()
    assert db.session.scalar(sa.select(UserSession.last_seen_at)) - hour_ago > timedelta(minutes=59)


# Sign-in takes as long for a name that does not exist as for one that does: the password
# is hashed either way (which is what takes the time), with the same algorithm.


@pytest.fixture
def hashes(monkeypatch):
    """The hashes sign-in checks passwords against, in order."""
    checked = []

    def check(hashed: str, password: str) -> bool:
        checked.append(hashed)
        return real_check(hashed, password)

    real_check = login.check_password_hash
    monkeypatch.setattr(login, "check_password_hash", check)
    return checked


def method_of(hashed: str) -> str:
    return hashed.split("$")[0]


def test_an_unknown_name_is_checked_against_a_hash_made_as_passwords_are(portal, hashes, app):
    response = portal.sign_in("nobody-by-this-name")

    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.text
    assert hashes == [login.dummy_hash()]
    user = User(username="x", role=Role.VIEWER)
    user.set_password("a real password")
    assert method_of(login.dummy_hash()) == method_of(user.password_hash)  # e.g. scrypt:32768:8:1


def test_a_known_name_is_checked_against_its_own_hash(portal, hashes, staff_user):
    assert portal.sign_in(staff_user.username, "wrong password").status_code == 401

    assert hashes == [staff_user.password_hash]


def test_an_inactive_users_password_is_checked_too_and_refused(portal, hashes, staff_user):
    staff_user.active = False
    db.session.commit()

    response = portal.sign_in(staff_user.username)

    assert response.status_code == 401
    assert "Unknown username or wrong password." in response.text
    assert hashes == [staff_user.password_hash]


def test_the_dummy_hash_is_made_once_when_the_app_is_built(app):
    assert login.dummy_hash.cache_info().currsize == 1
    assert login.dummy_hash() == login.dummy_hash()


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

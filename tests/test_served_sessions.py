"""Sessions and tokens as a running server keeps them: the sign-in limit under parallel
requests, a new CSRF token at sign-in and sign-out, idle and absolute session ends, HSTS
behind the HTTPS proxy, and passwords of at least 12 characters."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from config import Config
from portal import db
from portal.auth import login
from portal.models import Role, User, UserSession
from portal.models.base import utcnow
from tests.conftest import QUICK_HASH, csrf_token_from, make_user
from tests.served import Visitor, database_of_kind, serving, signed_in

PARALLEL = 40
OUT_OF_DATE = "This form is out of date"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory):
    return database_of_kind(request.param, tmp_path_factory.mktemp("served"))


@pytest.fixture
def password_checks(monkeypatch) -> list:
    """Every password sign-in checks, from any of the server's threads."""
    checked = []
    check = login.check_password_hash

    def counted(hash, password):
        checked.append(password)
        return check(hash, password)

    monkeypatch.setattr(login, "check_password_hash", counted)
    return checked


def test_forty_parallel_wrong_sign_ins_check_five_passwords(database, password_checks):
    with serving(database) as (app, url):
        db.session.add(User(username="clerk", role=Role.STAFF, password_hash=QUICK_HASH))
        db.session.commit()
        browsers = [Visitor(url) for _ in range(PARALLEL)]
        tokens = [csrf_token_from(b.get("/login").text) for b in browsers]
        start = threading.Barrier(PARALLEL)

        def wrong_sign_in(n: int) -> int:
            form = {"username": "clerk", "password": f"wrong guess {n}", "csrf_token": tokens[n]}
            start.wait()
            return browsers[n].http.post(f"{url}/login", data=form, timeout=60).status_code

        with ThreadPoolExecutor(PARALLEL) as pool:
            statuses = Counter(pool.map(wrong_sign_in, range(PARALLEL)))

    assert app.config["LOGIN_MAX_FAILURES"] == 5
    assert len(password_checks) == 5
    assert statuses == {401: 5, 429: 35}


def test_the_right_password_after_the_limit_is_not_checked(
    live_server, staff_user, password_checks
):
    browser = Visitor(live_server)
    for n in range(5):
        assert browser.sign_in(staff_user.username, f"wrong guess {n}").status_code == 401

    locked = browser.sign_in(staff_user.username)

    assert locked.status_code == 429
    assert len(password_checks) == 5


def test_a_right_password_does_not_count_toward_the_limit(live_server, staff_user):
    browser = Visitor(live_server)
    for _ in range(6):
        assert browser.sign_in(staff_user.username).status_code == 302
        browser.post("/logout")


def test_a_token_from_before_sign_in_is_refused_after_it(live_server, staff_user):
    browser = Visitor(live_server)
    before = csrf_token_from(browser.get("/login").text)
    browser.sign_in(staff_user.username)

    refused = browser.post("/logout", {"csrf_token": before})

    assert refused.status_code == 400 and OUT_OF_DATE in refused.text
    assert browser.get("/", allow_redirects=False).status_code == 200  # still signed in


def test_the_last_users_token_is_refused_to_the_next_user_of_the_browser(
    live_server, staff_user, admin_user
):
    browser = signed_in(live_server, staff_user.username)
    staffs_token = browser.token
    assert browser.post("/logout").status_code == 302
    browser.sign_in(admin_user.username)

    refused = browser.post("/setup/users/new", {"csrf_token": staffs_token})

    assert refused.status_code == 400 and OUT_OF_DATE in refused.text
    assert browser.post("/setup/users/new", {}).status_code == 422  # the admin's own token


def sessions_started(ago: timedelta, seen: timedelta) -> None:
    now = utcnow()
    db.session.execute(sa.update(UserSession).values(created_at=now - ago, last_seen_at=now - seen))
    db.session.commit()


def is_signed_in(browser: Visitor) -> bool:
    return browser.get("/", allow_redirects=False).status_code == 200


def test_sessions_end_after_eight_idle_hours_and_seven_days(app):
    assert (Config.SESSION_IDLE_HOURS, Config.SESSION_MAX_DAYS) == (8, 7)
    assert (app.config["SESSION_IDLE_HOURS"], app.config["SESSION_MAX_DAYS"]) == (8, 7)


def test_a_session_idle_for_eight_hours_is_over(live_server, staff_user):
    browser = signed_in(live_server, staff_user.username)
    sessions_started(ago=timedelta(hours=9), seen=timedelta(hours=8, seconds=1))

    assert not is_signed_in(browser)
    assert browser.get("/", allow_redirects=False).headers["Location"].startswith("/login")


def test_a_session_idle_for_less_goes_on(live_server, staff_user):
    browser = signed_in(live_server, staff_user.username)
    sessions_started(ago=timedelta(hours=9), seen=timedelta(hours=7, minutes=59))

    assert is_signed_in(browser)


def test_a_session_in_use_ends_seven_days_after_its_sign_in(live_server, staff_user):
    browser = signed_in(live_server, staff_user.username)
    sessions_started(ago=timedelta(days=7, seconds=1), seen=timedelta(minutes=1))

    assert not is_signed_in(browser)


def test_a_session_in_use_for_less_goes_on(live_server, staff_user):
    browser = signed_in(live_server, staff_user.username)
    sessions_started(ago=timedelta(days=6, hours=23), seen=timedelta(minutes=1))

    assert is_signed_in(browser)


def test_the_idle_time_is_a_setting(database_url):
    with serving(database_url, SESSION_IDLE_HOURS=0.5) as (app, url):
        make_user(Role.STAFF)
        browser = signed_in(url, "staff-user")
        sessions_started(ago=timedelta(minutes=40), seen=timedelta(minutes=31))

        assert not is_signed_in(browser)


def test_behind_the_https_proxy_answers_tell_browsers_to_keep_to_https(database_url):
    with serving(database_url, BEHIND_HTTPS_PROXY=True) as (app, url):
        browser = Visitor(url)
        over_https = browser.get("/login", headers={"X-Forwarded-Proto": "https"})
        over_http = browser.get("/login")

    assert over_https.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in over_http.headers


def test_without_the_proxy_setting_no_answer_carries_hsts(live_server):
    # X-Forwarded-Proto is anyone's to send when no proxy stands in front.
    response = Visitor(live_server).get("/login", headers={"X-Forwarded-Proto": "https"})

    assert "Strict-Transport-Security" not in response.headers


def test_the_users_form_refuses_passwords_under_twelve_characters(live_server, admin_user):
    admin = signed_in(live_server, admin_user.username)
    form = {"username": "packer", "role": "staff", "active": "y"}

    short = admin.post("/setup/users/new", {**form, "password": "eleven char"})
    enough = admin.post("/setup/users/new", {**form, "password": "twelve chars"})

    assert short.status_code == 422
    assert "Use at least 12 characters." in short.text
    assert enough.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.username == "packer")) is not None


def test_create_user_refuses_passwords_under_twelve_characters(runner, monkeypatch):
    monkeypatch.setenv("PORTAL_PASSWORD", "eleven char")

    result = runner.invoke(args=["create-user", "ops", "--role", "admin"])

    assert result.exit_code == 1
    assert "Use a password of at least 12 characters." in result.output
    assert db.session.scalar(sa.select(User).where(User.username == "ops")) is None

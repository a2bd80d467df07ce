"""Users in Setup: a password change or a deactivation signs the user out everywhere else,
and the last active admin stays an active admin."""

import threading
import time

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import Role, User, UserSession
from tests.conftest import make_user
from tests.test_auth import browser, is_signed_in, session_cookie  # noqa: F401

NEW_PASSWORD = "a new long password"


def user_form(user: User, **changes) -> dict:
    """The form as the user's page fills it, with ``changes``."""
    return {"username": user.username, "role": str(user.role), "password": "", **changes}


def save(portal, user: User, **changes):
    return portal.post(f"/setup/users/{user.id}", user_form(user, **changes))


def deactivate(portal, user: User):
    return portal.post(f"/setup/users/{user.id}/deactivate")


def activate(portal, user: User):
    return portal.post(f"/setup/users/{user.id}/activate")


def reloaded(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def sessions_of(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(UserSession).where(UserSession.user_id == user.id)
    )


@pytest.fixture
def admin(browser, admin_user):  # noqa: F811
    portal = browser()
    portal.sign_in(admin_user.username)
    return portal


@pytest.fixture
def staff_browsers(browser, staff_user):  # noqa: F811
    """The staff user, signed in on two computers."""
    browsers = [browser(), browser()]
    for each in browsers:
        each.sign_in(staff_user.username)
    assert all(is_signed_in(each) for each in browsers)
    return browsers


# Sessions that end


def test_a_password_change_signs_the_user_out_of_every_session(admin, staff_user, staff_browsers):
    assert save(admin, staff_user, password=NEW_PASSWORD).status_code == 302

    assert [is_signed_in(each) for each in staff_browsers] == [False, False]
    assert sessions_of(staff_user) == 0
    assert reloaded(staff_user).check_password(NEW_PASSWORD)


def test_the_old_cookie_of_a_user_whose_password_changed_is_refused(
    browser,  # noqa: F811
    admin,
    staff_user,
    staff_browsers,
):
    copied = session_cookie(staff_browsers[0])

    save(admin, staff_user, password=NEW_PASSWORD)

    assert not is_signed_in(browser(copied))


def test_an_admin_changing_their_own_password_stays_signed_in_only_where_they_are(
    browser,  # noqa: F811
    admin,
    admin_user,
):
    elsewhere = browser()
    elsewhere.sign_in(admin_user.username)

    assert save(admin, admin_user, password=NEW_PASSWORD).status_code == 302

    assert is_signed_in(admin)
    assert not is_signed_in(elsewhere)
    assert sessions_of(admin_user) == 1


def test_saving_a_user_without_a_new_password_signs_no_one_out(admin, staff_user, staff_browsers):
    assert save(admin, staff_user, role="viewer").status_code == 302

    assert [is_signed_in(each) for each in staff_browsers] == [True, True]
    assert reloaded(staff_user).role == Role.VIEWER


def test_deactivation_ends_the_users_sessions_for_good(admin, staff_user, staff_browsers):
    assert deactivate(admin, staff_user).status_code == 303
    assert [is_signed_in(each) for each in staff_browsers] == [False, False]

    assert activate(admin, staff_user).status_code == 303  # active again

    assert [is_signed_in(each) for each in staff_browsers] == [False, False]
    assert sessions_of(staff_user) == 0


# The last active admin


def test_the_only_admin_cannot_deactivate_themselves(admin, admin_user):
    response = deactivate(admin, admin_user)

    assert response.status_code == 422
    assert (
        "You are the only active admin: make another user an active admin first, "
        "then deactivate." in response.text
    )
    assert reloaded(admin_user).active
    assert is_signed_in(admin)


def test_the_only_admin_cannot_make_themselves_staff(admin, admin_user):
    response = save(admin, admin_user, role="staff")

    assert response.status_code == 422
    assert (
        "You are the only active admin: make another user an active admin first, "
        "then change this role." in response.text
    )
    assert reloaded(admin_user).role == Role.ADMIN


def test_the_refusal_stands_beside_what_would_change(admin, admin_user):
    role_page = save(admin, admin_user, role="viewer").text
    access_page = deactivate(admin, admin_user).text

    assert role_page.count('class="field-error"') == 1 and 'id="role-error"' in role_page
    assert access_page.count('class="field-error"') == 1
    access = access_page.split('id="user-access"')[1]
    assert '<p class="field-error" role="alert">You are the only active admin' in access


def test_an_inactive_admin_does_not_count_as_another_admin(admin, admin_user):
    make_user(Role.ADMIN, "retired-admin").active = False
    db.session.commit()

    assert save(admin, admin_user, role="staff").status_code == 422
    assert reloaded(admin_user).role == Role.ADMIN


def test_with_another_active_admin_an_admin_may_step_down(admin, admin_user):
    other = make_user(Role.ADMIN, "second-admin")

    assert save(admin, admin_user, role="staff").status_code == 302

    assert reloaded(admin_user).role == Role.STAFF and reloaded(other).role == Role.ADMIN


def test_once_the_other_admin_is_deactivated_the_first_is_the_last_again(admin, admin_user):
    other = make_user(Role.ADMIN, "second-admin")
    assert deactivate(admin, other).status_code == 303  # two admins: allowed

    response = deactivate(admin, admin_user)

    assert response.status_code == 422
    assert reloaded(admin_user).active and not reloaded(other).active


def test_two_admins_making_each_other_staff_at_once_leave_one_admin(admin, admin_user):
    """The second save waits for the first (the active admins' rows are locked) and then
    finds it would leave no admin."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: no two saves are ever at once")
    other = make_user(Role.ADMIN, "second-admin")
    url, form = f"/setup/users/{other.id}", user_form(other, role="staff")
    answers = []
    with db.engine.connect() as first:
        # The other admin's save, halfway: admins locked, admin_user made staff.
        first.execute(
            sa.select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
        )
        first.execute(sa.update(User).where(User.id == admin_user.id).values(role="staff"))
        second = threading.Thread(target=lambda: answers.append(admin.post(url, form)))
        second.start()
        wait_until_a_statement_waits_for_a_lock()
        first.commit()
        second.join(timeout=30)

    assert [a.status_code for a in answers] == [422]
    assert "second-admin is the only active admin" in answers[0].text
    assert reloaded(other).role == Role.ADMIN and reloaded(admin_user).role == Role.STAFF


def wait_until_a_statement_waits_for_a_lock(timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    while True:
        with db.engine.connect() as connection:
            if connection.execute(waiting).scalar():
                return
        assert time.monotonic() < deadline, "the second save never waited for the lock"
        time.sleep(0.02)


def test_other_users_are_deactivated_and_created_as_before(admin, staff_user):
    assert deactivate(admin, staff_user).status_code == 303
    created = admin.post(
        "/setup/users/new", {"username": "packer", "role": "viewer", "password": NEW_PASSWORD}
    )

    assert created.status_code == 302
    assert not reloaded(staff_user).active
    assert db.session.scalar(sa.select(User.active).where(User.username == "packer"))

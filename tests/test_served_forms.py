"""Forms say what they change: deactivating a user is a button of its own, never a missing
checkbox; and a request body is refused (413) before it is read when larger than the forms'
limit, webhook deliveries excepted with their own. Over HTTP."""

import http.client
import json
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from config import Config
from portal import db
from portal.models import User
from portal.security import SECURITY_HEADERS
from portal.webhooks.deliveries import NOT_SIGNED
from tests.served import Visitor, form_fields, signed_in

MB = 1024 * 1024


@pytest.fixture
def admin(live_server, admin_user):
    return signed_in(live_server, admin_user.username)


@pytest.fixture
def staff(live_server, staff_user):
    """The staff user, signed in in a browser of their own."""
    return signed_in(live_server, staff_user.username)


def is_active(user: User) -> bool:
    db.session.expire_all()
    return db.session.get(User, user.id).active


def is_signed_in(browser: Visitor) -> bool:
    return browser.get("/", allow_redirects=False).status_code == 200


def test_a_post_of_only_a_csrf_token_to_a_users_page_changes_nothing(admin, staff, staff_user):
    before = (staff_user.username, staff_user.role, staff_user.password_hash)

    admin.post(f"/setup/users/{staff_user.id}", {})

    assert is_active(staff_user) and is_signed_in(staff)
    assert (staff_user.username, staff_user.role, staff_user.password_hash) == before


def test_the_users_form_without_an_active_box_does_not_deactivate(admin, staff, staff_user):
    form = {"username": staff_user.username, "role": "viewer", "password": ""}

    response = admin.post(f"/setup/users/{staff_user.id}", form)

    assert response.status_code == 302
    assert is_active(staff_user) and is_signed_in(staff)


def test_the_users_form_as_shown_has_no_say_in_access(admin, staff_user):
    page = admin.get(f"/setup/users/{staff_user.id}").text

    assert sorted(form_fields(page, "user-form")) == ["csrf_token", "password", "role", "username"]


def test_deactivate_is_a_button_of_its_own(admin, staff, staff_user):
    page = admin.get(f"/setup/users/{staff_user.id}").text
    action = f'<form method="post" action="/setup/users/{staff_user.id}/deactivate">'
    assert action in page and f"Deactivate {staff_user.username}</button>" in page

    response = admin.post(f"/setup/users/{staff_user.id}/deactivate")

    assert response.status_code == 303
    assert not is_active(staff_user) and not is_signed_in(staff)
    listing = admin.get(response.headers["Location"]).text
    assert "User staff-user deactivated: signed out everywhere, and cannot sign in." in listing


def test_deactivate_needs_the_csrf_token(admin, staff, staff_user):
    response = admin.post(f"/setup/users/{staff_user.id}/deactivate", {"csrf_token": ""})

    assert response.status_code == 400
    assert is_active(staff_user) and is_signed_in(staff)


def test_activate_lets_a_deactivated_user_sign_in_again(admin, staff_user, live_server):
    admin.post(f"/setup/users/{staff_user.id}/deactivate")

    response = admin.post(f"/setup/users/{staff_user.id}/activate")

    assert response.status_code == 303 and is_active(staff_user)
    assert is_signed_in(signed_in(live_server, staff_user.username))


def send_partly(base_url: str, path: str, size: int, headers: dict, sent: int = 64 * 1024):
    """Announce a body of ``size`` bytes, send only its first ``sent``, and read the answer:
    a server that answers has refused the body without reading it."""
    connection = http.client.HTTPConnection(urlsplit(base_url).netloc, timeout=10)
    try:
        connection.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(size)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(b"x" * sent)
        response = connection.getresponse()
        return response, response.read().decode()
    finally:
        connection.close()  # a server still waiting for the rest gets the end of it


def test_a_50_mb_form_is_refused_before_it_is_read(admin, live_server):
    cookie = "; ".join(f"{c.name}={c.value}" for c in admin.http.cookies)
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

    response, page = send_partly(live_server, "/setup/users/new", 50 * MB, headers)

    assert response.status == 413
    assert "<h1>Too much at once</h1>" in page
    assert (
        "What was sent is larger than the portal accepts (1 MB at most), so none of it was "
        "read or saved. Go back and send less at once." in page
    )
    for name, value in SECURITY_HEADERS.items():
        assert response.getheader(name) == value
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_the_limit_is_1_mb_and_a_form_just_over_it_is_refused(admin, live_server):
    cookie = "; ".join(f"{c.name}={c.value}" for c in admin.http.cookies)
    headers = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}

    response, _ = send_partly(live_server, "/setup/users/new", MB + 1, headers)

    assert Config.MAX_CONTENT_LENGTH == MB
    assert response.status == 413


def test_a_webhook_delivery_over_the_forms_limit_is_read(live_server):
    body = b'{"id": 23, "padding": "' + b"x" * (2 * MB) + b'"}'

    response = Visitor(live_server).http.post(
        f"{live_server}/webhooks/woocommerce/MAIN",
        data=body,
        headers={"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "bad"},
    )

    # Read and its signature checked: the answer every unsigned delivery gets.
    assert (response.status_code, response.json()["message"]) == (401, NOT_SIGNED)


def test_a_webhook_delivery_over_its_own_5_mb_limit_is_refused_unread(live_server):
    size = 5 * MB + 1

    response, body = send_partly(live_server, "/webhooks/woocommerce/MAIN", size, {})

    assert Config.WEBHOOK_MAX_BYTES == 5 * MB
    assert response.status == 413
    assert json.loads(body) == {
        "status": "refused",
        "message": f"The delivery is larger than {5 * MB} bytes ({size} bytes); "
        "no order is that large.",
    }

"""A webstore's stored consumer secret goes only to the store URL it was entered for: a URL
on another host, port or scheme needs it entered again, in Test connection and in the save.
Over HTTP, with a listener on another loopback port standing for the new host."""

import base64
import hashlib
import hmac
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from portal import db
from tests.served import Listener, edit_form, press_test_connection, signed_in

STORED_SECRET = "cs_secret_main_store"  # the conftest webstore's
ENTER_AGAIN = (
    "The store URL has changed host, port or scheme: enter the consumer secret again. "
    "The stored one is only sent to http://127.0.0.1:9."
)


@pytest.fixture
def admin(live_server, admin_user, webstore):
    return signed_in(live_server, admin_user.username)


@pytest.fixture
def new_host():
    listener = Listener()
    yield listener
    listener.close()


def signed_with(request: bytes, secret: str) -> bool:
    """Whether the OAuth 1.0a signature of ``request`` (in its query) was made with
    ``secret``, as WooCommerce checks it."""
    method, target, _ = request.split(b"\r\n", 1)[0].decode().split(" ")
    host = next(
        line.split(":", 1)[1].strip()
        for line in request.decode().split("\r\n")
        if line.lower().startswith("host:")
    )
    parts = urlsplit(target)
    params = parse_qsl(parts.query, keep_blank_values=True)
    given = dict(params)["oauth_signature"]
    normalized = "&".join(
        f"{quote(k, safe='~')}={quote(v, safe='~')}"
        for k, v in sorted(p for p in params if p[0] != "oauth_signature")
    )
    base = "&".join(
        quote(part, safe="~") for part in (method, f"http://{host}{parts.path}", normalized)
    )
    digest = hmac.new(f"{secret}&".encode(), base.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), given)


def test_testing_another_host_with_the_secret_blank_sends_it_nothing(admin, webstore, new_host):
    response = press_test_connection(admin, webstore, base_url=new_host.url, consumer_secret="")

    assert response.status_code == 200
    assert f"Consumer secret: {ENTER_AGAIN}" in response.text
    assert new_host.received == []


def test_saving_another_host_with_the_secret_blank_is_refused_at_the_field(
    admin, webstore, new_host
):
    form = edit_form(admin, webstore, base_url=new_host.url, consumer_secret="")

    response = admin.post(f"/setup/webstores/{webstore.id}", form)

    assert response.status_code == 422
    assert f'<small class="field-error" id="consumer_secret-error">{ENTER_AGAIN}</small>' in (
        response.text
    )
    db.session.expire_all()
    assert webstore.base_url == "http://127.0.0.1:9"
    assert webstore.consumer_secret == STORED_SECRET
    assert new_host.received == []


@pytest.mark.parametrize(
    "base_url", ["https://127.0.0.1:9", "http://localhost:9", "http://127.0.0.1:8080"]
)
def test_another_scheme_host_or_port_is_another_host(admin, webstore, base_url):
    form = edit_form(admin, webstore, base_url=base_url, consumer_secret="")

    response = admin.post(f"/setup/webstores/{webstore.id}", form)

    assert response.status_code == 422
    assert ENTER_AGAIN in response.text


def test_another_path_on_the_same_host_keeps_the_stored_secret(admin, webstore):
    form = edit_form(admin, webstore, base_url="http://127.0.0.1:9/shop", consumer_secret="")

    response = admin.post(f"/setup/webstores/{webstore.id}", form)

    assert response.status_code == 302
    db.session.expire_all()
    assert webstore.base_url == "http://127.0.0.1:9/shop"
    assert webstore.consumer_secret == STORED_SECRET


def test_the_new_host_gets_the_secret_entered_again_and_never_the_stored_one(
    admin, webstore, new_host
):
    press_test_connection(
        admin, webstore, base_url=new_host.url, consumer_secret="cs_for_the_new_host"
    )

    [request] = new_host.received
    assert signed_with(request, "cs_for_the_new_host")
    assert not signed_with(request, STORED_SECRET)
    assert b"authorization:" not in request.lower()


def test_saving_another_host_with_the_secret_entered_again_keeps_the_new_one(
    admin, webstore, new_host
):
    form = edit_form(admin, webstore, base_url=new_host.url, consumer_secret="cs_for_the_new_host")

    response = admin.post(f"/setup/webstores/{webstore.id}", form)

    assert response.status_code == 302
    db.session.expire_all()
    assert (webstore.base_url, webstore.consumer_secret) == (new_host.url, "cs_for_the_new_host")
    assert new_host.received == []

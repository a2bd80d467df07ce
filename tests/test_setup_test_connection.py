"""Test connection on the webstore setup page: who the store is, or exactly why it cannot be asked.

Every failure is a real one over real sockets: the sandbox store with wrong settings or faults,
a TLS sandbox with a self-signed certificate, a closed port, and a small site of our own that
is not WooCommerce.
"""

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from portal import db
from portal.woo import WooClient
from sandbox.process import SandboxProcess


def url_of(webstore) -> str:
    return f"/setup/webstores/{webstore.id}/test-connection"


def press_test(portal, webstore, **saved):
    """Save ``saved`` on the webstore, then press Test connection as HTMX does."""
    for name, value in saved.items():
        setattr(webstore, name, value)
    db.session.commit()
    return portal.post(url_of(webstore), htmx=True)


def typed_form(webstore, **overrides) -> dict:
    """The Connection fieldset as HTMX sends it: the fields as typed, the secret left blank."""
    data = {
        "code": webstore.code,
        "name": webstore.name,
        "base_url": webstore.base_url,
        "consumer_key": webstore.consumer_key,
        "consumer_secret": "",
        "api_version": webstore.api_version,
        "timeout_seconds": str(webstore.timeout_seconds),
        "verify_tls": "y",
    }
    data.update(overrides)
    return data


def store_requests(store) -> int:
    return store.stats()["requests"]


CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"


def captured_body(name: str) -> bytes:
    return json.dumps(json.loads((CAPTURES / name).read_text())["body"]).encode()


class NotWooCommerce(BaseHTTPRequestHandler):
    """A site that is not a WooCommerce store, in three ways, by the first path segment;
    and, under /guarded, a store whose settings API a security plugin keeps from the key."""

    def do_GET(self):
        kind = self.path.split("/")[1]
        if kind == "guarded":
            if "/wc/v3/system_status" in self.path:
                body = captured_body("system_status_environment.json")
                self.answer(200, "application/json", body)
            elif "/wc/v3/settings/" in self.path:
                body = captured_body("no-manage-woocommerce/settings_tax_403.json")
                self.answer(403, "application/json", body)
            else:  # the WordPress index
                self.answer(200, "application/json", b'{"timezone_string":"Europe/Berlin"}')
        elif kind == "wordpress":  # WordPress without WooCommerce active
            self.answer(
                404,
                "application/json",
                b'{"code":"rest_no_route","message":"No route was found matching the URL and '
                b'request method.","data":{"status":404}}',
            )
        elif kind == "moved":  # a hostile or confused redirect
            self.send_response(301)
            self.send_header("Location", "http://elsewhere.example/<script>alert(1)</script>")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:  # any web site
            self.answer(200, "text/html", b"<!doctype html><title>Welcome</title><p>Hello</p>")

    def answer(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def other_site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotWooCommerce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def https_store():
    with SandboxProcess(orders=5, https=True) as store:
        yield store


@pytest.fixture(scope="module")
def taxed_store():
    """A store whose prices are entered with tax and whose tax is rounded at subtotal."""
    options = ("--prices-include-tax", "--round-tax-at-subtotal")
    with SandboxProcess(orders=5, extra_args=options) as store:
        yield store


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Success


def test_success_shows_the_store_version_currency_and_timezone(
    signed_in_admin, demo_webstore, store
):
    response = press_test(signed_in_admin, demo_webstore)
    assert response.status_code == 200
    page = response.text
    assert "Connected." in page
    assert "<dt>WooCommerce</dt><dd>10.0.2</dd>" in page
    assert "<dt>WordPress</dt><dd>6.8.2</dd>" in page
    assert '<dt>Currency</dt><dd>USD, 2 decimals (thousands ",", decimals ".")</dd>' in page
    assert "<dt>Timezone</dt><dd>America/New_York</dd>" in page
    assert store.base_url in page
    assert "<html" not in page  # a fragment for #connection-result


def test_success_shows_the_tax_settings_as_the_store_reports_them(signed_in_admin, demo_webstore):
    page = press_test(signed_in_admin, demo_webstore).text

    assert "<dt>Taxes</dt><dd>enabled</dd>" in page
    assert "<dt>Prices entered</dt><dd>without tax</dd>" in page
    assert "<dt>Tax rounding</dt><dd>per line</dd>" in page
    assert "<dt>Tax based on</dt><dd>customer billing address</dd>" in page


def test_prices_with_tax_and_rounding_at_subtotal_are_shown(
    signed_in_admin, demo_webstore, taxed_store
):
    page = press_test(signed_in_admin, demo_webstore, base_url=taxed_store.base_url).text

    assert "<dt>Prices entered</dt><dd>with tax</dd>" in page
    assert "<dt>Tax rounding</dt><dd>at subtotal</dd>" in page


def test_a_read_write_key_is_said_to_write(signed_in_admin, demo_webstore, store):
    page = press_test(signed_in_admin, demo_webstore).text

    assert "<dt>API key</dt><dd>read/write</dd>" in page
    assert store.stats()["by_route"]["/wc/v3/orders/batch"] == 1


def test_a_read_only_key_is_said_to_be_no_good_for_write_back(
    signed_in_admin, demo_webstore, store
):
    demo_webstore.consumer_secret = store.read_only_secret
    page = press_test(signed_in_admin, demo_webstore, consumer_key=store.read_only_key).text

    assert "<strong>Connected.</strong>" in page
    assert "<dt>API key</dt><dd>read only (write-back needs a read/write key)</dd>" in page


def test_the_write_probe_changes_nothing_in_the_store(signed_in_admin, demo_webstore, store):
    woo = WooClient(store.base_url, store.consumer_key, store.consumer_secret)
    order, notes = woo.get_order(24), store.notes(24)

    press_test(signed_in_admin, demo_webstore)

    assert woo.get_order(24) == order
    assert store.notes(24) == notes
    assert store.stats()["webhooks"] == {"delivered": 0, "failed": 0}


def test_a_store_that_will_not_say_whether_the_key_writes(
    signed_in_admin, demo_webstore, other_site
):
    page = press_test(signed_in_admin, demo_webstore, base_url=f"{other_site}/guarded").text

    assert "<strong>Connected.</strong>" in page
    assert "<dt>API key</dt><dd>not known (the store did not say whether it may write; " in page


def test_tax_settings_the_key_may_not_read_are_said_so(signed_in_admin, demo_webstore, other_site):
    response = press_test(signed_in_admin, demo_webstore, base_url=f"{other_site}/guarded")

    page = response.text
    assert "<strong>Connected.</strong>" in page
    assert "<dt>Timezone</dt><dd>Europe/Berlin</dd>" in page
    assert (
        "<dt>Tax settings</dt>"
        "<dd>not readable with this key (the store refused them, HTTP 403)</dd>" in page
    )
    assert "<dt>Taxes</dt>" not in page


def test_a_plain_post_shows_the_result_on_the_edit_page(signed_in_admin, demo_webstore):
    response = signed_in_admin.post(url_of(demo_webstore))
    assert response.status_code == 200
    page = response.text
    assert "<h1>Webstore DEMO</h1>" in page
    result = page.split('id="connection-result"', 1)[1].split("</fieldset>", 1)[0]
    assert "Connected." in result and "10.0.2" in result
    assert f'value="{demo_webstore.base_url}"' in page  # the form still holds the saved values


# Each reason for failure, named


def test_a_bad_consumer_key_is_named(signed_in_admin, demo_webstore):
    response = press_test(signed_in_admin, demo_webstore, consumer_key="ck_not_known_here")
    assert response.status_code == 200
    assert "The connection failed." in response.text
    assert "The store does not know this consumer key" in response.text


def test_a_bad_consumer_secret_is_named(signed_in_admin, demo_webstore):
    response = press_test(signed_in_admin, demo_webstore, consumer_secret="cs_wrong_secret_x")
    assert "the consumer secret is wrong" in response.text
    assert "cs_wrong_secret_x" not in response.text


def test_a_wrong_store_url_is_named(signed_in_admin, demo_webstore, store):
    response = press_test(signed_in_admin, demo_webstore, base_url=f"{store.base_url}/shop")
    assert "No WordPress REST API at" in response.text
    assert f"{store.base_url}/shop/wp-json/wc/v3/system_status" in response.text


def test_a_site_that_is_not_a_store_is_named(signed_in_admin, demo_webstore, other_site):
    response = press_test(signed_in_admin, demo_webstore, base_url=f"{other_site}/blog")
    assert "an HTML page instead of WooCommerce" in response.text


def test_wordpress_without_woocommerce_is_named(signed_in_admin, demo_webstore, other_site):
    response = press_test(signed_in_admin, demo_webstore, base_url=f"{other_site}/wordpress")
    assert "WordPress answered but has no such WooCommerce API route" in response.text


def test_a_redirect_is_named_and_the_store_words_are_escaped(
    signed_in_admin, demo_webstore, other_site
):
    response = press_test(signed_in_admin, demo_webstore, base_url=f"{other_site}/moved")
    assert "redirects to http://elsewhere.example/" in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text


def test_an_unverifiable_certificate_is_named(signed_in_admin, demo_webstore, https_store):
    response = press_test(
        signed_in_admin, demo_webstore, base_url=https_store.base_url, verify_tls=True
    )
    assert "could not be verified (self-signed certificate)" in response.text


# A timeout and a refusal read alike (tests/test_served_test_connection.py): Test connection
# tells no open port from a closed one.
NO_ANSWER = "No answer from {}: the connection failed, broke off or timed out."


def test_a_timeout_is_given_up_after_one_attempt(signed_in_admin, demo_webstore, store):
    store.set_faults(timeout_rate=1, hang_seconds=5)
    started = time.monotonic()
    response = press_test(signed_in_admin, demo_webstore, timeout_seconds=1)
    assert time.monotonic() - started < 3
    assert NO_ANSWER.format(store.base_url.split("//")[1]) in response.text
    assert store_requests(store) == 1


def test_a_refused_connection_says_there_was_no_answer(signed_in_admin, demo_webstore, closed_port):
    response = press_test(
        signed_in_admin, demo_webstore, base_url=f"http://127.0.0.1:{closed_port}"
    )
    assert NO_ANSWER.format(f"127.0.0.1:{closed_port}") in response.text


def test_a_server_error_is_shown_after_one_attempt(signed_in_admin, demo_webstore, store):
    store.set_faults(fail_rate=1)
    response = press_test(signed_in_admin, demo_webstore)
    assert "The store failed with HTTP 500" in response.text
    assert "gave up after" not in response.text
    assert store_requests(store) == 1


def test_an_unreadable_stored_secret_is_named(signed_in_admin, demo_webstore, store):
    other_key = Fernet(Fernet.generate_key())
    demo_webstore.consumer_secret_encrypted = other_key.encrypt(b"cs_from_elsewhere")
    response = press_test(signed_in_admin, demo_webstore)
    assert "cannot be decrypted with this WEBSTORE_SECRETS_KEY" in response.text
    assert store_requests(store) == 0


# The settings as typed, before saving


def test_typed_settings_are_tested_without_being_saved(signed_in_admin, demo_webstore):
    saved_key = demo_webstore.consumer_key
    response = signed_in_admin.post(
        url_of(demo_webstore), typed_form(demo_webstore, consumer_key="ck_typed_wrong"), htmx=True
    )
    assert "The store does not know this consumer key" in response.text
    assert "Tested with the settings typed above, which are not saved yet." in response.text
    db.session.expire_all()
    assert demo_webstore.consumer_key == saved_key


def test_a_blank_typed_secret_means_the_stored_one(signed_in_admin, demo_webstore):
    response = signed_in_admin.post(url_of(demo_webstore), typed_form(demo_webstore), htmx=True)
    assert "Connected." in response.text
    assert "The store answered." in response.text  # nothing typed differs from the saved


def test_a_typed_secret_is_used_and_never_echoed(signed_in_admin, demo_webstore, store):
    typed = typed_form(demo_webstore, consumer_secret="cs_typed_secret_123", timeout_seconds="2")
    response = signed_in_admin.post(url_of(demo_webstore), typed, htmx=True)
    assert "the consumer secret is wrong" in response.text
    assert "cs_typed_secret_123" not in response.text
    db.session.expire_all()
    assert demo_webstore.consumer_secret == store.consumer_secret


def test_invalid_typed_settings_are_refused_before_asking_the_store(
    signed_in_admin, demo_webstore, store
):
    typed = typed_form(demo_webstore, base_url="ftp://shop", timeout_seconds="0")
    response = signed_in_admin.post(url_of(demo_webstore), typed, htmx=True)
    assert "Correct the connection settings first." in response.text
    assert "Store URL: The address must start with http:// or https://" in response.text
    assert "Request timeout (seconds):" in response.text
    assert store_requests(store) == 0


# Who may, and how


@pytest.mark.parametrize("someone", ["signed_in_staff", "signed_in_viewer"])
def test_only_admins_may_test_a_connection(request, someone, demo_webstore, store):
    portal = request.getfixturevalue(someone)
    assert portal.post(url_of(demo_webstore), htmx=True).status_code == 403
    assert portal.post(url_of(demo_webstore)).status_code == 403
    assert store_requests(store) == 0


def test_a_post_without_csrf_token_is_refused(signed_in_admin, demo_webstore, store):
    plain = signed_in_admin.client.post(url_of(demo_webstore))
    htmx = signed_in_admin.client.post(url_of(demo_webstore), headers={"HX-Request": "true"})
    assert plain.status_code == htmx.status_code == 400
    assert "Please reload the page" in htmx.text and "<html" not in htmx.text
    assert store_requests(store) == 0


def test_the_secret_never_appears_in_any_answer(signed_in_admin, demo_webstore, store):
    secret = store.consumer_secret
    responses = [
        signed_in_admin.post(url_of(demo_webstore), htmx=True),
        signed_in_admin.post(url_of(demo_webstore)),
        signed_in_admin.post(url_of(demo_webstore), typed_form(demo_webstore), htmx=True),
        press_test(signed_in_admin, demo_webstore, consumer_key="ck_wrong"),
        signed_in_admin.post(url_of(demo_webstore)),
    ]
    assert "Connected." in responses[0].text
    for response in responses:
        assert secret not in response.text


def test_a_store_with_tls_verification_off_is_read_without_warnings(
    signed_in_admin, demo_webstore, https_store
):
    response = press_test(
        signed_in_admin, demo_webstore, base_url=https_store.base_url, verify_tls=False
    )
    # pytest turns warnings into errors here: an InsecureRequestWarning would fail the request.
    assert "could not be verified" not in response.text
    assert "10.0.2" in response.text


def test_a_new_webstore_is_tested_before_its_first_save(signed_in_admin, store):
    from portal.models import Webstore

    typed = {
        "code": "MAIN",
        "name": "Main store",
        "base_url": store.base_url,
        "consumer_key": store.consumer_key,
        "consumer_secret": store.consumer_secret,
        "api_version": "wc/v3",
        "timeout_seconds": "30",
        "verify_tls": "y",
    }

    answer = signed_in_admin.post("/setup/webstores/new/test-connection", typed, htmx=True)

    assert answer.status_code == 200
    assert "<strong>Connected.</strong>" in answer.text
    assert "The settings typed above work; save them to keep them." in answer.text
    assert "<dt>Timezone</dt><dd>America/New_York</dd>" in answer.text
    assert db.session.query(Webstore).count() == 0
    assert store.consumer_secret not in answer.text


def test_a_new_webstore_without_a_secret_is_not_tested(signed_in_admin, store):
    answer = signed_in_admin.post(
        "/setup/webstores/new/test-connection",
        {
            "code": "MAIN",
            "name": "M",
            "base_url": store.base_url,
            "consumer_key": "ck_x",
            "api_version": "wc/v3",
            "timeout_seconds": "30",
        },
        htmx=True,
    )

    assert "Correct the connection settings first." in answer.text
    assert "Enter the consumer secret the store gave you." in answer.text
    assert store_requests(store) == 0


def test_the_new_webstore_page_has_the_test_button(signed_in_admin):
    page = signed_in_admin.get("/setup/webstores/new").text

    assert 'hx-post="/setup/webstores/new/test-connection"' in page

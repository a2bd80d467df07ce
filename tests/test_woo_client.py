"""The WooCommerce client over real HTTP: against the sandbox store, and against a canned
loopback site for the answers a sandbox store would not give (HTML, redirects, a BOM)."""

import ast
import itertools
import json
import socket
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from portal.woo import (
    ORDER_STATUSES,
    OrderQuery,
    WooAuthError,
    WooBadRequest,
    WooClient,
    WooConnectionError,
    WooInvalidResponse,
    WooNotFound,
    WooRateLimited,
    WooReadOnlyKey,
    WooServerError,
    WooTimeout,
    WooTLSError,
)
from sandbox.process import SandboxProcess

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
ORDERS_PATH = "/wp-json/wc/v3/orders"
FAST = {"timeout": 2, "max_retries": 2, "backoff_base": 0.01, "backoff_max": 0.05}


def test_the_client_imports_nothing_of_flask_or_the_database():
    package = Path(__file__).parents[1] / "portal" / "woo"
    imported = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert not imported & {"flask", "flask_sqlalchemy", "sqlalchemy", "portal", "redis", "rq"}


# A canned site: real HTTP on loopback, one answer per path (and page).


class CannedSite:
    def __init__(self):
        self.answers = {}
        self.requests = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                url = urlsplit(self.path)
                query = parse_qsl(url.query, keep_blank_values=True)
                site.requests.append((url.path, query))
                keys = [(url.path, dict(query).get("page")), (url.path, None), ("*", None)]
                status, headers, body = next(site.answers[k] for k in keys if k in site.answers)
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status, body, path="*", page=None, **headers):
        """Answer GET ``path`` (and ``page=``, if given) so; headers as keywords, _ for -."""
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json; charset=UTF-8")
        headers = {name.replace("_", "-"): value for name, value in headers.items()}
        self.answers[path, page] = (status, headers, body)

    def client(self, **options):
        return WooClient(self.base_url, "ck_test", "cs_test", **{**FAST, **options})


@pytest.fixture(scope="module")
def canned_site():
    site = CannedSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()


@pytest.fixture
def site(canned_site):
    canned_site.answers.clear()
    canned_site.requests.clear()
    return canned_site


def ids(orders):
    return [order["id"] if isinstance(order, dict) else order.id for order in orders]


def captured(name):
    capture = json.loads((CAPTURES / name).read_text(encoding="utf-8"))
    return capture["status"], capture["body"]


def test_oauth_parameters_are_sent_once_in_the_query_beside_comma_lists(site):
    site.answer(200, [], X_WP_Total="0", X_WP_TotalPages="0")

    list(site.client().iter_orders(OrderQuery(status=("processing", "completed"))))

    ((path, query),) = site.requests
    names = [name for name, _ in query]
    assert path == "/wp-json/wc/v3/orders"
    assert len(names) == len(set(names))
    assert dict(query)["status"] == "processing,completed"
    assert {"oauth_consumer_key", "oauth_nonce", "oauth_signature"} <= set(names)
    assert dict(query)["oauth_signature_method"] == "HMAC-SHA256"


def test_paging_without_a_page_count_stops_on_an_empty_page(site):
    # A proxy that drops X-WP-TotalPages must not make the listing endless, nor short.
    orders = captured("orders_per_page5_page1.json")[1]
    site.answer(200, orders[:2], path=ORDERS_PATH, page="1")
    site.answer(200, orders[2:4], path=ORDERS_PATH, page="2")
    site.answer(200, [], path=ORDERS_PATH, page="3")

    listed = site.client().iter_orders(per_page=2)

    assert ids(listed) == ids(orders[:4])
    assert listed.total is None
    assert [dict(query)["page"] for _, query in site.requests] == ["1", "2", "3"]


def test_a_malformed_order_fails_alone(site):
    orders = captured("orders_per_page5_page1.json")[1]
    orders[1]["total"] = "abc"
    site.answer(200, orders, path=ORDERS_PATH, X_WP_Total="5", X_WP_TotalPages="1")

    (page,) = site.client().iter_order_pages()

    assert ids(page) == [o["id"] for o in orders if o is not orders[1]]
    assert [str(e) for e in page.invalid] == [
        f"order {orders[1]['id']}: total is not a number: 'abc'"
    ]


def test_an_html_page_is_an_invalid_response(site):
    site.answer(200, b"<!DOCTYPE html><html><body>Checking your browser</body></html>")

    with pytest.raises(WooInvalidResponse, match="HTML page"):
        site.client().get_customer(2)
    assert len(site.requests) == 1


def test_a_json_body_cut_short_is_an_invalid_response(site):
    site.answer(200, json.dumps(captured("customer.json")[1]).encode()[:300])

    with pytest.raises(WooInvalidResponse, match="cut short after 300 bytes"):
        site.client().get_customer(2)


def test_a_byte_order_mark_before_valid_json_is_tolerated(site):
    status, body = captured("customer.json")
    site.answer(status, b"\xef\xbb\xbf" + json.dumps(body).encode())

    assert site.client().get_customer(2)["id"] == 2


def test_a_redirect_is_reported_not_followed(site):
    site.answer(301, b"", Location="https://shop.example/wp-json/wc/v3/customers/2?x=1")

    with pytest.raises(WooInvalidResponse, match="redirects to https://shop.example/wp-json"):
        site.client().get_customer(2)
    assert len(site.requests) == 1


def test_no_wordpress_at_the_address(site):
    site.answer(404, b"<html><h1>Not Found</h1></html>")

    with pytest.raises(WooNotFound, match="No WordPress REST API at"):
        site.client().test_connection()


def test_wordpress_without_woocommerce(site):
    site.answer(
        404,
        {
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404},
        },
    )

    with pytest.raises(WooNotFound, match="check that WooCommerce is active"):
        site.client().test_connection()


def test_a_site_that_is_not_a_store_answers_something_else(site):
    site.answer(200, {"hello": "world"})

    with pytest.raises(WooInvalidResponse, match="did not answer with WooCommerce's system status"):
        site.client().test_connection()


def test_a_firewall_page_refusing_access(site):
    site.answer(403, b"<html>Access denied by the web application firewall</html>")

    with pytest.raises(WooAuthError, match="a firewall may block this server"):
        site.client().get_customer(2)


def test_credentials_the_store_did_not_see(site):
    site.answer(*captured("auth_none_401.json"))

    with pytest.raises(WooAuthError, match="did not see the credentials") as caught:
        site.client().get_customer(2)
    assert caught.value.store_message == "Sorry, you cannot list resources."
    assert caught.value.code == "woocommerce_rest_cannot_view"


def test_maintenance_mode_is_retried_honouring_retry_after(site):
    site.answer(503, b"<h1>Briefly unavailable for scheduled maintenance.</h1>", Retry_After="600")

    with pytest.raises(WooRateLimited, match="briefly unavailable") as caught:
        site.client().get_customer(2)

    assert caught.value.retry_after == 600
    assert caught.value.attempts == 3
    nonces = {dict(query)["oauth_nonce"] for _, query in site.requests}
    assert len(nonces) == 3  # each attempt signed afresh: a store refuses a replayed nonce


def test_a_server_error_with_a_php_fatal_page(site):
    site.answer(500, b"<b>Fatal error</b>: Allowed memory size exhausted")

    with pytest.raises(WooServerError, match="HTTP 500") as caught:
        site.client(max_retries=0).get_customer(2)
    assert str(caught.value).endswith("says why.")


def test_the_site_timezone_comes_from_the_wordpress_index(site):
    site.answer(200, captured("system_status_environment.json")[1])
    site.answer(200, {"timezone_string": "", "gmt_offset": -5}, path="/wp-json/")

    status = site.client().test_connection()

    assert (status.wc_version, status.wp_version) == ("10.0.2", "6.8.2")
    assert status.timezone == "UTC-5"
    assert status.currency is None  # the capture holds no settings section


SETTINGS_PATHS = {
    "calc_taxes": "/wp-json/wc/v3/settings/general/woocommerce_calc_taxes",
    "tax": "/wp-json/wc/v3/settings/tax",
}


def a_store_refusing(site, status, body):
    """A store whose system status and index answer, and whose settings answer ``status``."""
    site.answer(200, captured("system_status_environment.json")[1])
    site.answer(200, {"timezone_string": "Europe/Berlin", "gmt_offset": 1}, path="/wp-json/")
    for path in SETTINGS_PATHS.values():
        site.answer(status, body, path=path)


def test_the_tax_settings_are_asked_in_two_requests_of_ids_and_values(site):
    site.answer(200, captured("system_status_environment.json")[1])
    site.answer(
        200,
        captured("setting_general_calc_taxes_fields.json")[1],
        path=SETTINGS_PATHS["calc_taxes"],
    )
    site.answer(200, captured("settings_tax_fields.json")[1], path=SETTINGS_PATHS["tax"])

    status = site.client().test_connection()

    asked = [(path, dict(query).get("_fields")) for path, query in site.requests]
    assert asked == [
        ("/wp-json/wc/v3/system_status", "environment,settings"),
        ("/wp-json/", "timezone_string,gmt_offset"),
        (SETTINGS_PATHS["calc_taxes"], "id,value"),
        (SETTINGS_PATHS["tax"], "id,value"),
    ]
    # The captured store: taxes on, prices without tax, rounded per line, by billing address.
    assert status.taxes_enabled is True
    assert status.prices_include_tax is False
    assert status.tax_round_at_subtotal is False
    assert status.tax_based_on == "billing"
    assert status.tax_settings_missing is None


def test_tax_settings_refused_to_the_key_do_not_fail_the_connection_test(site):
    a_store_refusing(site, *captured("no-manage-woocommerce/settings_tax_403.json"))

    status = site.client().test_connection()

    assert (status.wc_version, status.timezone) == ("10.0.2", "Europe/Berlin")
    taxes = (status.taxes_enabled, status.prices_include_tax, status.tax_round_at_subtotal)
    assert taxes == (None, None, None)
    assert status.tax_based_on is None
    assert status.tax_settings_missing == (
        "not readable with this key (the store refused them, HTTP 403)"
    )
    assert len(site.requests) == 4  # refused once each, never retried


def test_tax_settings_a_store_does_not_have_do_not_fail_the_connection_test(site):
    a_store_refusing(
        site,
        404,
        {
            "code": "rest_no_route",
            "message": "No route was found matching the URL and request method.",
            "data": {"status": 404},
        },
    )

    status = site.client().test_connection()

    assert status.taxes_enabled is None and status.tax_based_on is None
    assert status.tax_settings_missing == "not offered by this store's REST API (HTTP 404)"


def test_tax_settings_readable_in_part_keep_what_was_read(site):
    a_store_refusing(site, *captured("no-manage-woocommerce/settings_tax_403.json"))
    site.answer(
        200,
        captured("setting_general_calc_taxes_fields.json")[1],
        path=SETTINGS_PATHS["calc_taxes"],
    )

    status = site.client().test_connection()

    assert status.taxes_enabled is True
    assert status.prices_include_tax is None
    assert status.tax_settings_missing.startswith("not readable with this key")


def test_a_key_whose_user_may_not_manage_woocommerce_fails_at_the_system_status(site):
    # Real WooCommerce asks the same right (manage_woocommerce) for both: such a key never
    # gets as far as the tax settings.
    site.answer(*captured("no-manage-woocommerce/system_status_403.json"))

    with pytest.raises(WooAuthError, match="user may manage WooCommerce"):
        site.client().test_connection()
    assert len(site.requests) == 1


def test_a_refused_connection_is_named(unused_port):
    client = WooClient(f"http://127.0.0.1:{unused_port}", "ck", "cs", **FAST)

    with pytest.raises(WooConnectionError, match="it was refused") as caught:
        client.system_status()
    assert caught.value.attempts == 3


def test_test_connection_gives_no_reason_after_one_attempt(unused_port):
    client = WooClient(f"http://127.0.0.1:{unused_port}", "ck", "cs", **FAST)

    # Refused, reset or timed out read alike: the test tells no closed port from an open one.
    with pytest.raises(WooConnectionError, match="^No answer from 127.0.0.1:") as caught:
        client.test_connection()
    assert caught.value.attempts == 1  # a person is waiting: no retries


def test_an_unknown_host():
    client = WooClient("http://no-such-store.invalid", "ck", "cs", **FAST)

    with pytest.raises(WooConnectionError, match="host name is unknown"):
        client.test_connection()


@pytest.fixture
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# The sandbox store: a stand-in WooCommerce store in its own process.

ORDERS = 60


@pytest.fixture(scope="module")
def https_sandbox():
    store = SandboxProcess(seed=1, orders=ORDERS, https=True).start()
    yield store
    store.stop()


@pytest.fixture
def store(sandbox_store):
    """The session's http sandbox of ORDERS orders, reset before and after a test: whatever
    it changes (faults, orders) is undone."""
    sandbox_store.reset()
    yield sandbox_store
    sandbox_store.reset()


@pytest.fixture
def woo(store):
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret, **FAST) as client:
        yield client


@pytest.fixture(scope="module")
def all_orders(sandbox_store):
    """Every order of the sandbox as generated, read once for the filter tests to check by."""
    sandbox_store.reset()  # from what the session's tests before these left
    store = sandbox_store
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        return list(client.iter_orders())


def requests_made(store):
    return store.stats()["requests"]


def test_oauth_signed_requests_over_plain_http(woo):
    assert woo.count_orders() == ORDERS


def test_basic_auth_over_https(https_sandbox):
    store = https_sandbox
    with WooClient(
        store.base_url, store.consumer_key, store.consumer_secret, verify_tls=store.cert_path
    ) as client:
        sent = []
        client.session.hooks["response"].append(lambda response, **_: sent.append(response))

        assert client.count_orders() == ORDERS

    assert sent[0].request.headers["Authorization"].startswith("Basic ")
    assert "oauth_signature" not in sent[0].request.url


def test_keys_in_the_query_string_over_https(https_sandbox):
    store = https_sandbox
    with WooClient(
        store.base_url,
        store.consumer_key,
        store.consumer_secret,
        verify_tls=store.cert_path,
        query_string_auth=True,
    ) as client:
        assert client.count_orders() == ORDERS


def test_an_untrusted_certificate_is_a_tls_error_and_not_retried(https_sandbox):
    store = https_sandbox
    client = WooClient(store.base_url, store.consumer_key, store.consumer_secret, **FAST)

    with pytest.raises(WooTLSError, match="could not be verified") as caught:
        client.count_orders()
    assert caught.value.attempts == 1


def test_an_unknown_consumer_key(store):
    client = WooClient(store.base_url, "ck_" + "0" * 40, store.consumer_secret, **FAST)

    with pytest.raises(WooAuthError, match="does not know this consumer key") as caught:
        client.test_connection()
    assert caught.value.status == 401
    assert caught.value.store_message == "Consumer key is invalid."


def test_a_wrong_secret_breaks_the_oauth_signature(store):
    client = WooClient(store.base_url, store.consumer_key, "cs_" + "0" * 40, **FAST)

    with pytest.raises(WooAuthError, match="the consumer secret is wrong"):
        client.test_connection()


def test_a_wrong_secret_over_basic_auth(https_sandbox):
    store = https_sandbox
    client = WooClient(
        store.base_url, store.consumer_key, "cs_wrong", verify_tls=store.cert_path, **FAST
    )

    with pytest.raises(WooAuthError, match="refused the consumer secret"):
        client.test_connection()


def test_connection_tells_who_the_store_is(woo):
    status = woo.test_connection()

    assert status.wc_version.startswith("10.")
    assert status.currency == "USD"
    assert status.timezone == "America/New_York"
    assert status.site_url == woo.base_url


def test_connection_reads_the_tax_settings_of_the_sandbox(woo):
    status = woo.test_connection()

    assert status.taxes_enabled is True
    assert status.prices_include_tax is False
    assert status.tax_round_at_subtotal is False
    assert status.tax_based_on == "billing"
    assert status.tax_settings_missing is None


def test_the_tax_settings_follow_the_sandbox_options():
    options = ("--round-tax-at-subtotal", "--prices-include-tax")
    with SandboxProcess(orders=5, extra_args=options) as taxed:
        client = WooClient(taxed.base_url, taxed.consumer_key, taxed.consumer_secret, **FAST)
        with client:
            status = client.test_connection()

    assert status.prices_include_tax is True
    assert status.tax_round_at_subtotal is True
    assert status.taxes_enabled is True


def test_system_status(woo):
    assert woo.system_status().wp_version


def test_paging_to_the_end_by_id(woo, store):
    before = requests_made(store)

    pages = list(woo.iter_order_pages(per_page=7))

    assert [page.page for page in pages] == list(range(1, 10))
    assert {(page.total, page.total_pages) for page in pages} == {(ORDERS, 9)}
    listed = [order.id for page in pages for order in page]
    assert listed == sorted(set(listed))
    assert len(listed) == ORDERS
    assert requests_made(store) - before == 9  # no page past the last


def test_one_page_by_number_for_concurrent_readers(woo, all_orders):
    page = woo.order_page(OrderQuery(), 3, per_page=7)

    assert (page.page, page.total, page.total_pages) == (3, ORDERS, 9)
    assert ids(page) == ids(all_orders[14:21])


def test_the_total_is_known_after_the_first_page(woo):
    orders = woo.iter_orders(per_page=25)
    assert orders.total is None

    first = next(orders)

    assert orders.total == ORDERS
    assert len([first, *orders]) == ORDERS
    assert orders.invalid == []


def test_an_empty_listing(woo):
    orders = woo.iter_orders(OrderQuery(include=(999999,)))

    assert list(orders) == []
    assert orders.total == 0


def test_status_filter(woo, all_orders):
    wanted = ("processing", "completed")

    listed = list(woo.iter_orders(OrderQuery(status=wanted), per_page=10))

    assert ids(listed) == [o.id for o in all_orders if o.status in wanted]
    assert woo.count_orders(OrderQuery(status=wanted)) == len(listed)


def test_created_after_filter(woo, all_orders):
    middle = sorted(o.date_created for o in all_orders)[ORDERS // 2]
    # The same moment in another zone selects the same orders: it is sent in UTC.
    after = middle.astimezone(timezone(timedelta(hours=-5)))

    listed = list(woo.iter_orders(OrderQuery(after=after), per_page=10))

    assert ids(listed) == [o.id for o in all_orders if o.date_created > middle]


def test_dates_are_sent_as_utc_and_said_to_be(woo, store, all_orders):
    # Read as the store's local time (New York), the moment would be 5 hours later and
    # silently miss the order (capture orders_modified_after_utc_no_flag).
    changed = store.modify_order(all_orders[0].id, customer_note="changed")
    changed_at = datetime.fromisoformat(changed["date_modified_gmt"]).replace(tzinfo=UTC)
    since = changed_at - timedelta(seconds=1)

    assert ids(woo.iter_orders(OrderQuery(modified_after=since))) == [all_orders[0].id]
    created = OrderQuery(after=all_orders[-1].date_created - timedelta(seconds=1))
    assert ids(woo.iter_orders(created)) == [all_orders[-1].id]


def test_a_start_day_is_a_day_of_the_stores_calendar(woo, store, all_orders):
    # The store's admin and customers see the local date_created; so does the filter,
    # whatever the store's timezone, with or without a modified time beside it.
    # An order of the local evening, the next day in UTC: the day after it excludes it.
    evening = next(o for o in all_orders if o.date_created.date() > o.order_date)
    day = evening.order_date + timedelta(days=1)
    expected = [o.id for o in all_orders if o.order_date >= day]
    assert evening.id not in expected
    since = min(o.date_modified for o in all_orders) - timedelta(seconds=1)

    assert ids(woo.iter_orders(OrderQuery(created_from=day))) == expected
    assert woo.count_orders(OrderQuery(created_from=day)) == len(expected)
    both = OrderQuery(created_from=day, modified_after=since)
    assert sorted(ids(woo.iter_orders(both))) == expected


def test_modified_after_lists_by_modification_time(woo, store, all_orders):
    middle = sorted(o.date_modified for o in all_orders)[ORDERS // 2]
    oldest = all_orders[0]
    store.modify_order(oldest.id, customer_note="changed")

    listed = list(woo.iter_orders(OrderQuery(modified_after=middle), per_page=10))

    expected = {o.id for o in all_orders if o.date_modified > middle} | {oldest.id}
    assert set(ids(listed)) == expected
    assert [o.date_modified for o in listed] == sorted(o.date_modified for o in listed)
    assert listed[-1].id == oldest.id
    assert listed[-1].customer_note == "changed"


def test_include_filter(woo, all_orders):
    wanted = tuple(o.id for o in all_orders[::10])

    assert ids(woo.iter_orders(OrderQuery(include=wanted))) == sorted(wanted)


def test_filters_combine(woo, all_orders):
    query = OrderQuery(status=("completed",), include=tuple(ids(all_orders[:30])))

    listed = list(woo.iter_orders(query))

    assert ids(listed) == [o.id for o in all_orders[:30] if o.status == "completed"]


def test_a_light_listing_yields_references(woo, store, all_orders):
    before = store.stats()["orders_rendered"]["full"]

    refs = list(woo.iter_orders(fields=(), per_page=100))

    assert [(r.id, r.status, r.date_modified) for r in refs] == [
        (o.id, o.status, o.date_modified) for o in all_orders
    ]
    assert store.stats()["orders_rendered"]["full"] == before


def test_get_orders_fetches_many_in_one_request(woo, store, all_orders):
    wanted = [o.id for o in all_orders[5:45]]
    before = requests_made(store)

    page = woo.get_orders([*reversed(wanted), 999999])

    assert requests_made(store) - before == 1
    assert ids(page) == wanted  # the store leaves out what it does not have
    assert list(page) == all_orders[5:45]


def test_get_orders_of_nothing_asks_nothing(woo, store):
    before = requests_made(store)

    assert list(woo.get_orders([])) == []
    assert requests_made(store) == before


def test_get_order(woo, all_orders):
    assert woo.get_order(all_orders[3].id) == all_orders[3]


def test_an_unknown_order_is_not_found(woo):
    with pytest.raises(WooNotFound, match="Invalid ID") as caught:
        woo.get_order(999999)
    assert caught.value.code == "woocommerce_rest_shop_order_invalid_id"


def test_a_bad_parameter_names_the_parameter(woo):
    with pytest.raises(WooBadRequest) as caught:
        list(woo.iter_orders(OrderQuery(status=("shipped",))))

    assert list(caught.value.params) == ["status"]
    assert "is not one of" in str(caught.value)


def test_products_variations_and_customers(woo, all_orders):
    line = next(li for o in all_orders for li in o.line_items if li.variation_id)
    customer_id = next(o.customer_id for o in all_orders if not o.is_guest)

    assert woo.get_product(line.product_id)["id"] == line.product_id
    variation = woo.get_variation(line.product_id, line.variation_id)
    assert (variation["id"], variation["sku"]) == (line.variation_id, line.sku)
    assert woo.get_customer(customer_id)["id"] == customer_id


def test_order_status_totals(woo, all_orders):
    totals = woo.order_status_totals()

    assert tuple(t.slug for t in totals) == ORDER_STATUSES
    assert {t.slug: t.total for t in totals} == {
        slug: sum(o.status == slug for o in all_orders) for slug in ORDER_STATUSES
    }


# Retries


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("rate_limit_rate", WooRateLimited, "The store is limiting requests"),
        ("fail_rate", WooServerError, "There has been a critical error on this website."),
    ],
)
def test_giving_up_after_the_retries(woo, store, fault, error, message):
    store.set_faults(**{fault: 1})
    before = requests_made(store)

    with pytest.raises(error) as caught:
        woo.count_orders()

    assert message in str(caught.value)
    assert "<" not in str(caught.value)  # WordPress's HTML in the message is stripped
    assert caught.value.attempts == 3
    assert "gave up after 3 attempts" in str(caught.value)
    assert requests_made(store) - before == 3


def test_retry_after_is_honoured_up_to_the_cap(store):
    store.set_faults(rate_limit_rate=1, retry_after=30)
    client = WooClient(
        store.base_url, store.consumer_key, store.consumer_secret, max_retries=2, backoff_max=0.2
    )
    started = time.monotonic()

    with pytest.raises(WooRateLimited) as caught:
        client.count_orders()

    # Jitter alone could wait nothing; Retry-After, capped, waits backoff_max each time.
    assert 0.4 <= time.monotonic() - started < 2
    assert caught.value.retry_after == 30


def test_timeouts_are_retried_then_given_up(store):
    store.set_faults(timeout_rate=1, hang_seconds=2)
    client = WooClient(store.base_url, store.consumer_key, store.consumer_secret, **FAST)
    client.timeout = 0.2

    with pytest.raises(WooTimeout, match="did not answer within 0.2 s") as caught:
        client.count_orders()
    assert caught.value.attempts == 3


def test_a_truncated_answer_is_retried(woo, store, all_orders):
    store.set_faults(truncate_rate=1)

    with pytest.raises(WooConnectionError, match="broke off") as caught:
        woo.get_order(all_orders[0].id)
    assert caught.value.attempts == 3


def test_a_firewall_page_is_not_retried(woo, store):
    store.set_faults(html_error_rate=1)
    before = requests_made(store)

    with pytest.raises(WooInvalidResponse, match="HTML page"):
        woo.count_orders()
    assert requests_made(store) - before == 1


def test_a_listing_survives_intermittent_faults(store, all_orders):
    store.set_faults(fail_rate=0.2, rate_limit_rate=0.1, truncate_rate=0.1, retry_after=0)
    client = WooClient(
        store.base_url,
        store.consumer_key,
        store.consumer_secret,
        max_retries=12,
        backoff_base=0.001,
        backoff_max=0.01,
    )

    listed = list(client.iter_orders(per_page=5))

    assert listed == all_orders
    faults = store.stats()["faults"]
    # Drawn from the store's seeded generator, reset before the test.
    assert {name: n for name, n in faults.items() if n} == {"error": 3, "rate_limit": 5}


def test_memory_stays_flat_while_paging(store):
    store.create_orders(15 * 40 - ORDERS)
    client = WooClient(store.base_url, store.consumer_key, store.consumer_secret)

    def peak_memory(pages):
        tracemalloc.start()
        try:
            for _ in itertools.islice(client.iter_order_pages(per_page=40), pages):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak_memory(1)  # warm up: connections, caches
    one_page = peak_memory(1)
    fifteen_pages = peak_memory(None)

    # A page's JSON, parsed, outweighs its orders: holding all fifteen would be over 4 times
    # the peak of one; holding one at a time is well under twice.
    assert fifteen_pages < 2 * one_page


# Writing back


@pytest.fixture
def read_only_woo(store):
    key, secret = store.read_only_key, store.read_only_secret
    with WooClient(store.base_url, key, secret, **FAST, webstore="SHOP") as client:
        yield client


def test_update_order_status_answers_the_order_as_the_store_now_has_it(woo, store):
    made = store.create_order(status="processing")
    store.modify_order(made["id"], date_modified="2026-01-02T03:04:05Z")

    order = woo.update_order_status(made["id"], "completed")

    assert order.id == made["id"]
    assert order.status == "completed"
    assert order.date_modified > datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert woo.get_order(made["id"]) == order


def test_a_status_the_store_does_not_have_is_a_bad_request_naming_it(woo, store):
    made = store.create_order(status="processing")

    with pytest.raises(WooBadRequest) as refused:
        woo.update_order_status(made["id"], "shipped")

    assert str(refused.value) == (
        f"The store refused the order status 'shipped' for order {made['id']}: status is not "
        "one of auto-draft, pending, processing, on-hold, completed, cancelled, refunded, "
        "failed, and checkout-draft. Choose a status the store has in the webstore's setup."
    )
    assert refused.value.params == {
        "status": "status is not one of auto-draft, pending, processing, on-hold, completed, "
        "cancelled, refunded, failed, and checkout-draft."
    }


@pytest.mark.parametrize(
    "write",
    [
        lambda woo: woo.update_order_status(999999, "completed"),  # a 400 from the store
        lambda woo: woo.add_order_note(999999, "SO-1 posted", customer_note=False),  # a 404
        lambda woo: woo.list_order_notes(999999),
    ],
    ids=["status", "note", "notes"],
)
def test_an_order_the_store_does_not_have_is_not_found(woo, write):
    with pytest.raises(WooNotFound) as missing:
        write(woo)

    assert str(missing.value) == (
        "The store has no order 999999: it may have been deleted in the store."
    )


def test_notes_are_added_customer_or_private_and_listed_newest_first(woo, store):
    made = store.create_order(status="processing", date_created="2026-01-02T03:04:05Z")

    shipped = woo.add_order_note(made["id"], "SO-1 shipped: DHL 0034", customer_note=True)
    private = woo.add_order_note(made["id"], "SO-1 posted", customer_note=False)

    assert (shipped["note"], shipped["customer_note"]) == ("SO-1 shipped: DHL 0034", True)
    assert (private["note"], private["customer_note"]) == ("SO-1 posted", False)
    assert set(shipped) >= {"id", "author", "date_created", "date_created_gmt"}
    notes = woo.list_order_notes(made["id"])
    assert [n["id"] for n in notes[:2]] == [shipped["id"], private["id"]]
    assert notes == store.notes(made["id"])


@pytest.mark.parametrize(
    "write",
    [
        lambda woo, order_id: woo.update_order_status(order_id, "completed"),
        lambda woo, order_id: woo.add_order_note(order_id, "SO-1 posted", customer_note=True),
    ],
    ids=["status", "note"],
)
def test_a_read_only_key_is_told_where_to_enter_a_read_write_one(read_only_woo, store, write):
    made = store.create_order(status="processing")
    notes = store.notes(made["id"])

    with pytest.raises(WooReadOnlyKey) as refused:
        write(read_only_woo, made["id"])

    assert str(refused.value) == (
        "The store's API key can only read: create a Read/Write key in WooCommerce > Settings > "
        "Advanced > REST API and enter it in Setup > Webstores > SHOP. (The store said: The "
        "API key provided does not have write permissions.)"
    )
    assert isinstance(refused.value, WooAuthError)
    assert refused.value.status == 401
    assert store.notes(made["id"]) == notes


@pytest.mark.parametrize(
    "write",
    [
        lambda woo, order_id: woo.update_order_status(order_id, "completed"),
        lambda woo, order_id: woo.add_order_note(order_id, "SO-1 posted", customer_note=True),
    ],
    ids=["status", "note"],
)
def test_a_write_is_sent_once_when_the_store_fails(woo, store, write):
    made = store.create_order(status="processing")
    store.set_faults(write_fail_rate=1)
    before = requests_made(store)

    with pytest.raises(WooServerError) as failed:
        write(woo, made["id"])

    assert requests_made(store) - before == 1
    assert failed.value.attempts == 1


def test_a_note_whose_answer_was_lost_is_not_sent_again(woo, store):
    made = store.create_order(status="processing")
    store.set_faults(write_lost_rate=1)

    with pytest.raises(WooServerError):
        woo.add_order_note(made["id"], "SO-1 posted", customer_note=True)
    store.set_faults(write_lost_rate=0)

    notes = [n["note"] for n in woo.list_order_notes(made["id"])]
    assert notes.count("SO-1 posted") == 1


def test_reading_notes_is_retried(woo, store):
    made = store.create_order(status="processing")
    store.set_faults(rate_limit_rate=1, retry_after=0)

    with pytest.raises(WooRateLimited) as caught:
        woo.list_order_notes(made["id"])

    assert caught.value.attempts == 3


def test_can_write_tells_a_read_write_key_from_a_read_only_one(woo, read_only_woo, store):
    before = store.stats()["orders_rendered"]

    assert (woo.can_write(), read_only_woo.can_write()) == (True, False)
    assert store.stats()["orders_rendered"] == before


def test_can_write_is_unknown_where_the_store_does_not_say(site):
    # The canned site takes no POST: a web server's own 501 page, not WooCommerce's answer.
    assert site.client().can_write() is None


def test_connection_tells_whether_the_key_may_write(woo, read_only_woo):
    assert woo.test_connection().can_write is True
    assert read_only_woo.test_connection().can_write is False

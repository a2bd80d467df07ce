"""What a store offers to map (payment gateways, shipping methods, tax rates), read by the
client over real HTTP: from the real store's captured answers served on loopback, and from
the sandbox store. And what an order's lines say of them (a shipping line's instance, a tax
line's rate)."""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from portal.woo import WooClient, WooInvalidResponse, WooNotFound, parse_order
from portal.woo.store_lists import PaymentGateway, ShippingMethodOption, TaxRateOption
from tests.test_woo_client import canned_site as canned_site

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures" / "accounting"
API = "/wp-json/wc/v3"
REST_OF_WORLD = "Locations not covered by your other zones"


def capture(name: str) -> dict:
    return json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture
def kit_store(canned_site):
    """The real store's captured answers, each at its path, with its paging headers."""
    canned_site.answers.clear()
    canned_site.requests.clear()
    for name in (
        "payment_gateways",
        "shipping_methods",
        "shipping_zones",
        "shipping_zone_0_methods",
        "shipping_zone_1_methods",
        "taxes_by_id",
    ):
        captured = capture(name)
        paging = {k.replace("-", "_"): v for k, v in captured["headers"] if k.startswith("X-WP-")}
        path = captured["request"]["path"]
        canned_site.answer(captured["status"], captured["body"], path, **paging)
    return canned_site


# The real store's lists


def test_every_payment_gateway_is_read_with_its_title_and_whether_it_is_offered(kit_store):
    assert kit_store.client().payment_gateways() == [
        PaymentGateway("bacs", "Direct bank transfer", enabled=True),
        PaymentGateway("cheque", "Check payments", enabled=False),
        PaymentGateway("cod", "Cash on delivery", enabled=True),
    ]


def test_shipping_methods_are_each_zones_instances_then_the_method_types(kit_store):
    methods = kit_store.client().shipping_methods()

    assert methods == [
        ShippingMethodOption("flat_rate", "3", "International flat rate", REST_OF_WORLD, True),
        ShippingMethodOption("flat_rate", "1", "Flat rate", "United States", True),
        ShippingMethodOption("free_shipping", "2", "Free shipping", "United States", True),
        ShippingMethodOption("flat_rate", "", "Flat rate", "", True),
        ShippingMethodOption("free_shipping", "", "Free shipping", "", True),
        ShippingMethodOption("local_pickup", "", "Local pickup", "", False),
        ShippingMethodOption("pickup_location", "", "Local pickup", "", False),
    ]
    asked = [path for path, _ in kit_store.requests]
    assert asked == [
        f"{API}/shipping/zones",
        f"{API}/shipping/zones/0/methods",
        f"{API}/shipping/zones/1/methods",
        f"{API}/shipping_methods",
    ]


def test_zone_0_is_asked_for_even_where_the_zone_list_leaves_it_out(kit_store):
    zones = capture("shipping_zones")["body"]
    kit_store.answer(200, [z for z in zones if z["id"] != 0], f"{API}/shipping/zones")

    methods = kit_store.client().shipping_methods()

    assert [(m.instance_id, m.zone) for m in methods if m.instance_id] == [
        ("1", "United States"),
        ("2", "United States"),
        ("3", REST_OF_WORLD),
    ]


def test_tax_rates_are_read_with_their_priority_compound_and_class(kit_store):
    rates = kit_store.client().tax_rates()

    assert [(r.id, r.country, r.name, r.rate) for r in rates] == [
        (1, "US", "US Tax", Decimal("10")),
        (2, "DE", "MwSt", Decimal("19")),
        (3, "GB", "VAT", Decimal("20")),
        (4, "NL", "BTW", Decimal("21")),
        (5, "CA", "GST", Decimal("5")),
        (6, "CA", "PST", Decimal("7")),
        (7, "DE", "MwSt. ermäßigt", Decimal("7")),
    ]
    assert rates[5] == TaxRateOption(
        id=6,
        country="CA",
        state="",
        rate=Decimal("7.0000"),
        name="PST",
        priority=2,
        compound=True,
        shipping=True,
        tax_class="standard",
    )
    assert rates[6].tax_class == "reduced-rate"
    ((path, query),) = kit_store.requests
    assert path == f"{API}/taxes"
    assert {k: v for k, v in query if not k.startswith("oauth_")} == {
        "orderby": "id",
        "order": "asc",
        "per_page": "100",
        "page": "1",
    }


def test_tax_rates_are_read_from_every_page(kit_store):
    rates = capture("taxes_by_id")["body"]
    many = [{**rates[i % 7], "id": i + 1} for i in range(150)]
    kit_store.answer(200, many[:100], f"{API}/taxes", "1", X_WP_Total="150", X_WP_TotalPages="2")
    kit_store.answer(200, many[100:], f"{API}/taxes", "2", X_WP_Total="150", X_WP_TotalPages="2")

    ids = [rate.id for rate in kit_store.client().tax_rates()]

    assert ids == list(range(1, 151))


def test_a_list_not_as_woocommerce_lists_it_names_the_entry_and_field(kit_store):
    gateways = capture("payment_gateways")["body"]
    gateways[1]["enabled"] = "no"
    kit_store.answer(200, gateways, f"{API}/payment_gateways")

    with pytest.raises(WooInvalidResponse) as raised:
        kit_store.client().payment_gateways()

    assert "entry 1: enabled is 'no', not true or false" in str(raised.value)
    assert "check that the store URL points at a WooCommerce store" in str(raised.value)


def test_an_html_page_instead_of_the_tax_rates_is_said_so(kit_store):
    kit_store.answer(200, b"<html>Maintenance</html>", f"{API}/taxes", Content_Type="text/html")

    with pytest.raises(WooInvalidResponse, match="an HTML page instead of WooCommerce's JSON"):
        kit_store.client().tax_rates()


def test_a_store_without_the_route_raises_not_found(kit_store):
    kit_store.answer(
        404,
        {"code": "rest_no_route", "message": "No route was found matching the URL."},
        f"{API}/payment_gateways",
    )

    with pytest.raises(WooNotFound, match="no such WooCommerce API route"):
        kit_store.client().payment_gateways()


# What orders say of them


def test_a_shipping_line_carries_its_zone_instance():
    order = parse_order(capture("order_59_eur_shipping_tax")["body"])

    (line,) = order.shipping_lines
    assert (line.method_id, line.instance_id, line.method_title) == (
        "flat_rate",
        "3",
        "International flat rate",
    )


def test_a_shipping_line_without_an_instance_has_none():
    order_44 = Path(__file__).parent / "fixtures" / "woo-captures" / "order_44.json"
    order = parse_order(json.loads(order_44.read_text(encoding="utf-8"))["body"])

    assert [line.instance_id for line in order.shipping_lines] == [""]


def test_a_compound_order_has_a_tax_line_per_rate_with_its_percent():
    order = parse_order(capture("order_375_compound")["body"])

    assert [
        (t.rate_id, t.label, t.compound, t.rate_percent, t.tax_total, t.shipping_tax_total)
        for t in order.tax_lines
    ] == [
        (5, "GST", False, Decimal("5"), Decimal("2.01"), Decimal("0.63")),
        (6, "PST", True, Decimal("7"), Decimal("2.94"), Decimal("0.92")),
    ]
    first_line = order.line_items[0]
    assert [(t.rate_id, t.total) for t in first_line.taxes] == [
        (5, Decimal("0.78")),
        (6, Decimal("1.14")),
    ]
    assert order.total_tax == sum(
        (t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0)
    )


# The sandbox store's lists, over real HTTP


@pytest.fixture
def sandbox_client(store):
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        yield client


def test_the_sandbox_offers_the_gateways_its_orders_are_paid_by(sandbox_client):
    gateways = sandbox_client.payment_gateways()

    assert [(g.id, g.enabled) for g in gateways] == [
        ("bacs", True),
        ("cheque", False),
        ("cod", True),
        ("stripe", True),
        ("ppcp-gateway", True),
    ]


def test_the_sandbox_offers_three_methods_in_each_of_its_two_zones(sandbox_client):
    methods = sandbox_client.shipping_methods()

    assert [(m.method_id, m.instance_id, m.zone) for m in methods] == [
        ("flat_rate", "3", REST_OF_WORLD),
        ("free_shipping", "5", REST_OF_WORLD),
        ("local_pickup", "6", REST_OF_WORLD),
        ("flat_rate", "1", "United States"),
        ("free_shipping", "2", "United States"),
        ("local_pickup", "4", "United States"),
        ("flat_rate", "", ""),
        ("free_shipping", "", ""),
        ("local_pickup", "", ""),
        ("pickup_location", "", ""),
    ]
    assert [m.enabled for m in methods] == [True] * 9 + [False]


def test_the_sandbox_lists_the_rates_its_orders_are_taxed_at(sandbox_client):
    rates = sandbox_client.tax_rates()

    assert [(r.id, r.country, r.rate, r.compound, r.tax_class) for r in rates] == [
        (1, "US", Decimal("10"), False, "standard"),
        (2, "DE", Decimal("19"), False, "standard"),
        (3, "GB", Decimal("20"), False, "standard"),
        (4, "NL", Decimal("21"), False, "standard"),
    ]

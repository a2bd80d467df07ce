"""The sandbox's payment gateways, shipping zones and methods, tax rates and classes, answered
as the real store answered them (``fixtures/woo-captures/accounting``), and its orders made
of them: every order's gateway, shipping instance and tax rate is one the store lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from portal.woo import WooClient
from sandbox.checkout import REST_OF_WORLD
from sandbox.process import SandboxProcess
from tests.test_sandbox_contract import WORDPRESS_HEADERS, Shape, links, resource, send

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures" / "accounting"
LISTS = sorted(p for p in CAPTURES.glob("*.json") if not p.stem.startswith("order_"))
KIT_SITE = "http://127.0.0.1:8090"
# The same on the sandbox as on the kit's store, but for where the store is.
SAME_AS_KIT = ("shipping_methods", "shipping_zones", "taxes_classes")


def captured(name: str) -> dict:
    return json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))


def moved(value: object, site: str) -> object:
    return json.loads(json.dumps(value).replace(KIT_SITE, site))


def without_options(value: object) -> object:
    """The value with each setting's ``options`` left out: they are keyed by what the store
    has (``"flat_rate:3"``), not by field."""
    if isinstance(value, list):
        return [without_options(item) for item in value]
    if not isinstance(value, dict):
        return value
    return {k: without_options(v) for k, v in value.items() if k != "options"}


# What every captured answer of one resource shows ("taxes", "shipping/zones/methods").
SHAPES: dict[str, Shape] = {}
for _path in LISTS:
    _capture = captured(_path.stem)
    if isinstance(_capture["body"], list):
        for _item in without_options(_capture["body"]):
            SHAPES.setdefault(resource(_capture), Shape()).add(_item)


def get(store: SandboxProcess, path: str, **query: object) -> requests.Response:
    """A signed GET of ``/wp-json/wc/v3/<path>``, as the kit's captures were made."""
    request = {
        "method": "GET",
        "path": f"/wp-json/wc/v3/{path}",
        "query": [(name, str(value)) for name, value in query.items()],
        "auth": "oauth1.0a",
    }
    return send(store, {"request": request}, path)


@pytest.mark.parametrize("path", LISTS, ids=[p.stem for p in LISTS])
def test_answers_like_the_kits_store(store: SandboxProcess, path: Path) -> None:
    capture = captured(path.stem)

    response = send(store, capture, path.stem)

    assert response.status_code == capture["status"], response.text
    names = [n for n in response.raw.headers if n in WORDPRESS_HEADERS]
    assert names == [n for n, _ in capture["headers"] if n in WORDPRESS_HEADERS]
    captured_links = links(dict(capture["headers"]).get("Link", ""))
    for rel, query_names in links(response.headers.get("Link", "")).items():
        assert query_names == captured_links[rel], rel
    body, kit = response.json(), capture["body"]
    if isinstance(kit, dict):
        assert (body["code"], body["message"]) == (kit["code"], kit["message"])
    elif path.stem in SAME_AS_KIT:
        assert body == moved(kit, store.base_url)
    else:
        shape = SHAPES[resource(capture)]
        if path.stem == "payment_gateways":  # the plugins', not on the kit's store: below
            body = [gateway for gateway in body if gateway["id"] in {g["id"] for g in kit}]
        items = without_options(body)
        assert [problem for item in items for problem in shape.problems(item)] == []


def test_the_offline_gateways_are_the_kits_and_the_plugins_are_alike(store):
    kit = {g["id"]: g for g in moved(captured("payment_gateways")["body"], store.base_url)}

    gateways = get(store, "payment_gateways").json()

    assert [g["id"] for g in gateways] == ["bacs", "cheque", "cod", "stripe", "ppcp-gateway"]
    for gateway in gateways[:2]:
        assert gateway == kit[gateway["id"]]
    top = Shape().add({k: v for k, v in kit["bacs"].items() if k != "settings"})
    setting = Shape().add(kit["bacs"]["settings"]["title"])
    for gateway in gateways[3:]:
        assert top.problems({k: v for k, v in gateway.items() if k != "settings"}) == []
        for value in gateway["settings"].values():
            assert setting.problems(value) == []


def test_cash_on_delivery_offers_each_zones_methods_as_woocommerce_lists_them(store):
    gateways = get(store, "payment_gateways").json()

    cod = next(g for g in gateways if g["id"] == "cod")
    assert cod["settings"]["enable_for_methods"]["options"] == {
        "Flat rate": {
            "flat_rate": "Any &quot;Flat rate&quot; method",
            "flat_rate:1": "United States &ndash; Flat rate (#1)",
            "flat_rate:3": "Other locations &ndash; Flat rate (#3)",
        },
        "Free shipping": {
            "free_shipping": "Any &quot;Free shipping&quot; method",
            "free_shipping:2": "United States &ndash; Free shipping (#2)",
            "free_shipping:5": "Other locations &ndash; Free shipping (#5)",
        },
        "Local pickup": {"pickup_location": "Any &quot;Local pickup&quot; method"},
    }


def test_each_zone_method_has_the_settings_of_its_type(store):
    kit = {
        m["method_id"]: m["settings"]
        for name in ("shipping_zone_0_methods", "shipping_zone_1_methods")
        for m in captured(name)["body"]
    }

    for zone_id in (0, 1):
        for method in get(store, f"shipping/zones/{zone_id}/methods").json():
            expected = kit.get(method["method_id"], {"title": 0, "tax_status": 0, "cost": 0})
            assert list(method["settings"]) == list(expected)
            assert method["settings"]["title"]["value"] == method["title"]


def test_flat_rate_costs_what_orders_are_charged_in_the_stores_money():
    with SandboxProcess(orders=10, currency="JPY") as yen:
        methods = get(yen, "shipping/zones/1/methods").json()
        with WooClient(yen.base_url, yen.consumer_key, yen.consumer_secret) as client:
            charged = {line.total for o in client.iter_orders() for line in o.shipping_lines}

    flat = next(m for m in methods if m["method_id"] == "flat_rate")
    assert flat["settings"]["cost"]["value"] == "750"
    assert charged == {0, 750}


def test_taxes_come_a_page_at_a_time_by_id_either_way(store):
    first = get(store, "taxes", per_page=3, orderby="id")
    last = get(store, "taxes", per_page=3, page=2, orderby="id")
    backwards = get(store, "taxes", orderby="id", order="desc")

    assert [r["id"] for r in first.json()] + [r["id"] for r in last.json()] == [1, 2, 3, 4]
    assert (first.headers["X-WP-Total"], first.headers["X-WP-TotalPages"]) == ("4", "2")
    assert [r["id"] for r in backwards.json()] == [4, 3, 2, 1]


def test_taxes_of_a_class_are_those_of_the_class(store):
    standard = get(store, "taxes", **{"class": "standard"})
    reduced = get(store, "taxes", **{"class": "reduced-rate"})

    assert [r["name"] for r in standard.json()] == ["US Tax", "MwSt", "VAT", "BTW"]
    assert reduced.json() == []
    assert (reduced.headers["X-WP-Total"], reduced.headers["X-WP-TotalPages"]) == ("0", "0")


def test_an_unknown_tax_class_is_refused_as_woocommerce_refuses_it(store):
    response = get(store, "taxes", **{"class": "bogus"})

    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert list(response.json()["data"]["params"]) == ["class"]


def test_the_lists_are_for_the_stores_managers_only(store):
    for path in ("payment_gateways", "shipping/zones", "shipping/zones/0/methods", "taxes"):
        response = requests.get(f"{store.base_url}/wp-json/wc/v3/{path}", timeout=10)

        assert response.status_code == 401
        assert response.json()["code"] == "woocommerce_rest_cannot_view"


def test_the_captured_stores_rates_are_its_one_rate():
    with SandboxProcess(orders=3, extra_args=("--tax-rates", "captured")) as captured_store:
        client = WooClient(
            captured_store.base_url, captured_store.consumer_key, captured_store.consumer_secret
        )
        rates = client.tax_rates()

    assert [(r.id, r.country, r.name, str(r.rate)) for r in rates] == [
        (1, "US", "US Sales Tax", "8.5000")
    ]


# Orders made of what the store lists


@pytest.fixture(scope="module")
def real_shaped():
    with SandboxProcess(seed=3, orders=400, extra_args=("--real-shapes",)) as running:
        yield running


@pytest.fixture(scope="module")
def its_lists_and_orders(real_shaped):
    with WooClient(
        real_shaped.base_url, real_shaped.consumer_key, real_shaped.consumer_secret
    ) as client:
        return (
            client.payment_gateways(),
            client.shipping_methods(),
            client.tax_rates(),
            list(client.iter_orders()),
        )


def test_every_order_is_paid_by_a_gateway_the_store_lists(its_lists_and_orders):
    gateways, _, _, orders = its_lists_and_orders

    paid_by = {order.payment_method for order in orders if order.status != "checkout-draft"}

    assert paid_by == {gateway.id for gateway in gateways}


def test_every_shipping_line_names_a_method_the_store_lists(its_lists_and_orders):
    _, methods, _, orders = its_lists_and_orders
    listed = {(m.method_id, m.instance_id) for m in methods}

    named = {(line.method_id, line.instance_id) for o in orders for line in o.shipping_lines}

    assert named <= listed
    assert {instance for _, instance in named} == {"", "1", "2", "3", "4", "5", "6"}


def test_checkout_names_the_instance_of_the_shipping_countrys_zone(its_lists_and_orders):
    _, methods, _, orders = its_lists_and_orders
    zone_of = {m.instance_id: m.zone for m in methods if m.instance_id}

    for order in orders:
        for line in order.shipping_lines:
            if line.instance_id:
                us = order.shipping.country == "US"
                assert zone_of[line.instance_id] == ("United States" if us else REST_OF_WORLD)


def test_every_tax_line_is_of_a_rate_the_store_lists(its_lists_and_orders):
    _, _, rates, orders = its_lists_and_orders

    taxed_by = {t.rate_id for order in orders for t in order.tax_lines}
    line_rates = {
        t.rate_id
        for order in orders
        for line in (*order.line_items, *order.shipping_lines, *order.fee_lines)
        for t in line.taxes
    }

    assert taxed_by | line_rates <= {rate.id for rate in rates}
    assert taxed_by == {1, 2, 3, 4}


# The kit's rates, and its orders served as captured


KIT_ORDERS = sorted(p for p in CAPTURES.glob("order_*.json"))


@pytest.fixture(scope="module")
def kit_orders_store(tmp_path_factory):
    exported = tmp_path_factory.mktemp("kit") / "orders.json"
    exported.write_text(json.dumps([captured(p.stem)["body"] for p in KIT_ORDERS]))
    with SandboxProcess(orders_file=str(exported), extra_args=("--tax-rates", "kit")) as running:
        yield running


@pytest.mark.parametrize("name", ["taxes_by_id", "taxes_per_page100"])
def test_the_kit_table_lists_the_kits_rates_word_for_word(kit_orders_store, name):
    capture = captured(name)

    response = send(kit_orders_store, capture, name)

    assert response.json() == moved(capture["body"], kit_orders_store.base_url)
    assert response.headers["X-WP-Total"] == "7"


def test_the_compound_rate_comes_after_the_rate_it_is_taxed_on_by_priority(kit_orders_store):
    by_priority = get(kit_orders_store, "taxes", orderby="priority", per_page=100).json()

    assert [(r["id"], r["priority"], r["compound"]) for r in by_priority][-1] == (6, 2, True)


def test_the_kits_orders_are_made_of_what_the_kit_table_lists(kit_orders_store):
    store = kit_orders_store
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        rates = {rate.id: rate for rate in client.tax_rates()}
        methods = {(m.method_id, m.instance_id) for m in client.shipping_methods()}
        gateways = {gateway.id for gateway in client.payment_gateways()}
        orders = list(client.iter_orders())

    assert sorted(order.id for order in orders) == [59, 375, 376, 377, 378]
    for order in orders:
        assert order.payment_method in gateways
        assert {(line.method_id, line.instance_id) for line in order.shipping_lines} <= methods
        for tax_line in order.tax_lines:
            rate = rates[tax_line.rate_id]
            assert (rate.compound, rate.rate) == (tax_line.compound, tax_line.rate_percent)

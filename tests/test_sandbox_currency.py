"""The sandbox store in yen (0 decimals), dollars (2) and dinars (3): every amount worked out
and shown as WooCommerce works it out and shows it in the store's precision.

Each store is started as a connector meets it (``--currency``, ``--decimals``), with the
real shapes, coupons, fees (negative ones too), prices entered with and without tax and
refunds of every kind; one store per currency also rounds tax at subtotal. The real stores
in yen and Kuwaiti dinars (``tests/fixtures/woo-captures/jpy``, ``kwd``) give the shapes the
sandbox's must have, and an export of them is served as exported.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import ROUND_HALF_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import requests

from sandbox import render
from sandbox.catalog import Catalog, Product
from sandbox.currency import Money
from sandbox.generate import Options
from sandbox.model import Fee, Line
from sandbox.process import SandboxProcess
from sandbox.store import OrderQuery, Store
from sandbox.taxes import REAL
from tests.test_sandbox_refunds import call
from tests.test_sandbox_shapes import every_order, get

CAPTURES = Path(__file__).parent / "fixtures" / "woo-captures"
UNTIL = "2026-11-26T19:05:24Z"
MONIES = [("JPY", 0), ("USD", 2), ("KWD", 3), ("BHD", 3)]
# Fields WooCommerce formats with dp (wc_format_decimal): the order's and its items'.
ORDER_MONEY = (
    "discount_total",
    "discount_tax",
    "shipping_total",
    "shipping_tax",
    "cart_tax",
    "total",
    "total_tax",
)
ITEM_MONEY = ("subtotal", "subtotal_tax", "total", "total_tax", "tax_total", "shipping_tax_total")


def formatted(decimals: int) -> re.Pattern:
    """A string as ``wc_format_decimal`` writes it with ``dp=decimals``: "15258", "43.246"."""
    return re.compile(r"-?\d+" + (rf"\.\d{{{decimals}}}" if decimals else "") + "$")


RAW = re.compile(r"-?\d+(\.\d{0,5}[1-9])?$")  # as stored: no trailing zeros, six decimals at most


def unit(decimals: int) -> Decimal:
    return Decimal(1).scaleb(-decimals)


def in_units(amount: Decimal, decimals: int, rounding=ROUND_HALF_UP) -> Decimal:
    return amount.quantize(unit(decimals), rounding)


def _d(amount: str) -> Decimal:
    return Decimal(amount)


# Stores in each money


def started(currency: str, decimals: int, *more: str, orders: int = 160) -> SandboxProcess:
    """A store in ``currency`` with ``decimals``, to start (``with``)."""
    options = ("--until", UNTIL, "--real-shapes", *more)
    return SandboxProcess(
        orders=orders,
        timezone="Europe/Berlin",
        currency=currency,
        decimals=decimals,
        extra_args=options,
    )


@pytest.fixture(scope="module", params=MONIES, ids=[f"{c}-{d}" for c, d in MONIES])
def money_store(request):
    with started(*request.param) as store:
        yield store, request.param[1]


@pytest.fixture(scope="module")
def orders_of(money_store) -> list[dict]:
    return every_order(money_store[0])


@pytest.fixture(scope="module", params=[("JPY", 0), ("KWD", 3)], ids=["JPY-0", "KWD-3"])
def subtotal_store(request):
    with started(*request.param, "--round-tax-at-subtotal", "--prices-include-tax") as store:
        yield store, request.param[1]


@pytest.fixture
def fresh(money_store):
    store, decimals = money_store
    store.reset()
    yield store, decimals
    store.reset()


def test_every_order_adds_up_to_its_lines_fees_shipping_and_tax(money_store, orders_of) -> None:
    """Rounded per line, every part is a whole unit of the store: the total is the sum of
    the lines, fees, shipping and tax as shown, and each tax line the sum of its items'."""
    _, decimals = money_store
    for order in orders_of:
        lines, fees, shipping = order["line_items"], order["fee_lines"], order["shipping_lines"]
        parts = sum(_d(x["total"]) for x in lines + fees + shipping) + _d(order["total_tax"])
        assert parts == _d(order["total"]), order["id"]
        taxes = order["tax_lines"]
        assert _d(order["cart_tax"]) == sum(_d(t["tax_total"]) for t in taxes)
        assert _d(order["shipping_tax"]) == sum(_d(t["shipping_tax_total"]) for t in taxes)
        assert _d(order["total_tax"]) == _d(order["cart_tax"]) + _d(order["shipping_tax"])
        assert _d(order["cart_tax"]) == sum(_d(x["total_tax"]) for x in lines + fees)
        assert _d(order["shipping_tax"]) == sum(_d(x["total_tax"]) for x in shipping)
        for item in lines + fees + shipping:
            # A tax of exactly half a unit shows rounded up in ``taxes`` (number_format) and
            # half down in ``total_tax`` where prices include tax (the real yen store's
            # order 57: 743 and 742).
            off = sum(_d(t["total"]) for t in item["taxes"]) - _d(item["total_tax"])
            assert off == 0 or (abs(off) == unit(decimals) and order["prices_include_tax"])
        subtotals = sum(_d(x["subtotal"]) - _d(x["total"]) for x in lines)
        assert _d(order["discount_total"]) == subtotals, order["id"]
        # A dollar store takes euros from the euro area too (--real-shapes).
        currency = money_store[0].currency
        assert order["currency"] in ({"USD", "EUR"} if currency == "USD" else {currency})
    assert sum(1 for o in orders_of if o["coupon_lines"]) >= 10
    assert sum(1 for o in orders_of if o["prices_include_tax"]) >= 20
    assert sum(1 for o in orders_of if o["tax_lines"]) >= 60
    in_decimals = [_d(o["total"]) for o in orders_of]
    assert all(amount == in_units(amount, decimals) for amount in in_decimals)


def test_money_has_exactly_the_stores_decimals_where_woocommerce_formats_it(
    money_store, orders_of
) -> None:
    """wc_format_decimal with the store's dp: "15258" in yen, "43.246" in dinars; what
    WooCommerce leaves raw stays raw (a fee's amount, a coupon's discount), and a line's
    price is a number."""
    _, decimals = money_store
    shown = formatted(decimals)
    for order in orders_of:
        for key in ORDER_MONEY:
            assert shown.match(order[key]), (order["id"], key, order[key])
        items = [order[k] for k in ("line_items", "tax_lines", "shipping_lines", "fee_lines")]
        for item in (item for kind in items for item in kind):
            for key in ITEM_MONEY:
                if key in item:
                    assert shown.match(item[key]), (order["id"], key, item[key])
            for tax in item.get("taxes", []):
                assert shown.match(tax["total"])
                assert tax["subtotal"] == "" or shown.match(tax["subtotal"])
        for line in order["line_items"]:
            assert isinstance(line["price"], int | float)
        for fee in order["fee_lines"]:
            assert fee["amount"] == "" or RAW.match(fee["amount"])
        for coupon in order["coupon_lines"]:
            assert RAW.match(coupon["discount"]) and RAW.match(coupon["discount_tax"])
            assert isinstance(coupon["nominal_amount"], int | float)
        for refund in order["refunds"]:
            assert refund["total"].startswith("-") and shown.match(refund["total"])


def test_the_odd_unit_occurs(money_store, orders_of) -> None:
    """Amounts use the precision: odd yen, the third decimal of a dinar, unit prices that
    do not divide evenly, negative fees (a loyalty discount) outside the default store."""
    store, decimals = money_store
    last_digits = {o["total"].replace(".", "")[-1] for o in orders_of}
    assert len(last_digits) >= 8
    uneven = [
        x["price"] for o in orders_of for x in o["line_items"] if isinstance(x["price"], float)
    ]
    assert len(uneven) >= 10
    negative = [f for o in orders_of for f in o["fee_lines"] if f["total"].startswith("-")]
    assert bool(negative) == (store.currency != "USD")
    assert any(f["taxes"] and f["total_tax"].startswith("-") for f in negative) or not negative


def test_coupons_split_in_whole_units_of_the_store(money_store, orders_of) -> None:
    """WC_Discounts works in the store's units: 10 % off is the whole cart's discount rounded
    half down to a yen, cent or fils; a fixed coupon comes off whole."""
    store, decimals = money_store
    fixed = _flat_amount(store)
    seen = set()
    for order in orders_of:
        for coupon in order["coupon_lines"]:
            lines = order["line_items"]
            subtotal = sum(_d(x["subtotal"]) + _d(x["subtotal_tax"]) for x in lines)
            if not order["prices_include_tax"]:
                subtotal = sum(_d(x["subtotal"]) for x in lines)
            off = sum(_d(x["subtotal"]) - _d(x["total"]) for x in lines)
            if order["prices_include_tax"]:  # the discount comes off with its tax
                off += sum(_d(x["subtotal_tax"]) - _d(x["total_tax"]) for x in lines)
                seen.add("incl")
            if coupon["discount_type"] == "percent":
                wanted = in_units(subtotal / 10, decimals, ROUND_HALF_DOWN)
                assert abs(off - wanted) <= unit(decimals), order["id"]
                if not order["prices_include_tax"]:
                    assert off == wanted, order["id"]
                    assert _d(coupon["discount"]) == off
            else:
                assert Decimal(str(coupon["nominal_amount"])) == fixed
                if not order["prices_include_tax"]:
                    assert off == min(fixed, subtotal), order["id"]
            seen.add(coupon["discount_type"])
    assert {"percent", "fixed_cart"} <= seen


def _flat_amount(store: SandboxProcess) -> Decimal:
    """The flat coupon's amount in this store: $5 in its money."""
    return Decimal(Money.of(store.currency, store.decimals).price(500)).scaleb(
        -Money.of(store.currency, store.decimals).decimals
    )


def test_refunds_are_in_the_stores_units(money_store, orders_of) -> None:
    """Refunds by amount and by lines: amounts with the store's decimals, lines adding up
    to the refund, and an order refunded in full refunded to the unit."""
    store, decimals = money_store
    shown = formatted(decimals)
    kinds = set()
    for order in orders_of:
        if not order["refunds"]:
            continue
        refunds = get(store, f"/orders/{order['id']}/refunds").json()
        refunded = sum(_d(r["amount"]) for r in refunds)
        assert refunded == -sum(_d(r["total"]) for r in order["refunds"])
        assert (order["status"] == "refunded") == (refunded == _d(order["total"])), order["id"]
        for refund in refunds:
            assert shown.match(refund["amount"])
            items = refund["line_items"] + refund["shipping_lines"] + refund["fee_lines"]
            kinds.add("lines" if items else "amount")
            if items:
                total = sum(_d(x["total"]) + _d(x["total_tax"]) for x in items)
                assert -total == _d(refund["amount"]), order["id"]
                for item in items:
                    assert shown.match(item["total"]) and shown.match(item["total_tax"])
    assert kinds == {"lines", "amount"}


def test_dp_defaults_to_the_stores_decimals_and_can_ask_for_others(money_store) -> None:
    store, decimals = money_store
    listing = get(store, "/orders?per_page=2")
    assert f"dp={decimals}" in listing.headers["Link"]
    order = listing.json()[0]
    asked = get(store, f"/orders/{order['id']}?dp=4").json()
    assert formatted(4).match(asked["total"])
    assert _d(asked["total"]) == _d(order["total"])
    options = requests.options(f"{store.api_url}/orders", timeout=10)
    args = options.json()["endpoints"][0]["args"]
    assert args["dp"]["default"] == decimals
    refunds = requests.options(f"{store.api_url}/orders/{order['id']}/refunds", timeout=10)
    assert refunds.json()["endpoints"][0]["args"]["dp"]["default"] == decimals


def test_the_settings_and_system_status_name_the_money(money_store) -> None:
    store, decimals = money_store
    money = Money.of(store.currency, decimals)
    settings = get(store, "/system_status").json()["settings"]
    assert (settings["currency"], settings["number_of_decimals"]) == (store.currency, decimals)
    assert (settings["thousand_separator"], settings["decimal_separator"]) == (",", ".")
    assert settings["currency_symbol"] == money.symbol
    general = {s["id"]: s for s in get(store, "/settings/general").json()}
    assert general["woocommerce_currency"]["value"] == store.currency
    assert general["woocommerce_price_num_decimals"]["value"] == str(decimals)
    assert general["woocommerce_price_thousand_sep"]["value"] == ","
    assert general["woocommerce_price_decimal_sep"]["value"] == "."
    one = get(store, "/settings/general/woocommerce_price_num_decimals").json()
    assert (one["value"], one["group_id"]) == (str(decimals), "general")
    order = get(store, "/orders?per_page=1").json()[0]
    assert order["currency_symbol"] == money.plain_symbol
    product = get(store, "/products/11").json()
    assert formatted(decimals).match(product["price"])
    assert money.symbol in product["price_html"]


def test_prices_are_sensible_in_the_currency(money_store) -> None:
    """Yen in whole thousands of yen, dinars with three decimals."""
    store, decimals = money_store
    prices = [_d(p["price"]) for p in get(store, "/products?per_page=100").json()]
    if store.currency == "JPY":
        assert all(p == p.to_integral() and 300 <= p <= 20_000 for p in prices)
        assert any(p % 2 for p in prices)  # odd yen
    if decimals == 3:
        assert any(p != in_units(p, 2) for p in prices)  # the third decimal
        assert all(p < 60 for p in prices)


def test_the_control_api_makes_changes_and_refunds_in_the_stores_precision(fresh) -> None:
    store, decimals = fresh
    made = store.create_order(
        status="processing",
        lines=[{"product_id": 11, "quantity": 3}, {"product_id": 12, "quantity": 1}],
        coupon="flat5",
        shipping="flat_rate",
    )
    shown = formatted(decimals)
    assert all(shown.match(made[k]) for k in ORDER_MONEY)
    line = made["line_items"][0]
    changed = store.modify_order(made["id"], quantities={line["id"]: 7}, coupon="save10")
    assert shown.match(changed["total"]) and changed["total"] != made["total"]
    shipping = changed["shipping_lines"][0]["id"]
    refund = store.refund_order(
        made["id"], lines=[{"id": line["id"], "quantity": 2}, {"id": shipping, "quantity": 0}]
    )
    assert shown.match(refund["amount"])
    items = refund["line_items"] + refund["shipping_lines"]
    assert -sum(_d(x["total"]) + _d(x["total_tax"]) for x in items) == _d(refund["amount"])
    left = _d(changed["total"]) - _d(refund["amount"])
    odd = "1980" if decimals == 0 else ("12.345" if decimals == 3 else "12.34")
    by_amount = store.refund_order(made["id"], amount=odd, reason="Goodwill")
    assert by_amount["amount"] == odd
    rest = format(left - _d(odd), "f")
    last = call(store, f"/orders/{made['id']}/refunds", "POST", {"amount": rest}).json()
    assert last["amount"] == rest
    assert get(store, f"/orders/{made['id']}").json()["status"] == "refunded"


def test_round_tax_at_subtotal_in_the_stores_unit(subtotal_store) -> None:
    """Items keep unrounded taxes (dp=6 shows them); each tax line is their sum rounded to
    the unit, and the total the unit-rounded sum of the unrounded parts, as the real yen and
    dinar stores' orders 55 and 48 show."""
    store, decimals = subtotal_store
    exact = {o["id"]: o for o in every_order(store, "&dp=6")}
    differing = 0
    for order in every_order(store):
        if order["id"] < 53:  # the captured store's orders rounded per line
            continue
        kept = exact[order["id"]]
        items = kept["line_items"] + kept["fee_lines"]
        parts = sum(_d(x["total"]) for x in items + kept["shipping_lines"]) + sum(
            _d(t["tax_total"]) + _d(t["shipping_tax_total"]) for t in kept["tax_lines"]
        )
        assert _d(order["total"]) == in_units(parts, decimals), order["id"]
        for tax_line, shown in zip(kept["tax_lines"], order["tax_lines"], strict=True):
            taxes = [t for x in items for t in x["taxes"] if t["id"] == tax_line["rate_id"]]
            assert _d(tax_line["tax_total"]) == sum(_d(t["total"]) for t in taxes)
            assert _d(shown["tax_total"]) == in_units(_d(tax_line["tax_total"]), decimals)
        rounded = sum(_d(x["total"]) for x in order["line_items"] + order["fee_lines"])
        rounded += sum(_d(x["total"]) for x in order["shipping_lines"])
        differing += rounded + _d(order["total_tax"]) != _d(order["total"])
    assert differing >= 3


# Worked out as WooCommerce works them out, in process


SITE = "http://127.0.0.1:8081"


@pytest.fixture(scope="module")
def drawn():
    """A generated order, to be made into the order a test needs."""
    return Store(seed=1, orders=1, until=1795719924).order(23)


def one_order(drawn, money: Money, *lines, prices, coupon=None, **shape) -> dict:
    """An order in ``money`` of ``lines`` ((product, quantity)) of products 100, 101, ...
    priced ``prices`` ((price in the money's units, taxable)), taxed at the US rate."""
    products = [
        Product(100 + i, f"P{i}", "simple", f"P{i}", price, taxable=taxable)
        for i, (price, taxable) in enumerate(prices)
    ]
    catalog = Catalog(products, money)
    order = dataclasses.replace(
        drawn,
        lines=tuple(Line(i + 1, 100 + p, q) for i, (p, q) in enumerate(lines)),
        coupon=catalog.coupons[coupon] if coupon else None,
        currency=money.currency,
        decimals=money.decimals,
        tax_rate=REAL["US"],
        **{"shipping": None, "fee": None, "prices_include_tax": False, **shape},
    )
    return render.order(order, catalog, SITE)


def test_a_fixed_coupon_is_split_in_whole_yen_dearest_unit_first(drawn) -> None:
    """¥750 over seven items: ¥107 each, and the one yen left to the dearest."""
    yen = Money.of("JPY")
    order = one_order(
        drawn, yen, (0, 3), (1, 4), coupon="flat5", prices=[(1875, True), (999, True)]
    )
    off = [_d(x["subtotal"]) - _d(x["total"]) for x in order["line_items"]]
    assert off == [Decimal(3 * 107 + 1), Decimal(4 * 107)]
    assert order["coupon_lines"][0]["discount"] == "750"
    assert order["discount_total"] == "750"
    assert order["line_items"][0]["price"] == (5625 - 322) / 3


def test_ten_percent_off_in_fils_rounds_the_cart_half_down(drawn) -> None:
    """10 % of 3 x 4.005 and 1 x 3.999 KWD: 1.2015 + 0.3999 = 1.6014, 1.601 in fils, the
    line shares floored (1.201 and 0.399) and the fils left over to the dearest unit."""
    kwd = Money.of("KWD")
    order = one_order(
        drawn, kwd, (0, 3), (1, 1), coupon="save10", prices=[(4005, True), (3999, True)]
    )
    off = [_d(x["subtotal"]) - _d(x["total"]) for x in order["line_items"]]
    assert off == [Decimal("1.202"), Decimal("0.399")]
    assert order["discount_total"] == "1.601"
    assert order["line_items"][0]["total"] == "10.813"
    assert order["line_items"][0]["total_tax"] == "1.081"  # 10 % of 10.813, to the fils
    assert order["tax_lines"][0]["tax_total"] == "1.441"


def test_tax_rounds_to_the_yen_half_down_with_prices_entered_with_tax(drawn) -> None:
    """¥1,155 with 10 % in it: 105 of tax, 1,050 net; ¥1,045 rounds its 95 yen of tax."""
    yen = Money.of("JPY")
    order = one_order(
        drawn, yen, (0, 1), (1, 1), prices=[(1155, True), (1045, True)], prices_include_tax=True
    )
    lines = order["line_items"]
    assert [(x["subtotal"], x["total_tax"]) for x in lines] == [("1050", "105"), ("950", "95")]
    assert order["total"] == "2200"


def test_a_negative_fee_is_taxed_on_its_taxable_share_and_capped(drawn) -> None:
    """A loyalty discount of ¥1,000 on ¥3,000 taxable and ¥1,000 untaxed: 3/4 of it is
    taxable, -¥75 of tax; a discount bigger than the order takes only what is there."""
    yen = Money.of("JPY")
    prices = [(3000, True), (1000, False)]
    fee = Fee("Loyalty discount", -1000, "")
    order = one_order(drawn, yen, (0, 1), (1, 1), fee=fee, prices=prices)
    assert (order["fee_lines"][0]["total"], order["fee_lines"][0]["total_tax"]) == ("-1000", "-75")
    assert order["total"] == str(4000 - 1000 + 300 - 75)
    huge = one_order(drawn, yen, (0, 1), fee=Fee("Loyalty discount", -9000, ""), prices=prices)
    assert huge["fee_lines"][0]["total"] == "-3000"
    assert huge["total"] == "0"


def test_shipping_and_coupons_are_priced_in_the_stores_money(drawn) -> None:
    dinar = Money.of("BHD")
    order = one_order(drawn, dinar, (0, 2), prices=[(4714, True)], shipping="flat_rate")
    assert order["shipping_total"] == "1.885"  # $5.00 in Bahraini dinars
    assert order["shipping_lines"][0]["total_tax"] == "0.189"
    assert order["currency_symbol"] == ".د.ب"


def test_the_default_store_is_the_one_it_always_was() -> None:
    """USD to the cent: no conversion, no negative fee, a cent is a cent."""
    until = 1795719924
    default = Store(seed=3, orders=120, until=until)
    explicit = Store(seed=3, orders=120, until=until, options=Options(money=Money.of("USD")))
    ids = [o.id for o in default.orders(OrderQuery(orderby="id", descending=False))]
    for order_id in ids:
        a = render.order(default.order(order_id), default.catalog, SITE)
        assert a == render.order(explicit.order(order_id), explicit.catalog, SITE)
        assert not any(f["total"].startswith("-") for f in a["fee_lines"])
    assert render.system_status(SITE)["settings"]["number_of_decimals"] == 2


# The decimals changed while the store runs


def test_the_decimals_can_change_while_the_store_runs(tmp_path) -> None:
    """A shop manager sets the store to 0 decimals: the settings and system status say so,
    dp defaults to it (orders made before show their amounts rounded to it), and orders made
    after are worked out in whole units. A reset goes back to the money it started with."""
    with SandboxProcess(orders=40, extra_args=("--until", UNTIL)) as store:
        before = get(store, "/orders/53").json()
        assert store.money()["decimals"] == 2
        store.set_money(decimals=0)
        assert get(store, "/system_status").json()["settings"]["number_of_decimals"] == 0
        one = get(store, "/settings/general/woocommerce_price_num_decimals").json()
        assert one["value"] == "0"
        again = get(store, "/orders/53").json()
        assert again["total"] == str(in_units(_d(before["total"]), 0))
        assert get(store, "/orders/53?dp=2").json()["total"] == before["total"]
        made = store.create_order(lines=[{"product_id": 12, "quantity": 3}], coupon="save10")
        exact = get(store, f"/orders/{made['id']}?dp=6").json()
        assert _d(exact["total"]) == _d(exact["total"]).to_integral()
        assert all(
            _d(x["total_tax"]) == _d(x["total_tax"]).to_integral() for x in exact["line_items"]
        )
        store.set_money(currency="KWD")  # the dinar's own three decimals
        assert get(store, "/system_status").json()["settings"]["number_of_decimals"] == 3
        assert store.create_order()["currency"] == "KWD"
        store.reset()
        assert store.money() == {
            "currency": "USD",
            "decimals": 2,
            "thousand_separator": ",",
            "decimal_separator": ".",
        }


# The real stores in yen and dinars


CAPTURED = {"JPY": CAPTURES / "jpy", "KWD": CAPTURES / "kwd"}


def captured(currency: str, name: str) -> dict:
    path = CAPTURED[currency] / name
    if not path.exists():
        pytest.skip(f"no capture {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def kinds(value: object) -> object:
    """A value's shape: keys and their kinds, lists by their items' union."""
    if isinstance(value, dict):
        return {k: kinds(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict = {}
        for item in value:
            shape = kinds(item)
            if isinstance(shape, dict):
                merged.update(shape)
            else:
                merged[shape] = True
        return [merged]
    if isinstance(value, bool) or value is None:
        return type(value).__name__
    return "number" if isinstance(value, int | float) else type(value).__name__


def decimals_of(text: str) -> int:
    return len(text.partition(".")[2])


@pytest.mark.parametrize("currency", ["JPY", "KWD"])
def test_orders_have_the_real_stores_shapes_and_formats(currency: str) -> None:
    """Keys, kinds and the decimals of each money field are a real store's in that money
    (meta_data aside: the kit's orders carry none, the sandbox's some)."""
    real = captured(currency, "orders_per_page100_page1.json")["body"]
    decimals = Money.of(currency).decimals
    with started(currency, decimals, orders=120) as store:
        ours = every_order(store)
        refunds = [
            r for o in ours if o["refunds"] for r in get(store, f"/orders/{o['id']}/refunds").json()
        ]
        status = get(store, "/system_status").json()["settings"]
    for key in ("line_items", "tax_lines", "shipping_lines", "fee_lines", "coupon_lines"):
        theirs = kinds([item for o in real for item in o[key]])[0]
        mine = kinds([item for o in ours for item in o[key]])[0]
        theirs.pop("meta_data", None), mine.pop("meta_data", None)
        assert set(mine) == set(theirs), key
        for name, kind in theirs.items():
            if kind not in ([{}], "NoneType") and mine[name] not in ([{}], "NoneType"):
                assert mine[name] == kind or name in ("sku", "image", "parent_name"), (key, name)
    for order in real + ours:
        for key in ORDER_MONEY:
            assert decimals_of(order[key]) == decimals, (order["id"], key)
        for line in order["line_items"]:
            assert decimals_of(line["total"]) == decimals
        for coupon in order["coupon_lines"]:
            assert RAW.match(coupon["discount"]) and RAW.match(coupon["discount_tax"])
    theirs = [
        r
        for name in sorted(CAPTURED[currency].glob("order_*_refunds.json"))
        for r in json.loads(name.read_text(encoding="utf-8"))["body"]
    ]
    assert theirs and refunds
    assert set(kinds(theirs)[0]) == set(kinds(refunds)[0])
    assert {decimals_of(r["amount"]) for r in theirs + refunds} == {decimals}
    real_status = captured(currency, "system_status.json")["body"]["settings"]
    for key in ("currency", "currency_symbol", "thousand_separator", "decimal_separator"):
        assert status[key] == real_status[key], key
    assert status["number_of_decimals"] == real_status["number_of_decimals"]


@pytest.mark.parametrize("currency", ["JPY", "KWD"])
def test_the_currency_settings_read_as_the_real_stores(currency: str) -> None:
    """Each general setting the sandbox has reads as the real store's, word for word, but
    the currency's options: the sandbox lists its own currencies, WooCommerce all of them
    (the capture keeps only the store's)."""
    real = {s["id"]: s for s in captured(currency, "settings_general.json")["body"]}
    with started(currency, Money.of(currency).decimals, orders=1) as store:
        ours = get(store, "/settings/general").json()
        site = store.base_url
    for setting in ours:
        theirs = real[setting["id"]]
        if setting["id"] == "woocommerce_currency":
            code = theirs["value"]
            assert setting["options"][code] == theirs["options"][code]
            setting, theirs = dict(setting), dict(theirs)
            del setting["options"], theirs["options"]
        href = theirs["_links"]["self"][0]["href"]
        port = re.match(r"https?://[^/]+", href)[0]
        assert json.dumps(setting).replace(site, port) == json.dumps(theirs), setting["id"]


@pytest.mark.parametrize("currency", ["JPY", "KWD"])
def test_an_export_of_a_yen_or_dinar_store_is_served_as_exported(currency, tmp_path) -> None:
    """``--orders-file`` keeps every amount string as the store wrote it, whatever dp asks."""
    real = captured(currency, "orders_per_page100_page1.json")["body"]
    export = tmp_path / "orders.json"
    export.write_text(json.dumps(real), encoding="utf-8")
    with SandboxProcess(orders_file=export) as store:
        served = every_order(store)
        assert json.dumps(served) == json.dumps(real)
        assert get(store, f"/orders/{real[0]['id']}?dp=2").json() == real[0]

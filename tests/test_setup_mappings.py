"""Each webstore's payment gateways, shipping methods and tax rates, mapped to the ERP's codes
on pages of their own: the store's lists read live from the sandbox over HTTP, the gateways
of imported orders, and mappings of entries the store no longer lists."""

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal import db
from portal.models import (
    GLAccount,
    PaymentMethod,
    SalesLine,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    Webstore,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.setup.demo import seed_demo_webstore
from portal.standard_items import no_product_item, shipping_item
from portal.sync.vat import parts_from_json
from tests.sync_helpers import imported_order, run_import

UNREACHABLE = (
    "The connection to 127.0.0.1:9 failed: it was refused. Check the store URL and that the "
    "site is up."
)


@pytest.fixture
def shop(app, store):
    """A webstore on the sandbox store with nothing mapped yet."""
    webstore = Webstore(
        code="SHOP",
        name="Shop",
        base_url=store.base_url,
        consumer_key=store.consumer_key,
        default_status_filter="",
        shipping_charge_item=shipping_item(),
        no_product_item=no_product_item(),
    )
    webstore.consumer_secret = store.consumer_secret
    db.session.add(webstore)
    db.session.commit()
    return webstore


@pytest.fixture
def codes(app):
    """The ERP's codes a mapping chooses from."""
    rows = {
        "BANK": PaymentMethod(code="BANK", description="Bank transfer"),
        "CARD": PaymentMethod(code="CARD", description="Credit card"),
        "DELIVERY": ShipmentMethod(code="DELIVERY", description="Delivered"),
        "DHL": ShippingAgent(code="DHL", name="DHL Express"),
        "DE19": VatCode(code="DE19", rate=Decimal("19"), description="Germany 19 %"),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    return {code: row.id for code, row in rows.items()}


def page_url(webstore, kind: str) -> str:
    return f"/setup/webstores/{webstore.id}/mappings/{kind}"


def rows(page: str) -> dict[str, dict]:
    """Each row of a mapping page by its key ("bacs", "flat_rate/3", "2"): whether it is
    mapped, where it stands, and the ERP records chosen in its cell."""
    found = {}
    pattern = r'<tr id="[^"]+" data-key="([^"]*)" data-mapped="(yes|no)">(.*?)</tr>'
    for key, mapped, body in re.findall(pattern, page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", body, re.S)
        found[key] = {
            "mapped": mapped == "yes",
            "standing": " ".join(cells[-1].split()),
            "chosen": re.findall(r'<option selected value="\d+">(.*?)</option>', body),
        }
    return found


def mappings(model) -> list:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(model).order_by(model.id)))


# What there is to map


def test_the_payments_page_lists_the_stores_gateways_in_its_order(signed_in_admin, shop):
    page = signed_in_admin.get(page_url(shop, "payments"))

    assert page.status_code == 200
    listed = rows(page.text)
    assert list(listed) == ["bacs", "cheque", "cod", "stripe", "ppcp-gateway"]
    assert listed["bacs"] == {"mapped": False, "standing": "In the store, enabled", "chosen": []}
    assert listed["cheque"]["standing"] == "In the store, disabled"
    assert "Direct bank transfer" in page.text and 'id="store-error"' not in page.text


def test_the_shipping_page_lists_every_zones_methods_then_each_method_type(signed_in_admin, shop):
    page = signed_in_admin.get(page_url(shop, "shipping")).text

    assert list(rows(page)) == [
        "flat_rate/3",
        "free_shipping/5",
        "local_pickup/6",
        "flat_rate/1",
        "free_shipping/2",
        "local_pickup/4",
        "flat_rate/",
        "free_shipping/",
        "local_pickup/",
        "pickup_location/",
    ]
    assert "Zone: United States" in page
    assert "Zone: Locations not covered by your other zones" in page
    assert "The method in every zone" in page


def test_the_tax_page_lists_the_stores_rates_with_country_and_rate(signed_in_admin, shop):
    page = signed_in_admin.get(page_url(shop, "taxes")).text

    assert list(rows(page)) == ["1", "2", "3", "4"]
    assert 'MwSt<br><small class="muted">DE, 19 % (priority 1, class standard, on shipping)' in page


# Saving


def test_a_gateway_is_mapped_in_place_and_stays_mapped(signed_in_admin, shop, codes):
    answer = signed_in_admin.post(
        page_url(shop, "payments"),
        {"gateway_id": "bacs", "title": "Direct bank transfer", "payment_method_id": codes["BANK"]},
        htmx=True,
    )

    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<td class="mapping"')
    assert "Saved: bacs maps to payment method BANK (Bank transfer)." in answer.text
    [mapping] = mappings(WebstorePaymentMapping)
    assert (mapping.webstore_id, mapping.gateway_id, mapping.title) == (
        shop.id,
        "bacs",
        "Direct bank transfer",
    )
    assert mapping.payment_method.code == "BANK"
    again = rows(signed_in_admin.get(page_url(shop, "payments")).text)
    assert again["bacs"]["mapped"] and again["bacs"]["chosen"] == ["BANK (Bank transfer)"]
    assert not again["cod"]["mapped"]


def test_mapping_a_gateway_again_changes_its_one_mapping(signed_in_admin, shop, codes):
    for code in ("BANK", "CARD"):
        signed_in_admin.post(
            page_url(shop, "payments"),
            {"gateway_id": "stripe", "payment_method_id": codes[code]},
            htmx=True,
        )

    [mapping] = mappings(WebstorePaymentMapping)
    assert mapping.payment_method.code == "CARD"


def test_without_htmx_saving_comes_back_to_the_row_saying_so(signed_in_admin, shop, codes):
    response = signed_in_admin.post(
        page_url(shop, "payments"), {"gateway_id": "cod", "payment_method_id": codes["BANK"]}
    )

    assert response.status_code == 303
    assert re.search(r"/mappings/payments#payments-[0-9a-f]{12}$", response.headers["Location"])
    page = signed_in_admin.get(response.headers["Location"]).text
    assert "Saved: cod maps to payment method BANK (Bank transfer)." in page
    assert rows(page)["cod"]["mapped"]


def test_a_zones_method_maps_to_a_shipment_method_and_an_agent(signed_in_admin, shop, codes):
    answer = signed_in_admin.post(
        page_url(shop, "shipping"),
        {
            "method_id": "flat_rate",
            "instance_id": "1",
            "title": "Flat rate",
            "shipment_method_id": codes["DELIVERY"],
            "shipping_agent_id": codes["DHL"],
        },
        htmx=True,
    )

    assert (
        "Saved: flat_rate, instance 1 maps to shipment method DELIVERY (Delivered) and "
        "shipping agent DHL (DHL Express)." in answer.text
    )
    [mapping] = mappings(WebstoreShippingMapping)
    assert (mapping.method_id, mapping.instance_id) == ("flat_rate", "1")
    assert (mapping.shipment_method.code, mapping.shipping_agent.code) == ("DELIVERY", "DHL")


def test_a_method_in_every_zone_covers_the_zones_not_mapped_themselves(
    signed_in_admin, shop, codes
):
    signed_in_admin.post(
        page_url(shop, "shipping"),
        {"method_id": "flat_rate", "instance_id": "", "shipping_agent_id": codes["DHL"]},
        htmx=True,
    )

    listed = rows(signed_in_admin.get(page_url(shop, "shipping")).text)

    [mapping] = mappings(WebstoreShippingMapping)
    assert (mapping.instance_id, mapping.shipment_method, mapping.shipping_agent.code) == (
        "",
        None,
        "DHL",
    )
    assert listed["flat_rate/"]["mapped"] and listed["flat_rate/"]["chosen"] == [
        "DHL (DHL Express)"
    ]
    assert listed["flat_rate/3"]["standing"] == (
        "In the store, enabled; not mapped itself, so orders take the mapping of flat_rate, "
        "every zone"
    )
    assert (
        "not mapped itself"
        not in listed["free_shipping/3" if False else "free_shipping/5"]["standing"]
    )


def test_a_tax_rate_maps_to_a_vat_code(signed_in_admin, shop, codes):
    answer = signed_in_admin.post(
        page_url(shop, "taxes"),
        {"rate_id": "2", "title": "MwSt", "vat_code_id": codes["DE19"]},
        htmx=True,
    )

    assert "Saved: rate 2 maps to VAT code DE19 (19 %)." in answer.text
    [mapping] = mappings(WebstoreTaxMapping)
    assert (mapping.rate_id, mapping.title, mapping.vat_code.code) == (2, "MwSt", "DE19")
    assert rows(signed_in_admin.get(page_url(shop, "taxes")).text)["2"]["chosen"] == ["DE19 (19 %)"]


def test_remove_takes_the_mapping_away(signed_in_admin, shop, codes):
    signed_in_admin.post(
        page_url(shop, "taxes"), {"rate_id": "2", "vat_code_id": codes["DE19"]}, htmx=True
    )
    cell = signed_in_admin.get(page_url(shop, "taxes")).text
    assert ">Remove</button>" in cell

    answer = signed_in_admin.post(page_url(shop, "taxes"), {"rate_id": "2"}, htmx=True)

    assert "Saved: rate 2 is not mapped now." in answer.text
    assert ">Remove</button>" not in answer.text
    assert mappings(WebstoreTaxMapping) == []


def test_any_gateway_can_be_mapped_by_its_id(signed_in_admin, shop, codes):
    response = signed_in_admin.post(
        page_url(shop, "payments"),
        {"gateway_id": " klarna ", "title": "Klarna", "payment_method_id": codes["CARD"]},
    )

    assert response.status_code == 303
    listed = rows(signed_in_admin.get(page_url(shop, "payments")).text)
    assert listed["klarna"]["mapped"] and listed["klarna"]["chosen"] == ["CARD (Credit card)"]


def test_a_mapping_without_its_id_is_refused_beside_the_field(signed_in_admin, shop, codes):
    response = signed_in_admin.post(
        page_url(shop, "taxes"), {"rate_id": "", "vat_code_id": codes["DE19"]}
    )

    assert response.status_code == 422
    assert (
        '<small class="field-error" id="rate_id-error">Enter the tax rate&#39;s id, as the '
        "order&#39;s tax lines name it.</small>" in response.text
    )
    assert mappings(WebstoreTaxMapping) == []


def test_a_record_that_is_not_offered_is_refused_in_its_cell(signed_in_admin, shop, codes):
    answer = signed_in_admin.post(
        page_url(shop, "payments"), {"gateway_id": "bacs", "payment_method_id": "999"}, htmx=True
    )

    assert answer.status_code == 422
    assert '<small class="field-error">Payment method: Not a valid choice.</small>' in answer.text
    assert mappings(WebstorePaymentMapping) == []


# What the store no longer lists, or a store out of reach


def test_a_mapping_the_store_no_longer_lists_stays_listed_and_can_be_removed(
    signed_in_admin, shop, codes
):
    db.session.add(
        WebstorePaymentMapping(
            webstore_id=shop.id,
            gateway_id="worldpay",
            title="Worldpay",
            payment_method_id=codes["CARD"],
        )
    )
    db.session.commit()

    listed = rows(signed_in_admin.get(page_url(shop, "payments")).text)

    assert list(listed)[-1] == "worldpay"
    assert listed["worldpay"] == {
        "mapped": True,
        "standing": "No longer listed by the store; older orders may still name it",
        "chosen": ["CARD (Credit card)"],
    }
    signed_in_admin.post(page_url(shop, "payments"), {"gateway_id": "worldpay"}, htmx=True)
    assert "worldpay" not in rows(signed_in_admin.get(page_url(shop, "payments")).text)


def test_an_unreachable_store_is_said_in_words_and_the_mappings_are_still_shown(
    signed_in_admin, webstore, codes
):
    db.session.add(
        WebstoreTaxMapping(
            webstore_id=webstore.id, rate_id=2, title="MwSt", vat_code_id=codes["DE19"]
        )
    )
    db.session.commit()

    page = signed_in_admin.get(page_url(webstore, "taxes"))

    assert page.status_code == 200
    error = page.text[page.text.index('id="store-error"') : page.text.index("</article>")]
    assert "The store's tax rates could not be read." in error
    assert UNREACHABLE in error
    assert rows(page.text) == {
        "2": {
            "mapped": True,
            "standing": "Mapped before (the store could not be asked)",
            "chosen": ["DE19 (19 %)"],
        }
    }
    assert "Map another tax rate" in page.text


def test_the_gateways_of_imported_orders_are_offered_while_the_store_is_out_of_reach(
    signed_in_admin, shop, store
):
    order = imported_order(shop, store)
    shop.base_url = "http://127.0.0.1:9"
    db.session.commit()

    page = signed_in_admin.get(page_url(shop, "payments")).text

    assert UNREACHABLE in page
    assert rows(page) == {
        order.payment_method: {"mapped": False, "standing": "On imported orders", "chosen": []}
    }
    assert order.payment_method_title in page


def test_the_tax_rates_of_imported_orders_are_offered_while_the_store_is_out_of_reach(
    signed_in_admin, shop
):
    run_import(shop)
    taxed_at = {
        part.rate_id: part.rate
        for parts in db.session.scalars(sa.select(SalesLine.vat_parts))
        for part in parts_from_json(parts)
    }
    # The rates of the sandbox's 60 orders (US, DE, GB; none to NL), none mapped.
    assert sorted(taxed_at) == [1, 2, 3]
    shop.base_url = "http://127.0.0.1:9"
    db.session.commit()

    page = signed_in_admin.get(page_url(shop, "taxes")).text

    assert UNREACHABLE in page
    assert rows(page) == {
        str(rate_id): {"mapped": False, "standing": "On imported orders", "chosen": []}
        for rate_id in (1, 2, 3)
    }
    assert f"<td>{taxed_at[2].normalize():f} %" in page


def test_a_gateway_both_listed_and_on_orders_is_listed_once(signed_in_admin, shop, store):
    order = imported_order(shop, store)

    listed = rows(signed_in_admin.get(page_url(shop, "payments")).text)

    assert list(listed) == ["bacs", "cheque", "cod", "stripe", "ppcp-gateway"]
    assert listed[order.payment_method]["standing"].endswith("; on imported orders")


def test_with_no_codes_to_choose_the_page_says_where_to_add_them(signed_in_admin, shop):
    page = signed_in_admin.get(page_url(shop, "shipping")).text

    assert "There are no shipment methods to map to yet" in page
    assert "There are no shipping agents to map to yet" in page


# Who may


def test_only_admins_map(signed_in_staff, shop, codes):
    assert signed_in_staff.get(page_url(shop, "payments")).status_code == 403
    response = signed_in_staff.post(
        page_url(shop, "payments"), {"gateway_id": "bacs", "payment_method_id": codes["BANK"]}
    )
    assert response.status_code == 403
    assert mappings(WebstorePaymentMapping) == []


def test_a_mapping_needs_the_pages_csrf_token(signed_in_admin, shop, codes):
    response = signed_in_admin.post(
        page_url(shop, "payments"),
        {"gateway_id": "bacs", "payment_method_id": codes["BANK"], "csrf_token": ""},
    )

    assert response.status_code == 400
    assert mappings(WebstorePaymentMapping) == []


def test_the_setup_list_links_each_webstores_mapping_pages(signed_in_admin, shop):
    listing = signed_in_admin.get("/setup/").text

    for kind in ("payments", "shipping", "taxes"):
        assert f'href="{page_url(shop, kind)}"' in listing


# The demo webstore, as `make run` sets it up


def test_the_demo_webstore_has_every_gateway_method_and_rate_of_the_sandbox_mapped(
    signed_in_admin, demo_webstore
):
    payments = rows(signed_in_admin.get(page_url(demo_webstore, "payments")).text)
    shipping = rows(signed_in_admin.get(page_url(demo_webstore, "shipping")).text)
    taxes = rows(signed_in_admin.get(page_url(demo_webstore, "taxes")).text)

    assert {key: row["chosen"] for key, row in payments.items()} == {
        "bacs": ["BANK (Bank transfer)"],
        "cheque": ["CHEQUE (Cheque)"],
        "cod": ["COD (Cash on delivery)"],
        "stripe": ["CARD (Credit card)"],
        "ppcp-gateway": ["PAYPAL (PayPal)"],
    }
    types = {key: row["chosen"] for key, row in shipping.items() if key.endswith("/")}
    assert types == {
        "flat_rate/": ["DELIVERY (Delivered to the customer)", "DHL (DHL Express)"],
        "free_shipping/": ["DELIVERY (Delivered to the customer)", "UPS (UPS)"],
        "local_pickup/": ["PICKUP (Collected by the customer)"],
        "pickup_location/": ["PICKUP (Collected by the customer)"],
    }
    assert all(
        "orders take the mapping of" in row["standing"]
        for key, row in shipping.items()
        if not key.endswith("/")
    )
    assert {key: row["chosen"] for key, row in taxes.items()} == {
        "1": ["US10 (10 %)"],
        "2": ["DE19 (19 %)"],
        "3": ["GB20 (20 %)"],
        "4": ["NL21 (21 %)"],
    }
    assert (demo_webstore.untaxed_vat_code.code, demo_webstore.reverse_charge_vat_code.code) == (
        "NOVAT",
        "RC",
    )


def test_seeding_the_demo_again_makes_nothing_twice_and_keeps_what_was_changed(app):
    demo = seed_demo_webstore("http://127.0.0.1:1", "ck_demo", "cs_demo")
    bacs = db.session.scalar(
        sa.select(WebstorePaymentMapping).where(WebstorePaymentMapping.gateway_id == "bacs")
    )
    bacs.payment_method = db.session.scalar(
        sa.select(PaymentMethod).where(PaymentMethod.code == "CARD")
    )
    db.session.commit()
    counted = (
        PaymentMethod,
        ShipmentMethod,
        ShippingAgent,
        VatCode,
        GLAccount,
        WebstorePaymentMapping,
        WebstoreShippingMapping,
        WebstoreTaxMapping,
    )
    before = {model: len(mappings(model)) for model in counted}

    again = seed_demo_webstore("http://127.0.0.1:1", "ck_demo", "cs_demo")

    assert again.id == demo.id
    assert {model: len(mappings(model)) for model in counted} == before
    assert before == {
        PaymentMethod: 5,
        ShipmentMethod: 2,
        ShippingAgent: 2,
        VatCode: 6,
        GLAccount: 3,
        WebstorePaymentMapping: 5,
        WebstoreShippingMapping: 4,
        WebstoreTaxMapping: 4,
    }
    bacs = db.session.scalar(
        sa.select(WebstorePaymentMapping).where(WebstorePaymentMapping.gateway_id == "bacs")
    )
    assert bacs.payment_method.code == "CARD"

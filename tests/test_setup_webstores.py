import re
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    CustomerHandling,
    CustomerTemplate,
    GLAccount,
    Item,
    ItemType,
    PaymentMethod,
    VatCode,
    Webstore,
)

SECRET = "cs_0123456789abcdef0123456789abcdef01234567"


def webstore_form(**overrides):
    data = {
        "code": "main",
        "name": "Main store",
        "base_url": "https://shop.example.com/",
        "consumer_key": "ck_0123456789abcdef0123456789abcdef01234567",
        "consumer_secret": SECRET,
        "api_version": "wc/v3",
        "timeout_seconds": "30",
        "verify_tls": "y",
        "sync_interval_minutes": "15",
        "default_status_filter": ["processing", "completed"],
        "order_start_date": "2026-01-01",
        "customer_handling": "map_by_email",
        "default_customer_template_id": str(default_template_id(CustomerTemplate)),
        "default_item_template_id": "1",
        "country_templates": "",
        "auto_create_customers": "y",
        "auto_create_items": "y",
        "shipping_charge_item_no": "",
    }
    data.update(overrides)
    return data


def default_template_id(model):
    return db.session.scalar(sa.select(model.id).where(model.code == "DEFAULT"))


def stored_webstore(code="MAIN") -> Webstore:
    db.session.expire_all()
    return db.session.scalar(sa.select(Webstore).where(Webstore.code == code))


def test_admin_creates_a_webstore_and_sees_it_listed(signed_in_admin):
    response = signed_in_admin.post("/setup/webstores/new", webstore_form())
    assert response.status_code == 302
    listing = signed_in_admin.get("/setup/")
    assert "MAIN" in listing.text and "Main store" in listing.text
    store = stored_webstore()
    assert store.base_url == "https://shop.example.com"
    assert store.status_filter == ("processing", "completed")
    assert str(store.order_start_date) == "2026-01-01"


def test_the_consumer_secret_is_stored_encrypted(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())
    raw = db.session.execute(sa.text("SELECT consumer_secret_encrypted FROM webstores")).scalar()
    assert SECRET.encode() not in bytes(raw)
    assert stored_webstore().consumer_secret == SECRET


def test_the_secret_never_appears_in_any_response(signed_in_admin):
    responses = [signed_in_admin.post("/setup/webstores/new", webstore_form())]
    store = stored_webstore()
    for path in ("/setup/", f"/setup/webstores/{store.id}", "/"):
        responses.append(signed_in_admin.get(path))
    responses.append(signed_in_admin.post(f"/setup/webstores/{store.id}", webstore_form(name="")))
    for response in responses:
        assert SECRET not in response.text


def test_a_blank_secret_on_edit_keeps_the_stored_one(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())
    store = stored_webstore()
    signed_in_admin.post(
        f"/setup/webstores/{store.id}", webstore_form(consumer_secret="", name="Renamed")
    )
    store = stored_webstore()
    assert store.name == "Renamed"
    assert store.consumer_secret == SECRET


def test_a_new_webstore_needs_a_secret(signed_in_admin):
    response = signed_in_admin.post("/setup/webstores/new", webstore_form(consumer_secret=""))
    assert response.status_code == 422
    assert "Enter the consumer secret" in response.text


def test_validation_errors_are_shown_beside_their_fields(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/webstores/new",
        webstore_form(
            code="bad code!",
            base_url="ftp://shop",
            timeout_seconds="0",
            default_status_filter="bogus",
        ),
    )
    assert response.status_code == 422
    page = response.text
    assert 'id="code-error"' in page and "Use 1 to 20 of the characters" in page
    assert 'id="base_url-error"' in page
    assert 'id="timeout_seconds-error"' in page
    assert 'id="default_status_filter-error"' in page
    assert stored_webstore("BAD CODE!") is None


def test_codes_are_upper_cased_and_unique(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form(code="eu-shop"))
    response = signed_in_admin.post("/setup/webstores/new", webstore_form(code="EU-SHOP"))
    assert response.status_code == 422
    assert "A webstore with code EU-SHOP exists already." in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Webstore)) == 1


def test_customer_templates_per_country_are_saved_and_shown(signed_in_admin):
    db.session.add(CustomerTemplate(code="EU", description="EU customers"))
    db.session.commit()
    signed_in_admin.post("/setup/webstores/new", webstore_form(country_templates="de = eu\nFR=EU"))
    store = stored_webstore()
    assert store.customer_template_for("DE").code == "EU"
    assert store.customer_template_for("US").code == "DEFAULT"
    page = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    assert "DE = EU" in page


def test_an_unknown_country_template_is_refused_inline(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/webstores/new", webstore_form(country_templates="DE = NOPE")
    )
    assert response.status_code == 422
    assert "There is no customer template NOPE." in response.text


def test_the_shipping_charge_item_must_exist(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/webstores/new", webstore_form(shipping_charge_item_no="I99999")
    )
    assert "There is no item I99999." in response.text
    db.session.add(Item(number="I90001", description="Shipping"))
    db.session.commit()
    signed_in_admin.post("/setup/webstores/new", webstore_form(shipping_charge_item_no="i90001"))
    assert stored_webstore().shipping_charge_item.number == "I90001"


def test_default_guest_handling_gives_the_webstore_its_guest_customer(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form(customer_handling="default_guest"))
    store = stored_webstore()
    assert store.customer_handling == CustomerHandling.DEFAULT_GUEST
    assert store.guest_customer.number == "C00001"
    assert store.guest_customer.name == "Main store guest customer"


def test_changing_the_order_start_date_resets_the_watermark(signed_in_admin):
    from datetime import UTC, datetime

    signed_in_admin.post("/setup/webstores/new", webstore_form())
    store = stored_webstore()
    store.watermark = datetime(2026, 5, 1, tzinfo=UTC)
    db.session.commit()
    signed_in_admin.post(
        f"/setup/webstores/{store.id}", webstore_form(consumer_secret="", name="Same")
    )
    assert stored_webstore().watermark is not None
    signed_in_admin.post(
        f"/setup/webstores/{store.id}",
        webstore_form(consumer_secret="", order_start_date="2026-03-01"),
    )
    assert stored_webstore().watermark is None


def test_admin_deletes_a_webstore(signed_in_admin, webstore):
    response = signed_in_admin.post(f"/setup/webstores/{webstore.id}/delete")
    assert response.status_code == 302
    assert stored_webstore() is None


def test_staff_cannot_change_webstores(signed_in_staff, webstore):
    assert signed_in_staff.post(f"/setup/webstores/{webstore.id}/delete").status_code == 403
    assert signed_in_staff.post("/setup/webstores/new", webstore_form()).status_code == 403


def test_admin_edits_templates(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/templates/customer/new",
        {"code": "eu", "description": "EU", "payment_terms": "14d", "currency": "eur"},
    )
    assert response.status_code == 302
    template = db.session.scalar(sa.select(CustomerTemplate).where(CustomerTemplate.code == "EU"))
    assert template.currency == "EUR" and template.payment_terms == "14D"
    page = signed_in_admin.get("/setup/templates").text
    assert "EU" in page and "DEFAULT" in page
    bad = signed_in_admin.post("/setup/templates/item/new", {"code": "", "item_type": "service"})
    assert bad.status_code == 422


def test_a_new_webstore_imports_paid_orders_by_default(signed_in_admin):
    page = signed_in_admin.get("/setup/webstores/new").text

    statuses = page[page.index('id="default_status_filter"') :]
    statuses = statuses[: statuses.index("</select>")]
    selected = re.findall(r'<option selected value="([a-z-]+)">', statuses)
    assert selected == ["processing", "completed"]


def test_a_new_webstore_gets_the_item_for_lines_without_a_product(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())

    item = stored_webstore().no_product_item
    assert (item.sku, item.item_type, item.description) == (
        "NO-PRODUCT",
        ItemType.NON_INVENTORY,
        "Webstore line without a product",
    )


def test_the_item_for_lines_without_a_product_can_be_chosen_and_must_exist(signed_in_admin):
    response = signed_in_admin.post(
        "/setup/webstores/new", webstore_form(no_product_item_no="I99999")
    )
    assert response.status_code == 422
    assert "There is no item I99999." in response.text
    db.session.add(Item(number="I90002", description="Sundries", item_type=ItemType.SERVICE))
    db.session.commit()

    signed_in_admin.post("/setup/webstores/new", webstore_form(no_product_item_no="i90002"))

    assert stored_webstore().no_product_item.number == "I90002"
    page = signed_in_admin.get(f"/setup/webstores/{stored_webstore().id}").text
    assert 'name="no_product_item_no" type="text" value="I90002"' in page


def test_the_demo_webstore_has_both_charge_items_and_imports_paid_orders(app):
    from portal.setup.demo import seed_demo_webstore

    webstore = seed_demo_webstore("http://127.0.0.1:1", "ck_demo", "cs_demo")

    assert (webstore.shipping_charge_item.sku, webstore.no_product_item.sku) == (
        "SHIPPING",
        "NO-PRODUCT",
    )
    assert webstore.status_filter == ("processing", "completed")


# A setup that guides: charge items made in place, and what is still missing


def test_the_standard_shipping_item_is_created_in_place_once(signed_in_admin):
    first = signed_in_admin.post("/setup/charge-items/shipping", headers={"HX-Request": "true"})
    again = signed_in_admin.post("/setup/charge-items/shipping", headers={"HX-Request": "true"})

    [item] = db.session.scalars(sa.select(Item).where(Item.sku == "SHIPPING"))
    assert (item.item_type, item.description) == (ItemType.SERVICE, "Shipping and handling")
    assert first.status_code == again.status_code == 200
    # The answer is the field, filled with the new item's number, to save with the form.
    assert first.text.lstrip().startswith('<div id="shipping_charge_item_no-field"')
    assert f'name="shipping_charge_item_no" type="text" value="{item.number}"' in first.text
    assert f"Item {item.number} (Shipping and handling) is ready." in first.text
    assert f'value="{item.number}"' in again.text


def test_the_item_for_lines_without_a_product_is_created_in_place(signed_in_admin):
    answer = signed_in_admin.post("/setup/charge-items/no-product")

    item = db.session.scalar(sa.select(Item).where(Item.sku == "NO-PRODUCT"))
    assert item.item_type == ItemType.NON_INVENTORY
    assert f'name="no_product_item_no" type="text" value="{item.number}"' in answer.text


def test_only_the_standard_charge_items_are_created_in_place(signed_in_admin):
    assert signed_in_admin.post("/setup/charge-items/gift-wrap").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_staff_may_not_create_charge_items_in_the_setup(signed_in_staff):
    assert signed_in_staff.post("/setup/charge-items/shipping").status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Item)) == 0


def test_a_new_webstore_starts_with_the_standard_shipping_item_where_there_is_one(
    signed_in_admin,
):
    without = signed_in_admin.get("/setup/webstores/new").text
    signed_in_admin.post("/setup/charge-items/shipping")
    number = db.session.scalar(sa.select(Item.number).where(Item.sku == "SHIPPING"))

    page = signed_in_admin.get("/setup/webstores/new").text

    assert 'name="shipping_charge_item_no" type="text" value=""' in without
    assert f'name="shipping_charge_item_no" type="text" value="{number}"' in page
    # Items that are not stock are offered to choose from.
    assert f'<option value="{number}">{number} Shipping and handling</option>' in page


def test_the_setup_page_says_what_is_missing_before_an_import_can_run(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())
    store = stored_webstore()

    page = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    listing = signed_in_admin.get("/setup/").text

    missing = page[page.index('class="setup-missing"') : page.index("</article>")]
    assert "Before MAIN can import orders" in missing
    assert '<a href="#shipping_charge_item_no">Shipping charge item no.</a>' in missing
    assert "every order with shipping would fail" in missing
    assert "lines without a product" not in missing  # the standard one was made on save
    assert "setup incomplete" in listing

    signed_in_admin.post("/setup/charge-items/shipping")
    number = db.session.scalar(sa.select(Item.number).where(Item.sku == "SHIPPING"))
    signed_in_admin.post(
        f"/setup/webstores/{store.id}",
        webstore_form(consumer_secret="", shipping_charge_item_no=number),
    )

    ready = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    assert 'class="setup-missing"' not in ready
    assert "Everything an import needs is set up." in ready
    assert "setup incomplete" not in signed_in_admin.get("/setup/").text


def test_store_changes_apply_to_open_orders_only_where_the_setup_says_so(signed_in_admin):
    signed_in_admin.post("/setup/webstores/new", webstore_form())
    store = stored_webstore()
    page = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    assert store.apply_store_changes is False
    assert 'name="apply_store_changes"' in page and "Apply store changes to open orders" in page

    signed_in_admin.post(
        f"/setup/webstores/{store.id}",
        webstore_form(consumer_secret="", apply_store_changes="y"),
    )

    assert stored_webstore().apply_store_changes is True


# Accounting: how the store's orders are booked


def accounting_records():
    """The ERP's codes and accounts a webstore's accounting setup chooses from."""
    records = {
        "bank": PaymentMethod(code="BANK", description="Bank transfer"),
        "novat": VatCode(code="NOVAT", rate=Decimal("0"), description="No VAT"),
        "rc": VatCode(code="RC", rate=Decimal("0"), description="Reverse charge"),
        "freight": GLAccount(number="4400", name="Shipping charges"),
        "fees": GLAccount(number="4500", name="Fees and surcharges"),
        "discounts": GLAccount(number="4900", name="Sales discounts"),
        "fee_item": Item(number="I70001", description="Payment fee", item_type=ItemType.SERVICE),
    }
    db.session.add_all(records.values())
    db.session.commit()
    return records


def test_the_accounting_setup_is_saved_and_shown_again(signed_in_admin):
    r = accounting_records()

    response = signed_in_admin.post(
        "/setup/webstores/new",
        webstore_form(
            require_mappings="y",
            default_payment_method_id=str(r["bank"].id),
            untaxed_vat_code_id=str(r["novat"].id),
            reverse_charge_vat_code_id=str(r["rc"].id),
            shipping_booking="account",
            shipping_account_id=str(r["freight"].id),
            fee_booking="item",
            fee_item_no="i70001",
            fee_account_id=str(r["fees"].id),
            negative_fee_booking="account",
            negative_fee_account_id=str(r["discounts"].id),
        ),
    )

    assert response.status_code == 302
    store = stored_webstore()
    assert store.require_mappings is True
    assert store.default_payment_method.code == "BANK"
    assert (store.untaxed_vat_code.code, store.reverse_charge_vat_code.code) == ("NOVAT", "RC")
    assert (store.shipping_booking, store.shipping_account.number) == ("account", "4400")
    assert (store.fee_booking, store.fee_item.number, store.fee_account.number) == (
        "item",
        "I70001",
        "4500",
    )
    assert (store.negative_fee_booking, store.negative_fee_account.number) == ("account", "4900")
    page = signed_in_admin.get(f"/setup/webstores/{store.id}").text
    accounting = page[
        page.index('id="accounting-settings"') : page.index('id="writeback-settings"')
    ]
    assert f'<option selected value="{r["bank"].id}">BANK (Bank transfer)</option>' in accounting
    assert f'<option selected value="{r["rc"].id}">RC (0 %)</option>' in accounting
    assert (
        f'<option selected value="{r["freight"].id}">4400 Shipping charges</option>' in accounting
    )
    assert '<option selected value="account">On a G/L account</option>' in accounting
    assert 'name="fee_item_no" type="text" value="I70001"' in accounting
    assert '<input checked id="require_mappings"' in accounting


def test_a_new_webstore_imports_unmapped_codes_as_none_unless_told_to_fail(signed_in_admin):
    form = signed_in_admin.get("/setup/webstores/new").text
    assert '<input id="require_mappings" name="require_mappings" role="switch"' in form
    assert (
        "Off: such an order is imported all the same, and what is not mapped carries no code "
        "on it" in form
    )

    signed_in_admin.post("/setup/webstores/new", webstore_form())

    store = stored_webstore()
    assert store.require_mappings is False
    assert (store.shipping_booking, store.fee_booking, store.negative_fee_booking) == (
        "item",
        "item",
        "discount",
    )
    assert store.default_payment_method is None and store.untaxed_vat_code is None


def test_a_charge_booked_on_an_account_needs_the_account_beside_its_field(signed_in_admin):
    accounting_records()

    response = signed_in_admin.post(
        "/setup/webstores/new",
        webstore_form(shipping_booking="account", negative_fee_booking="account"),
    )

    assert response.status_code == 422
    assert stored_webstore() is None
    page = response.text
    assert (
        '<small class="field-error" id="shipping_account_id-error">Choose the G/L account '
        "shipping is booked on, or book shipping on the shipping charge item.</small>" in page
    )
    assert (
        '<small class="field-error" id="negative_fee_account_id-error">Choose the G/L account '
        "negative fees are booked on, or book negative fees as a discount.</small>" in page
    )
    assert 'id="fee_account_id-error"' not in page


def test_with_no_accounts_at_all_the_error_says_where_to_add_them(signed_in_admin):
    response = signed_in_admin.post("/setup/webstores/new", webstore_form(fee_booking="account"))

    assert response.status_code == 422
    assert (
        "There are no G/L accounts yet: add them under Accounting &gt; G/L Accounts, or book "
        "fees on the fee item." in response.text
    )


def test_the_fee_item_must_exist(signed_in_admin):
    response = signed_in_admin.post("/setup/webstores/new", webstore_form(fee_item_no="I404"))

    assert response.status_code == 422
    assert "There is no item I404." in response.text
    assert stored_webstore() is None


def test_the_webstore_page_links_its_mapping_pages(signed_in_admin, webstore):
    page = signed_in_admin.get(f"/setup/webstores/{webstore.id}").text

    links = page[page.index('id="mapping-pages"') :]
    for path, label in [
        ("payments", "Payment methods"),
        ("shipping", "Shipping methods"),
        ("taxes", "Tax rates"),
    ]:
        assert f'<a href="/setup/webstores/{webstore.id}/mappings/{path}">{label}</a>' in links

"""A webstore's payment gateways mapped in a real browser: from the webstore's setup page to
its mapping page, a gateway mapped and removed in place, with HTMX, the page not reloaded."""

from playwright.sync_api import expect

from portal import db
from portal.models import PaymentMethod, Webstore, WebstorePaymentMapping
from tests.conftest import screenshot, sign_in_browser
from tests.test_setup_mappings import mappings


def test_an_admin_maps_a_gateway_in_place_and_removes_it_again(page, admin_user, store):
    webstore = Webstore(
        code="SHOP", name="Shop", base_url=store.base_url, consumer_key=store.consumer_key
    )
    webstore.consumer_secret = store.consumer_secret
    db.session.add_all([webstore, PaymentMethod(code="BANK", description="Bank transfer")])
    db.session.commit()
    sign_in_browser(page, admin_user.username)

    page.goto(f"/setup/webstores/{webstore.id}")
    page.locator("#mapping-pages").get_by_role("link", name="Payment methods").click()
    expect(page.get_by_role("heading", name="Payment methods of SHOP")).to_be_visible()
    page.wait_for_load_state("load")
    url = page.url
    row = page.locator('tr[data-key="bacs"]')
    row.get_by_label("Payment method").select_option(label="BANK (Bank transfer)")
    row.get_by_role("button", name="Save").click()

    expect(row).to_contain_text("Saved: bacs maps to payment method BANK (Bank transfer).")
    screenshot(page, "mappings-payments")
    assert page.url == url  # answered in place
    [mapping] = mappings(WebstorePaymentMapping)
    assert mapping.gateway_id == "bacs" and mapping.payment_method.code == "BANK"

    row.get_by_role("button", name="Remove").click()

    expect(row).to_contain_text("Saved: bacs is not mapped now.")
    expect(row.get_by_role("button", name="Remove")).to_have_count(0)
    assert page.url == url

    page.get_by_role("navigation", name="Mappings of SHOP").get_by_role(
        "link", name="Shipping methods"
    ).click()
    expect(page.get_by_role("heading", name="Shipping methods of SHOP")).to_be_visible()
    flat_rate = page.locator('tr[data-key="flat_rate/1"]')
    expect(flat_rate).to_contain_text("Zone: United States")
    expect(flat_rate.get_by_label("Shipment method")).to_have_value("")
    expect(flat_rate.get_by_label("Shipping agent")).to_have_value("")
    screenshot(page, "mappings-shipping")

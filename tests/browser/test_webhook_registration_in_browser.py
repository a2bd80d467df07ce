"""An admin registers the portal's webhooks from the webstore's page, in a real browser."""

from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser


def test_the_section_loads_the_store_state_and_the_button_registers_behaviour(
    app, page, admin_user, demo_webstore, store
):
    app.config["PUBLIC_URL"] = "https://portal.example.com"
    sign_in_browser(page, admin_user.username)
    page.goto(f"/setup/webstores/{demo_webstore.id}")

    created = page.locator("#webhook-order-created")
    expect(created).to_have_attribute("data-state", "missing")
    page.get_by_role("button", name="Register webhooks in the store").click()

    expect(created).to_have_attribute("data-state", "active")
    expect(page.locator("#webhook-order-updated")).to_have_attribute("data-state", "active")
    expect(page.get_by_role("status")).to_contain_text("The store has both webhooks, active")
    screenshot(page, "setup-webhooks-registered")

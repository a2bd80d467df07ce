"""Test connection in a real browser: the answer appears in place, for saved and typed settings."""

from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser


def test_test_connection_shows_the_store_in_place(page, admin_user, demo_webstore):
    sign_in_browser(page, admin_user.username)
    edit_url = f"/setup/webstores/{demo_webstore.id}"
    page.goto(edit_url)
    result = page.locator("#connection-result")

    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("Connected.")
    expect(result).to_contain_text("10.0.2")
    expect(result).to_contain_text("USD")
    expect(result).to_contain_text("America/New_York")
    screenshot(page, "setup-test-connection")

    page.get_by_label("Consumer key").fill("ck_typed_but_wrong")
    page.get_by_role("button", name="Test connection").click()
    expect(result).to_contain_text("The store does not know this consumer key")
    expect(result).to_contain_text("not saved yet")
    assert page.url.endswith(edit_url)  # answered in place, no page load

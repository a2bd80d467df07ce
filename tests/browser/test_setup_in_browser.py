"""A new admin's first minutes, in a real browser."""

from playwright.sync_api import expect

from tests.conftest import screenshot, sign_in_browser


def test_admin_signs_in_creates_a_webstore_and_sees_it_listed(page, admin_user):
    sign_in_browser(page, admin_user.username)
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("button", name="New webstore").click()

    page.get_by_label("Code").fill("eu")
    page.get_by_label("Name").fill("EU shop")
    page.get_by_label("Store URL").fill("https://eu.shop.example")
    page.get_by_label("Consumer key").fill("ck_browser")
    page.get_by_label("Consumer secret").fill("cs_browser_secret")
    page.get_by_label("Default order status filter").select_option(["processing", "completed"])
    screenshot(page, "setup-new-webstore")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Webstore EU saved.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="EU shop")
    expect(row).to_contain_text("processing, completed")
    screenshot(page, "setup-webstores")
    assert "cs_browser_secret" not in page.content()


def test_a_form_error_is_shown_beside_its_field(page, admin_user):
    sign_in_browser(page, admin_user.username)
    page.goto("/setup/webstores/new")
    page.get_by_label("Code").fill("not valid!")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#code-error")).to_contain_text("Use 1 to 20 of the characters")
    expect(page.get_by_label("Code")).to_have_attribute("aria-invalid", "true")


def test_a_viewer_sees_no_admin_actions(page, viewer_user):
    sign_in_browser(page, viewer_user.username)
    page.goto("/setup/")
    expect(page.get_by_role("heading", name="Webstores")).to_be_visible()
    expect(page.get_by_text("New webstore")).to_have_count(0)

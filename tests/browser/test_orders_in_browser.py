"""Webstore Sales Orders in a real browser: search, open, post; markup from the store stays
text; the keyboard and a phone-width screen can do it all."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from portal import db
from portal.models import Item, LineType, SalesLine
from tests.conftest import screenshot, sign_in_browser
from tests.test_orders_pages import IMG_NAME, SCRIPT_NAME, make_order

PHONE = {"width": 375, "height": 812}


def with_line(order, description="Classic Mug", sku=None):
    sku = sku or f"MUG-{order.id}"
    db.session.add(
        SalesLine(
            sales_order=order,
            line_no=1,
            line_type=LineType.ITEM,
            item=Item(number=f"I{order.id:05d}", description=description, sku=sku),
            description=description,
            sku=sku,
            quantity=Decimal(2),
            unit_price=Decimal("12.50"),
            amount=Decimal(25),
            tax_amount=Decimal("4.75"),
        )
    )
    db.session.commit()
    return order


@pytest.fixture
def orders(webstore):
    made = [
        with_line(
            make_order(
                webstore,
                name=name,
                email=f"{name.split()[0].lower()}@example.org",
                order_date=date(2025, 5, day),
                amount_including_tax=Decimal("29.75"),
                sell_to_city="Arlington",
                ship_to_name=name,
                ship_to_city="Arlington",
            )
        )
        for day, name in enumerate(["Grace Hopper", "Alan Turing", "Barbara Liskov"], start=1)
    ]
    return {o.sell_to_name: o for o in made}


def test_staff_find_an_order_by_search_open_it_and_post_it(page, live_server, staff_user, orders):
    grace = orders["Grace Hopper"]
    sign_in_browser(page, staff_user.username)
    expect(page.get_by_role("heading", name="Webstore Sales Orders")).to_be_visible()
    expect(page.locator("#orders-table tbody tr")).to_have_count(3)
    screenshot(page, "orders-list")
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("link", name="Customer", exact=True).click()
    expect(page).to_have_url(f"{live_server}/?sort=customer")
    expect(page.locator("#orders-table tbody tr").first).to_contain_text("Alan Turing")
    page.get_by_label("Search", exact=True).press_sequentially("hopper")

    expect(page.locator("#orders-table tbody tr")).to_have_count(1)
    expect(page).to_have_url(f"{live_server}/?q=hopper&sort=customer")  # the sort is kept
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no page load
    page.get_by_role("link", name=grace.number).click()

    expect(page.get_by_role("heading", name=f"Sales order {grace.number}")).to_be_visible()
    expect(page.get_by_text("Classic Mug").first).to_be_visible()
    screenshot(page, "order-page")
    page.get_by_role("button", name="Post…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Post sales order {grace.number}?")
    screenshot(page, "order-post-confirmation")
    dialog.get_by_role("button", name=f"Post {grace.number}").click()

    expect(page.get_by_text(f"Sales order {grace.number} posted.")).to_be_visible()
    expect(page.locator("h1 .order-status")).to_have_text("posted")
    expect(page.get_by_role("button", name="Post…")).to_have_count(0)


def test_the_keyboard_finds_an_order_with_alt_q_and_opens_and_cancels_its_confirmation(
    page, staff_user, orders
):
    alan = orders["Alan Turing"]
    sign_in_browser(page, staff_user.username)
    page.goto("/setup/")

    page.keyboard.press("Alt+q")
    expect(page.get_by_label("Search pages and sales orders")).to_be_focused()
    page.keyboard.type(alan.number.lower())
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=f"Sales order {alan.number}")).to_be_visible()
    # The heading shows before the page's deferred script binds the confirmation dialog:
    # Enter before then submits the form to the page that asks without JavaScript.
    page.wait_for_load_state()

    page.get_by_role("button", name="Delete…").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("button", name="Cancel")).to_be_focused()  # the safe default
    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.locator("h1 .order-status")).to_have_text("open")


def test_without_javascript_an_action_asks_on_its_own_page(
    browser, live_server, staff_user, orders
):
    alan = orders["Alan Turing"]
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    page = context.new_page()
    try:
        sign_in_browser(page, staff_user.username)
        page.goto(f"/orders/{alan.id}")

        page.get_by_role("button", name="Release…").click()
        expect(
            page.get_by_role("heading", name=f"Release sales order {alan.number}?")
        ).to_be_visible()
        page.get_by_role("button", name=f"Release {alan.number}").click()

        expect(page.get_by_text(f"Sales order {alan.number} released.")).to_be_visible()
    finally:
        context.close()


def test_names_holding_markup_show_as_text_and_run_nothing(
    page, live_server, viewer_user, webstore
):
    order = with_line(
        make_order(
            webstore,
            name=SCRIPT_NAME,
            ship_to_name=IMG_NAME,
            ship_to_city=SCRIPT_NAME,
            customer_note=IMG_NAME,
            change_warning=IMG_NAME,
        ),
        description=IMG_NAME,
        sku=SCRIPT_NAME,
    )
    sign_in_browser(page, viewer_user.username)

    expect(page.locator("#orders-table")).to_contain_text(SCRIPT_NAME)
    page.get_by_label("Search", exact=True).press_sequentially("script")  # the HTMX fragment
    expect(page).to_have_url(f"{live_server}/?q=script")
    expect(page.locator("#orders-table")).to_contain_text(SCRIPT_NAME)
    assert page.evaluate("typeof window.__xss") == "undefined"

    page.get_by_role("link", name=order.number).click()
    expect(page.get_by_text(IMG_NAME).first).to_be_visible()
    expect(page.get_by_text(SCRIPT_NAME).first).to_be_visible()
    assert page.locator("img").count() == 0
    assert page.evaluate("typeof window.__xss") == "undefined"
    screenshot(page, "order-page-with-markup-in-names")

    page.goto(f"/search?q={order.number[:4]}")
    expect(page.get_by_text(SCRIPT_NAME)).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"


def test_the_list_and_an_order_read_on_a_phone(page, staff_user, orders):
    grace = orders["Grace Hopper"]
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(PHONE)

    page.goto("/")
    expect(page.get_by_label("Search", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=grace.number)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "orders-list-phone")

    page.goto(f"/orders/{grace.id}")
    expect(page.get_by_role("button", name="Post…")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "order-page-phone")

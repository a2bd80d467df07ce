"""The frame around every page in a real browser: no page wider than a phone, a nav that
folds into a menu there and stays in one row on a laptop, the header's search with its
typeahead, and errors inside the layout."""

import re
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.models import Customer, Item, SalesLine, SalesOrder, SyncRun
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import run_import
from tests.test_orders_pages import make_order

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
NAV_LINKS = ["Webstore Sales Orders", "Sales Credit Memos", "Import Webstore Orders"]
NAV_LINKS += ["Import Results", "Webstore Orders", "Posted Documents"]
NAV_LINKS += ["Customers", "Items", "Setup"]


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def wider_than_the_screen(page) -> list[str]:
    """What sticks out to the right of the screen, for the message of a failing test."""
    return page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
            .filter(e => !e.closest('.overflow-auto') || e.matches('.overflow-auto'))
            .slice(0, 5)
            .map(e => `${e.tagName}.${e.className} ${e.textContent.trim().slice(0, 40)}`)"""
    )


@pytest.fixture
def imported(demo_webstore, snapshots) -> SyncRun:
    """The demo store's 60 orders imported, one of them after failing once: imported by the
    first test that asks, copied for the others (which read them)."""

    def import_them() -> int:
        demo_webstore.auto_create_items = False
        db.session.commit()
        failed = run_import(demo_webstore, order_id=44)
        assert failed.failed == 1
        demo_webstore.auto_create_items = True
        db.session.commit()
        run = run_import(demo_webstore)
        assert run.imported == 60
        return run.id

    return db.session.get(SyncRun, snapshots.take("demo imported, 44 failed once", import_them))


def htmx_settled(page) -> None:
    """Wait for the page's fragments loaded after it (htmx marks each request under way)."""
    page.wait_for_function(
        "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"
    )


def main_pages(webstore, run) -> list[str]:
    order = db.session.scalar(sa.select(SalesOrder).order_by(SalesOrder.id).limit(1))
    customer = db.session.scalar(sa.select(Customer).order_by(Customer.id).limit(1))
    item = db.session.scalar(sa.select(Item).order_by(Item.id).limit(1))
    return [
        "/",
        "/imports/new",
        "/imports/",
        f"/imports/runs/{run.id}",
        "/customers",
        f"/customers/{customer.id}",
        "/items",
        f"/items/{item.id}",
        "/setup/",
        f"/setup/webstores/{webstore.id}",
        "/setup/templates",
        "/setup/users",
        f"/orders/{order.id}",
        "/customers/mappings",
        "/items/mappings",
    ]


def test_no_main_page_scrolls_sideways_on_a_phone(page, admin_user, demo_webstore, imported):
    sign_in_browser(page, admin_user.username)
    page.set_viewport_size(PHONE)

    too_wide = {}
    for url in main_pages(demo_webstore, imported):
        page.goto(url)
        htmx_settled(page)
        if page_width(page) > PHONE["width"]:
            too_wide[url] = (page_width(page), wider_than_the_screen(page))
        screenshot(page, "phone" + (url.rstrip("/").replace("/", "-") or "-orders"))

    assert too_wide == {}


def test_no_main_page_scrolls_sideways_on_a_laptop(page, admin_user, demo_webstore, imported):
    sign_in_browser(page, admin_user.username)
    page.set_viewport_size(LAPTOP)

    too_wide = {}
    for url in main_pages(demo_webstore, imported):
        page.goto(url)
        if page_width(page) > LAPTOP["width"]:
            too_wide[url] = (page_width(page), wider_than_the_screen(page))

    assert too_wide == {}


# Each match of the pattern in the page's main part that the browser set on more than one line.
BROKEN = """pattern => {
  const re = new RegExp(pattern, "g"), broken = [];
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const match of node.textContent.matchAll(re)) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
      if (lines.size > 1) broken.push(match[0]);
    }
  }
  return broken;
}"""
ORDER_NO = r"\bSO\d{5}\b"
DATE = r"\b\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?\b"


def test_codes_and_dates_never_break_on_a_phone(page, admin_user, demo_webstore, imported):
    demo_webstore.order_start_date = date(2025, 1, 1)
    demo_webstore.watermark = datetime(2026, 11, 30, 23, 59, 58, tzinfo=UTC)
    db.session.commit()
    line = db.session.scalar(sa.select(SalesLine).where(SalesLine.item_id.is_not(None)).limit(1))
    order = db.session.get(SalesOrder, line.sales_order_id)
    sign_in_browser(page, admin_user.username)
    page.set_viewport_size(PHONE)

    page.goto("/setup/")
    expect(page.get_by_role("link", name="DEMO", exact=True)).to_be_visible()
    expect(page.locator("main table time")).to_have_count(2)
    assert page.evaluate(BROKEN, r"\bDEMO\b") == []  # not "DEM" over "O"
    assert page.evaluate(BROKEN, DATE) == []
    for url in ("/", f"/customers/{order.customer_id}", f"/items/{line.item_id}"):
        page.goto(url)
        expect(page.locator("main a", has_text=re.compile(ORDER_NO)).first).to_be_visible()
        assert page.evaluate(BROKEN, ORDER_NO) == [], url  # not "SO000" over "12"


def test_on_a_phone_the_nav_folds_into_a_menu(page, staff_user):
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(PHONE)
    page.goto("/")
    menu = page.locator(".site-menu > summary")

    expect(page.get_by_role("link", name="Setup")).to_be_hidden()
    expect(page.get_by_label("Search pages and sales orders, customers and items")).to_be_visible()
    menu.focus()
    page.keyboard.press("Enter")
    nav = page.get_by_role("navigation", name="Main")
    for name in NAV_LINKS:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name="Sign out staff-user")).to_be_visible()
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "phone-menu-open")

    page.keyboard.press("Tab")
    page.keyboard.press("Escape")
    expect(page.get_by_role("link", name="Setup")).to_be_hidden()
    expect(menu).to_be_focused()

    menu.click()
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Customers", exact=True)).to_be_hidden()  # closed


def test_on_a_laptop_the_nav_shows_in_one_row_under_the_search(page, staff_user):
    sign_in_browser(page, staff_user.username)
    page.goto("/")

    for size in (LAPTOP, {"width": 1024, "height": 768}, {"width": 1920, "height": 1080}):
        page.set_viewport_size(size)
        expect(page.locator(".site-menu > summary")).to_be_hidden()
        nav = page.get_by_role("navigation", name="Main")
        middles = {}
        for name in NAV_LINKS:
            link = nav.get_by_role("link", name=name, exact=True)
            expect(link).to_be_visible()
            middles[name] = middle(link.bounding_box())
        middles["sign out"] = middle(
            page.get_by_role("button", name="Sign out staff-user").bounding_box()
        )
        search = page.get_by_label("Search pages and sales orders").bounding_box()
        brand = page.get_by_role("link", name="Webstore Connector").bounding_box()
        header = page.locator("header.site-header").bounding_box()
        screenshot(page, f"laptop-header-{size['width']}")
        # The links and Sign out in one row, the brand and the search in one above it.
        assert max(middles.values()) - min(middles.values()) < 5, (size, middles)
        assert abs(middle(search) - middle(brand)) < 5, size
        assert search["y"] + search["height"] < min(middles.values()), size
        assert header["height"] < 150, (size, header)  # two rows; three would be 190


def middle(box: dict) -> float:
    return box["y"] + box["height"] / 2


# What a box shows of its placeholder and value: whether the text fits inside its padding.
FITS = """box => {
  const style = getComputedStyle(box), canvas = document.createElement("canvas");
  const context = canvas.getContext("2d");
  context.font = `${style.fontSize} ${style.fontFamily}`;
  const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return {room, placeholder: context.measureText(box.placeholder).width,
          value: context.measureText(box.value).width};
}"""


def test_on_a_laptop_the_search_shows_its_placeholder_and_what_is_typed(page, staff_user):
    sign_in_browser(page, staff_user.username)
    page.set_viewport_size(LAPTOP)
    box = page.get_by_label("Search pages and sales orders, customers and items")

    expect(box).to_have_attribute("placeholder", "Search (Alt+Q)")
    shown = box.evaluate(FITS)
    assert shown["placeholder"] < shown["room"], shown  # not "Search (Al"
    box.fill("Noé Pastor-Villanueva, #600")
    shown = box.evaluate(FITS)
    assert shown["value"] < shown["room"], shown  # a name and a number typed, all in sight
    assert box.evaluate("b => b.scrollWidth <= b.clientWidth")
    screenshot(page, "laptop-header-search-typed")


# The header's search


@pytest.fixture
def holgers(webstore):
    holger = Customer(number="C07001", name="Holger Brandt", email="holger@example.de")
    db.session.add(holger)
    order = make_order(webstore, name="Holger Brandt", customer=holger, order_date=date(2025, 5, 2))
    make_order(webstore, name="Ada Lovelace")
    db.session.add(Item(number="I07001", description="Holger's mug", sku="MUG-HB"))
    db.session.commit()
    return order


def test_the_header_search_finds_a_customer_by_name_as_one_types(page, viewer_user, holgers):
    sign_in_browser(page, viewer_user.username)
    box = page.get_by_label("Search pages and sales orders, customers and items")
    results = page.locator("#global-search-results")

    box.press_sequentially("holg")

    expect(results).to_be_visible()
    expect(results.get_by_role("link", name=f"{holgers.number} Holger Brandt")).to_be_visible()
    expect(results.get_by_role("link", name="C07001 Holger Brandt")).to_be_visible()
    expect(results.get_by_role("link", name="I07001 Holger's mug")).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#global-search-status")).to_have_text(
        "1 sales order, 1 customer and 1 item."
    )
    panel = results.bounding_box()
    assert panel["x"] >= 0 and panel["x"] + panel["width"] <= page.viewport_size["width"]
    screenshot(page, "header-search-typeahead")

    box.press("ArrowDown")  # the keyboard walks the findings
    expect(results.get_by_role("link", name=f"{holgers.number} Holger Brandt")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(results.get_by_role("link", name="C07001 Holger Brandt")).to_be_focused()
    page.keyboard.press("Escape")
    expect(results).to_be_hidden()
    expect(box).to_be_focused()
    expect(box).to_have_value("holg")
    expect(box).to_have_attribute("aria-expanded", "false")

    box.press_sequentially("er")
    results.get_by_role("link", name="C07001 Holger Brandt").click()
    expect(page.get_by_role("heading", name="Customer C07001")).to_be_visible()


def test_the_typeahead_says_when_nothing_matches(page, viewer_user, holgers):
    sign_in_browser(page, viewer_user.username)
    page.set_viewport_size(PHONE)

    page.get_by_label("Search pages and sales orders").press_sequentially("zebra")

    expect(page.locator("#global-search-results")).to_have_text(
        "No sales orders, customers or items match “zebra”."
    )
    assert page_width(page) <= PHONE["width"]


def test_enter_opens_the_search_page_with_every_kind(page, viewer_user, holgers):
    sign_in_browser(page, viewer_user.username)

    page.get_by_label("Search pages and sales orders").fill("holger")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Search: “holger”")).to_be_visible()
    for kind in ("Sales orders", "Customers", "Items"):
        expect(page.get_by_role("heading", name=kind, exact=True)).to_be_visible()
    expect(page.locator("main").get_by_role("link", name="C07001 Holger Brandt")).to_be_visible()


# Errors and roles


def test_error_pages_sit_inside_the_layout_with_the_nav(page, viewer_user):
    sign_in_browser(page, viewer_user.username)
    page.set_viewport_size(LAPTOP)

    response = page.goto("/imports/new")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Forbidden")).to_be_visible()
    expect(
        page.get_by_text("This needs the staff role; you are signed in as viewer.")
    ).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("link", name="Import Results")).to_be_visible()
    screenshot(page, "error-403")

    response = page.goto("/orders/424242")
    assert response.status == 404
    expect(page.get_by_role("heading", name="Not Found")).to_be_visible()
    expect(page.get_by_text("There is no sales order 424242.")).to_be_visible()
    expect(page.get_by_label("Search pages and sales orders")).to_be_visible()
    screenshot(page, "error-404")


def test_a_viewers_nav_holds_no_page_they_may_not_open(page, viewer_user):
    sign_in_browser(page, viewer_user.username)
    page.set_viewport_size(LAPTOP)
    nav = page.get_by_role("navigation", name="Main")

    expect(nav.get_by_role("link", name="Import Results")).to_be_visible()
    expect(nav.get_by_role("link", name="Import Webstore Orders")).to_have_count(0)
    hrefs = nav.get_by_role("link").evaluate_all("links => links.map(a => a.href)")
    assert len(hrefs) == 8
    for href in hrefs:
        assert page.goto(href).status == 200, href

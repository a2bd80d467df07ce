"""Customers and items in a real browser: a webstore set up from nothing fills both lists,
a product mapped by hand lets a failed order import, a merge keeps every sales order, the
lists search as one types, and viewers read without a way to write."""

import re

import sqlalchemy as sa
from playwright.sync_api import expect

from portal import db
from portal.customers import queries as customer_queries
from portal.items import queries as item_queries
from portal.models import (
    Customer,
    CustomerMapping,
    Item,
    ItemMapping,
    LineType,
    SalesOrder,
    Webstore,
)
from sandbox.render import WC_VERSION
from tests.conftest import screenshot, sign_in_browser
from tests.sync_helpers import count, run_import, sales_order_for
from tests.test_customers_pages import make_customer, make_order
from tests.test_items_pages import make_item

RUN_TIMEOUT = 30_000  # ms: a whole import of the sandbox store by a real worker
ENDED = re.compile(r"^(succeeded|partial|failed)$")


def htmx_ready(page, heading: str) -> None:
    """Wait for the page that was opened to load: htmx binds its triggers only once its
    deferred script has run, and input before that would be lost."""
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    page.wait_for_load_state("load")


def summary(noun: str, shown: int, total: int, matching: bool = False) -> str:
    """A list's summary line as it reads on the first page."""
    return f"{noun} 1–{shown} of {total}{' matching' if matching else ''}, page 1."


# A webstore set up from nothing


def test_a_new_admin_sets_up_a_webstore_from_nothing_and_its_import_fills_customers_and_items(
    page, admin_user, store, start_worker
):
    start_worker(burst=False)
    sign_in_browser(page, admin_user.username)

    # An empty portal shows the way to a first import.
    expect(page.get_by_role("heading", name="Your first import, in three steps")).to_be_visible()
    screenshot(page, "customers-items-1-first-steps")

    # Setup > New webstore, with the sandbox store's own key.
    page.get_by_role("link", name="Setup").click()
    page.get_by_role("button", name="New webstore").click()
    htmx_ready(page, "New webstore")
    page.get_by_label("Code").fill("shop")
    page.get_by_label("Name").fill("Our shop")
    page.get_by_label("Store URL").fill(store.base_url)
    page.get_by_label("Consumer key").fill(store.consumer_key)
    page.get_by_label("Consumer secret").fill(store.consumer_secret)

    page.get_by_role("button", name="Test connection").click()
    result = page.locator("#connection-result")
    expect(result).to_contain_text("Connected.")
    expect(result.locator("dd").first).to_have_text(WC_VERSION)

    page.get_by_role("button", name="Create the standard shipping item").click()
    expect(page.get_by_role("status").filter(has_text="Shipping and handling")).to_contain_text(
        "is ready. Save the webstore to use it."
    )
    shipping = db.session.scalar(sa.select(Item).where(Item.sku == "SHIPPING"))
    expect(page.get_by_label("Shipping charge item no.")).to_have_value(shipping.number)
    assert page.url.endswith("/setup/webstores/new")  # filled in place, no page load
    screenshot(page, "customers-items-2-new-webstore")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Webstore SHOP saved.")).to_be_visible()
    page.get_by_role("link", name="SHOP", exact=True).click()
    expect(page.locator("#setup-ready")).to_contain_text("Everything an import needs is set up.")
    expect(page.get_by_label("Shipping charge item no.")).to_have_value(shipping.number)

    # Import Webstore Orders of SHOP, run by the worker.
    page.get_by_role("link", name="Import Webstore Orders").click()
    htmx_ready(page, "Import Webstore Orders")
    page.get_by_label("Webstore Code").select_option("SHOP")
    preview = page.locator("#import-preview")
    expect(preview).to_contain_text("orders in the store match")
    matching = int(preview.locator("strong").first.inner_text())
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=RUN_TIMEOUT
    )
    expect(page.locator("tbody tr.entry-imported")).to_have_count(matching)
    expect(page.locator(".count-imported strong")).to_have_text(str(matching))
    screenshot(page, "customers-items-3-import")
    webstore = db.session.scalar(sa.select(Webstore).where(Webstore.code == "SHOP"))
    orders = count(SalesOrder, SalesOrder.webstore_id == webstore.id)
    assert orders == matching == 26  # the seeded store's orders of the default statuses

    # Customers: every one was created by the import.
    customers = count(Customer)
    assert customers == count(Customer, Customer.created_by_sync.is_(True)) == 16
    assert customers <= customer_queries.PER_PAGE  # all on the first page
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.locator("#customers-table [role=status]")).to_have_text(
        summary("Customers", customers, customers)
    )
    rows = page.locator("#customers-table tbody tr")
    expect(rows).to_have_count(customers)
    expect(rows.filter(has_text="by sync")).to_have_count(customers)
    order_counts = rows.locator("td:last-child").all_inner_texts()
    assert sum(int(n) for n in order_counts) == orders
    screenshot(page, "customers-items-4-customers")

    # Items: the import's items beside the two the setup made.
    items = count(Item)
    by_sync = count(Item, Item.created_by_sync.is_(True))
    assert (items, by_sync) == (28, 26)
    assert items <= item_queries.PER_PAGE
    page.get_by_role("link", name="Items", exact=True).click()
    expect(page.locator("#items-table [role=status]")).to_have_text(summary("Items", items, items))
    rows = page.locator("#items-table tbody tr")
    expect(rows).to_have_count(items)
    expect(rows.filter(has_text="by sync")).to_have_count(by_sync)
    expect(rows.filter(has_text="by hand")).to_have_text(
        [re.compile(r"\bSHIPPING\b"), re.compile(r"\bNO-PRODUCT\b")]
    )
    screenshot(page, "customers-items-5-items")


# A product mapped by hand


def test_a_product_mapped_by_hand_lets_the_failed_order_import_on_retry(
    page, live_server, staff_user, demo_webstore, store, start_worker
):
    demo_webstore.auto_create_items = False
    db.session.commit()
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 2}])
    line = created["line_items"][0]
    items_before = count(Item)
    start_worker(burst=False)
    sign_in_browser(page, staff_user.username)

    # Import the order by its ID: it fails, and names the page that fixes it.
    page.get_by_role("link", name="Import Webstore Orders").click()
    htmx_ready(page, "Import Webstore Orders")
    page.get_by_label("Webstore Code").select_option("DEMO")
    expect(page.locator("#import-preview")).to_contain_text("in the store match")
    page.get_by_label("Order ID").press_sequentially(str(created["id"]))
    expect(page.locator("#import-preview")).to_contain_text("1 order in the store matches")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator(".run-status")).to_have_attribute("data-status", ENDED, timeout=RUN_TIMEOUT)
    expect(page.locator(".count-failed strong")).to_have_text("1")
    expect(page.locator(".count-imported strong")).to_have_text("0")
    failure = page.locator("tr.entry")
    expect(failure).to_have_count(1)
    expect(failure).to_have_class(re.compile(r"\bentry-failed\b"))
    expect(failure).to_contain_text(str(created["id"]))
    expect(failure).to_contain_text("map product 11 to an item on Items > Mappings")
    run_url = page.get_by_role("link", name=re.compile(r"^Run \d+$")).get_attribute("href")
    screenshot(page, "customers-items-mapping-1-failed")
    failure.get_by_role("link", name="/items/mappings?webstore=DEMO").click()
    expect(page).to_have_url(f"{live_server}/items/mappings?webstore=DEMO")
    expect(page.get_by_role("heading", name="Webstore product mappings of DEMO")).to_be_visible()
    expect(page.get_by_text("No products of DEMO are mapped yet.")).to_be_visible()

    # No item fits the product yet: make one.
    page.get_by_role("link", name="← Items").click()
    page.get_by_role("button", name="New item").click()
    page.get_by_label("Description").fill("Mug, mapped by hand")
    # The new item's form comes with these two empty, though its defaults are PCS and 0.00.
    page.get_by_label("Base unit of measure").fill("PCS")
    page.get_by_label("Unit price").fill("12.50")
    page.get_by_role("button", name="Save").click()
    heading = page.get_by_role("heading", name=re.compile(r"^Item I\d{5}$"))
    expect(heading).to_be_visible()
    number = heading.inner_text().removeprefix("Item ")
    expect(page.get_by_text(f"Item {number} saved.")).to_be_visible()

    # Map the product to it.
    page.get_by_role("link", name="← Items").click()
    page.get_by_role("button", name="Webstore product mappings").click()
    page.get_by_label("Product ID").fill(str(line["product_id"]))
    page.get_by_label("Variation ID").fill(str(line["variation_id"]))
    page.get_by_label("Item no.").fill(number)
    page.get_by_role("button", name="Map", exact=True).click()
    expect(page.get_by_text(f"DEMO product 11 is now mapped to item {number}.")).to_be_visible()
    mapped = page.locator("#mappings-table tbody tr")
    expect(mapped).to_have_count(1)
    expect(mapped).to_contain_text(f"{number} Mug, mapped by hand")
    screenshot(page, "customers-items-mapping-2-mapped")

    # Retry the failed order from the run's page: it imports onto the mapped item.
    page.goto(run_url)
    page.get_by_role("button", name=re.compile(r"^Retry failed orders")).click()
    expect(page.locator(".run-status")).to_have_attribute(
        "data-status", "succeeded", timeout=RUN_TIMEOUT
    )
    expect(page.locator(".count-imported strong")).to_have_text("1")
    expect(page.locator(".count-failed strong")).to_have_text("0")
    screenshot(page, "customers-items-mapping-3-retried")
    order = sales_order_for(demo_webstore, created["id"])
    expect(page.locator(".run-panel tr.entry")).to_contain_text(order.number)
    item = db.session.scalar(sa.select(Item).where(Item.number == number))
    item_lines = [ln for ln in order.lines if ln.line_type == LineType.ITEM]
    assert [(ln.item_id, ln.quantity) for ln in item_lines] == [(item.id, 2)]
    assert count(Item) == items_before + 1  # the one made by hand, none by the import

    page.goto(f"/items/{item.id}")
    expect(page.locator("#item-lines tbody tr")).to_have_count(1)
    expect(page.locator("#item-lines tbody tr")).to_contain_text(order.number)


# Merging customers


def test_merging_a_duplicate_customer_keeps_every_sales_order_on_the_one_kept(
    page, live_server, admin_user, demo_webstore
):
    # Order 44 is a guest's; orders 47 and 48 are two orders of one registered customer.
    for order_id in (44, 47, 48):
        run_import(demo_webstore, order_id=order_id)
    registered = db.session.scalar(sa.select(CustomerMapping)).customer
    guest = db.session.scalar(sa.select(Customer).where(Customer.id != registered.id))
    assert count(SalesOrder, SalesOrder.customer_id == guest.id) == 1
    assert count(SalesOrder, SalesOrder.customer_id == registered.id) == 2
    order_numbers = sorted(db.session.scalars(sa.select(SalesOrder.number)))
    guest_id, guest_number = guest.id, guest.number
    sign_in_browser(page, admin_user.username)

    page.get_by_role("link", name="Customers", exact=True).click()
    page.get_by_role("link", name=guest_number).click()
    expect(page).to_have_url(f"{live_server}/customers/{guest_id}")
    expect(page.get_by_role("heading", name="Sales orders (1)")).to_be_visible()
    page.get_by_label("Merge into customer no.").fill(registered.number)
    screenshot(page, "customers-items-merge-1-duplicate")
    page.get_by_role("button", name=f"Merge {guest_number} and delete it").click()

    expect(page).to_have_url(f"{live_server}/customers/{registered.id}")
    expect(page.get_by_role("status")).to_contain_text(
        f"Customer {guest_number} merged into {registered.number} and deleted: "
        "1 sales order and 0 webstore mappings moved"
    )
    expect(page.get_by_role("heading", name="Sales orders (3)")).to_be_visible()
    listed = page.locator("#customer-orders tbody tr td:first-child")
    expect(listed).to_have_count(3)
    assert sorted(listed.all_inner_texts()) == order_numbers
    screenshot(page, "customers-items-merge-2-kept")
    assert count(Customer) == 1
    assert count(SalesOrder, SalesOrder.customer_id == registered.id) == 3

    response = page.goto(f"/customers/{guest_id}")
    assert response.status == 404
    expect(page.get_by_text(f"There is no customer {guest_id}.")).to_be_visible()


# Search on both lists


def test_search_on_customers_and_on_items_leaves_only_the_matching_rows(
    page, live_server, viewer_user
):
    make_customer("Ada Lovelace", "ada@example.com")
    grace = make_customer("Grace Hopper", "grace@navy.mil")
    make_customer("Alan Turing", "alan@example.com")
    make_item("I00001", "Classic Mug", "MUG-CLASSIC")
    make_item("I00002", "Travel Mug", "MUG-TRAVEL")
    make_item("I00003", "Pencil", "PX-900")
    sign_in_browser(page, viewer_user.username)

    page.get_by_role("link", name="Customers", exact=True).click()
    htmx_ready(page, "Customers")
    rows = page.locator("#customers-table tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("window.__sameDocument = true")
    page.get_by_label("Search", exact=True).press_sequentially("hopp")
    expect(rows).to_have_count(1)
    expect(rows.locator("td")).to_have_text(
        [grace.number, "Grace Hopper", "grace@navy.mil", "", "by hand", "0"]
    )
    expect(page.locator("#customers-table [role=status]")).to_have_text(
        summary("Customers", 1, 1, matching=True)
    )
    expect(page).to_have_url(f"{live_server}/customers?q=hopp")
    assert page.evaluate("window.__sameDocument") is True  # swapped in place, no page load
    screenshot(page, "customers-items-search-customers")

    page.get_by_role("link", name="Items", exact=True).click()
    htmx_ready(page, "Items")
    rows = page.locator("#items-table tbody tr")
    expect(rows).to_have_count(3)
    page.evaluate("window.__sameDocument = true")
    search = page.get_by_label("Search", exact=True)
    search.press_sequentially("mug")  # part of a description
    expect(rows).to_have_count(2)
    expect(rows.locator("td:nth-child(2)")).to_have_text(["Classic Mug", "Travel Mug"])
    expect(page).to_have_url(f"{live_server}/items?q=mug")
    search.clear()
    search.press_sequentially("px-9")  # part of a SKU
    expect(rows).to_have_count(1)
    expect(rows.locator("td")).to_have_text(
        ["I00003", "Pencil", "PX-900", "inventory", "0.00", "by hand", "0"]
    )
    expect(page.locator("#items-table [role=status]")).to_have_text(
        summary("Items", 1, 1, matching=True)
    )
    expect(page).to_have_url(f"{live_server}/items?q=px-9")
    assert page.evaluate("window.__sameDocument") is True
    screenshot(page, "customers-items-search-items")


# Viewers

# The buttons and links that change something, by their names on these pages.
WRITES = {
    "New customer": "New customer",
    "Edit": "Edit",
    "Merge": re.compile(r"^Merge "),  # "Merge C00001 and delete it"
    "New item": "New item",
    "Map": "Map",
    "Unmap": "Unmap",
}
PAGES = [
    "customers",
    "customer",
    "customer mappings",
    "items",
    "item",
    "product mappings",
]


def writes_offered(page) -> dict[str, int]:
    """How many buttons or links of each write the page offers."""
    offered = {}
    for label, name in WRITES.items():
        exact = isinstance(name, str)
        found = page.get_by_role("button", name=name, exact=exact).or_(
            page.get_by_role("link", name=name, exact=exact)
        )
        offered[label] = found.count()
    return offered


def visit_customers_and_items(page, customer: Customer, item: Item) -> dict[str, dict]:
    """Walk through the six pages by their links, reading each; what each offers to change."""
    offered = {}
    page.get_by_role("link", name="Customers", exact=True).click()
    expect(page.locator("#customers-table tbody tr")).to_have_count(1)
    offered["customers"] = writes_offered(page)
    page.get_by_role("link", name=customer.number).click()
    expect(page.get_by_role("heading", name=f"Customer {customer.number}")).to_be_visible()
    expect(page.get_by_role("heading", name="Sales orders (1)")).to_be_visible()
    offered["customer"] = writes_offered(page)
    page.get_by_role("link", name="← Customers").click()
    page.get_by_role("button", name="Webstore customer mappings").click()
    expect(page.get_by_role("heading", name="Webstore customer mappings of MAIN")).to_be_visible()
    cells = page.locator("#mappings-table tbody tr td")
    expect(cells.nth(0)).to_have_text("7")
    expect(cells.nth(1)).to_have_text(f"{customer.number} Ada Lovelace")
    offered["customer mappings"] = writes_offered(page)

    page.get_by_role("link", name="Items", exact=True).click()
    expect(page.locator("#items-table tbody tr")).to_have_count(1)
    offered["items"] = writes_offered(page)
    page.get_by_role("link", name=item.number).click()
    expect(page.get_by_role("heading", name=f"Item {item.number}")).to_be_visible()
    expect(page.locator("#item-mappings tbody td").first).to_have_text("MAIN")
    offered["item"] = writes_offered(page)
    page.get_by_role("link", name="← Items").click()
    page.get_by_role("button", name="Webstore product mappings").click()
    expect(page.get_by_role("heading", name="Webstore product mappings of MAIN")).to_be_visible()
    cells = page.locator("#mappings-table tbody tr td")
    expect(cells.nth(0)).to_have_text("11")
    expect(cells.nth(1)).to_have_text("0")
    expect(cells.nth(2)).to_have_text(f"{item.number} Classic Mug")
    offered["product mappings"] = writes_offered(page)
    return offered


def test_viewers_read_customers_items_and_mappings_but_are_offered_no_change(
    browser, live_server, page, admin_user, viewer_user, webstore
):
    customer = make_customer("Ada Lovelace", "ada@example.com")
    make_order(webstore, customer)
    item = make_item("I00001", "Classic Mug", "MUG-001")
    db.session.add_all(
        [
            CustomerMapping(webstore_id=webstore.id, woo_customer_id=7, customer_id=customer.id),
            ItemMapping(webstore_id=webstore.id, woo_product_id=11, item_id=item.id),
        ]
    )
    db.session.commit()

    sign_in_browser(page, viewer_user.username)
    seen_by_viewer = visit_customers_and_items(page, customer, item)
    screenshot(page, "customers-items-viewer-product-mappings")

    # The same walk as an admin finds each write where it belongs: the names are right.
    context = browser.new_context(base_url=live_server)
    try:
        admin_page = context.new_page()
        admin_page.set_default_timeout(10_000)
        sign_in_browser(admin_page, admin_user.username)
        seen_by_admin = visit_customers_and_items(admin_page, customer, item)
    finally:
        context.close()

    nothing = dict.fromkeys(WRITES, 0)
    assert seen_by_viewer == dict.fromkeys(PAGES, nothing)
    assert seen_by_admin == {
        "customers": {**nothing, "New customer": 1},
        "customer": {**nothing, "Edit": 1, "Merge": 1},
        "customer mappings": {**nothing, "Map": 1, "Unmap": 1},
        "items": {**nothing, "New item": 1},
        "item": {**nothing, "Edit": 1},
        "product mappings": {**nothing, "Map": 1, "Unmap": 1},
    }

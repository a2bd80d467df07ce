"""Every page still works under the Content-Security-Policy: no console error, no violation."""

import re

from playwright.sync_api import expect

from portal import db
from portal.models import SalesOrder
from tests.conftest import sign_in_browser
from tests.sync_helpers import run_import

PAGES = [
    "/",
    "/imports/new",
    "/imports/",
    "/customers",
    "/customers/mappings",
    "/items",
    "/items/mappings",
    "/credit-memos",
    "/imports/refunds",
    "/setup/",
    "/setup/templates",
    "/setup/users",
    "/setup/webstores/new",
]


def watch(page) -> list[str]:
    """Console errors and CSP violations of the page, as they come."""
    problems = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    return problems


def test_every_page_works_under_the_policy(page, admin_user, demo_webstore, store):
    run = run_import(demo_webstore, order_id=44)
    order = db.session.scalar(db.select(SalesOrder))
    problems = watch(page)
    sign_in_browser(page, admin_user.username)

    for path in [
        *PAGES,
        f"/imports/runs/{run.id}",
        f"/orders/{order.id}",
        f"/setup/webstores/{demo_webstore.id}",
    ]:
        page.goto(path)
        expect(page.locator("main")).to_be_visible()
        # htmx is there, and works: the page's own script ran.
        assert page.evaluate("typeof htmx") == "object", path

    # HTMX swaps: the header search's typeahead, and a list's search.
    page.goto("/customers")
    page.wait_for_load_state("load")
    page.get_by_label("Search", exact=True).press_sequentially("zz-nobody")
    expect(page.locator("#customers-table")).to_contain_text("No customers match")

    # The setup page's Test connection answers in place, and Delete asks first.
    page.goto(f"/setup/webstores/{demo_webstore.id}")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-result")).to_contain_text("Connected.")
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.get_by_role("button", name="Delete webstore").click()
    assert asked == ["Delete webstore DEMO? This cannot be undone."]
    expect(page).to_have_url(re.compile(rf"/setup/webstores/{demo_webstore.id}$"))

    # An order's action asks in its dialog (the script that opens it is app.js now).
    page.goto(f"/orders/{order.id}")
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Post…").click()
    expect(page.get_by_role("dialog")).to_be_visible()

    assert problems == []

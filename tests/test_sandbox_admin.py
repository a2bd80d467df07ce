"""The order page's link to the store's admin, against the sandbox store, which has no
WordPress admin: it answers with a page that says so and shows what it holds of the order."""

import html
import re

import requests

from portal import db
from portal.orders.actions import ACTIONS, perform
from tests.sync_helpers import imported_order, work_queued_jobs


def admin_link(page: str) -> tuple[str, str]:
    found = re.search(r'<a href="([^"]+)"[^>]*>Open order (\d+) in the store.s admin</a>', page)
    assert found, "no link to the store's admin"
    return html.unescape(found[1]), found[2]


def test_the_store_admin_link_opens_the_sandboxs_page_of_that_order(
    signed_in_staff, demo_webstore, store
):
    demo_webstore.writeback_enabled = True
    db.session.commit()
    order = imported_order(demo_webstore, store)
    perform(order, ACTIONS["post"])
    work_queued_jobs()
    store.add_note(order.woo_order_id, "Gift <b>wrap</b>, please", customer_note=False)

    link, number = admin_link(signed_in_staff.get(f"/orders/{order.id}").text)
    answer = requests.get(link, timeout=10)

    assert link == f"{store.base_url}/wp-admin/post.php?post={order.woo_order_id}&action=edit"
    assert answer.status_code == 200
    assert "it has no WordPress admin to open orders in" in answer.text
    assert f"<h1>Order {number}</h1>" in answer.text
    assert "<dt>Status</dt><dd>completed</dd>" in answer.text  # as the post set it
    assert f"to the customer:\n  Sales order {order.number} is posted.</p>" in answer.text
    assert "private:\n  Gift &lt;b&gt;wrap&lt;/b&gt;, please</p>" in answer.text


def test_the_sandbox_says_what_it_is_on_any_admin_page_and_when_it_has_no_such_order(store):
    home = requests.get(f"{store.base_url}/wp-admin/", timeout=10)
    unknown = requests.get(
        f"{store.base_url}/wp-admin/post.php?post=999999&action=edit", timeout=10
    )

    assert home.status_code == 200 and "<h1>No admin here</h1>" in home.text
    assert unknown.status_code == 404
    assert "It has no order 999999." in unknown.text

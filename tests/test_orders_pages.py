"""Webstore Sales Orders: the list, the header's search, an order's page and its actions."""

import html as html_module
import os
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count as counter

import pytest
import sqlalchemy as sa
from flask import url_for

from portal import db, search
from portal.customers import queries as customers_queries
from portal.items import queries as items_queries
from portal.models import (
    Customer,
    Item,
    LineType,
    OrderLink,
    Outcome,
    PaymentMethod,
    PostedSalesInvoice,
    SalesLine,
    SalesOrder,
    SalesOrderStatus,
    ShipmentMethod,
    ShippingAgent,
    Webstore,
)
from portal.orders import actions, queries
from portal.text import fold
from tests.posting_helpers import Line, booked_order, vat_codes
from tests.sync_helpers import count, entries, run_import, sales_order_for

OPEN, RELEASED, POSTED, ARCHIVED = (
    SalesOrderStatus.OPEN,
    SalesOrderStatus.RELEASED,
    SalesOrderStatus.POSTED,
    SalesOrderStatus.ARCHIVED,
)
SCRIPT_NAME = "<script>window.__xss=1</script>"
IMG_NAME = '"><img src=x onerror=window.__xss=2>'
_numbers = counter(1)


def make_order(webstore, *, name="Ada Lovelace", email=None, customer=None, **fields) -> SalesOrder:
    """A sales order written straight into the database, as an import would leave it."""
    n = next(_numbers)
    if customer is None:
        customer = Customer(number=f"C{n:05d}", name=name, email=email)
        db.session.add(customer)
    values = {
        "number": f"SO{n:05d}",
        "webstore_id": webstore.id,
        "customer": customer,
        "order_date": date(2025, 3, 1),
        "ordered_at": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        "currency": "EUR",
        "external_document_no": str(1000 + n),
        "woo_order_id": 1000 + n,
        "sell_to_name": name,
        "sell_to_email": email or "",
        "amount_including_tax": Decimal("10.00"),
        **fields,
    }
    order = SalesOrder(**values)
    db.session.add(order)
    db.session.commit()
    return order


def listed(html: str) -> list[str]:
    """The order numbers in the list's table, top to bottom."""
    table = html[html.index('id="orders-table"') :]
    return re.findall(r'href="/orders/\d+">(SO\d{5})</a>', table)


def status_of(order) -> SalesOrderStatus | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(SalesOrder.status).where(SalesOrder.id == order.id))


def endpoint_url(app, endpoint: str, **values) -> str:
    """Where another blueprint's page lives, so these tests do not pin its URL."""
    with app.test_request_context():
        return url_for(endpoint, **values)


def act(portal, order, name):
    return portal.post(f"/orders/{order.id}/{name}", follow_redirects=True)


# The list: whole page or fragment


def test_the_list_asked_plainly_is_a_whole_page_with_labelled_search_and_filters(
    signed_in_viewer, webstore
):
    make_order(webstore, name="Grace Hopper")

    response = signed_in_viewer.get("/")

    assert response.status_code == 200
    assert "<html" in response.text and 'id="orders-table"' in response.text
    assert 'hx-trigger="input changed delay:300ms, search"' in response.text
    assert "Grace Hopper" in response.text
    assert "HX-Request" in response.headers["Vary"]
    for field_id in ("q", "webstore", "status", "date_from", "date_to", "global-search"):
        assert f'<label for="{field_id}"' in response.text
        assert f'id="{field_id}"' in response.text


def test_htmx_gets_only_the_table_fragment_and_a_tidy_url_to_push(signed_in_viewer, webstore):
    make_order(webstore, name="Grace Hopper")

    response = signed_in_viewer.get(
        "/?q=grace&webstore=&status=&sort=-date", headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "<html" not in response.text and "<form" not in response.text
    assert response.text.lstrip().startswith('<div id="orders-table"')
    assert "Grace Hopper" in response.text
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["HX-Push-Url"] == "/?q=grace"


def test_htmx_restoring_history_it_has_no_copy_of_gets_the_whole_page(signed_in_viewer):
    response = signed_in_viewer.get(
        "/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )

    assert "<html" in response.text


def test_staff_are_offered_an_import_in_the_action_bar_and_on_an_empty_list(app, signed_in_staff):
    new_import = endpoint_url(app, "imports.new")

    response = signed_in_staff.get("/")

    assert f'<a role="button" href="{new_import}">Import Webstore Orders</a>' in response.text
    assert "No sales orders yet." in response.text
    assert "Import Webstore Orders, above, brings a webstore's orders in." in response.text


def test_viewers_are_offered_no_import(app, signed_in_viewer):
    body = signed_in_viewer.get("/").text.split("<main", 1)[1]

    assert f'href="{endpoint_url(app, "imports.new")}"' not in body


# Search and filters


def test_search_finds_by_number_external_no_name_or_email_in_any_case(
    signed_in_viewer, webstore, monkeypatch
):
    monkeypatch.setattr("tests.test_orders_pages._numbers", counter(42))
    wanted = make_order(
        webstore,
        name="Ada Lovelace King-Noel",
        email="ada.king@example.org",
        external_document_no="7042",
    )
    make_order(webstore, name="Charles Babbage", email="charles@example.org")

    for term in ("so00042", "SO00042", "7042", "ADA.KING", "lovelace", "King-Noel"):
        response = signed_in_viewer.get(f"/?q={term}", headers={"HX-Request": "true"})
        assert listed(response.text) == [wanted.number], term
    response = signed_in_viewer.get("/?q=nobody", headers={"HX-Request": "true"})
    assert listed(response.text) == []
    assert "No sales orders match “nobody”." in response.text


def test_search_finds_by_the_customer_records_name_too(signed_in_viewer, webstore):
    guest = Customer(number="C09999", name="Guest customer (webstore)")
    wanted = make_order(webstore, name="Walk In", customer=guest)
    make_order(webstore, name="Someone Else")

    response = signed_in_viewer.get("/?q=guest+customer")

    assert listed(response.text) == [wanted.number]


def test_search_and_the_header_search_find_an_order_by_its_company(signed_in_viewer, webstore):
    acme = Customer(number="C08001", name="Wile E. Coyote", company="Acme Corporation")
    by_record = make_order(webstore, name="Wile E. Coyote", customer=acme)
    on_order = make_order(webstore, name="Road Runner", sell_to_company="ACME Deliveries")
    make_order(webstore, name="Someone Else")

    listed_orders = listed(signed_in_viewer.get("/?q=acme").text)
    header = signed_in_viewer.get("/search?q=acme").text

    assert set(listed_orders) == {by_record.number, on_order.number}
    assert len(found_links(header, "orders")) == 2
    assert found_links(header, "customers") == ["C08001 Wile E. Coyote"]


def test_search_takes_percent_and_underscore_literally(signed_in_viewer, webstore):
    wanted = make_order(webstore, name="100% Cotton_Shop")
    make_order(webstore, name="1000 Cottons")

    assert listed(signed_in_viewer.get("/?q=100%25").text) == [wanted.number]
    assert listed(signed_in_viewer.get("/?q=n_s").text) == [wanted.number]


def test_filters_by_webstore_status_and_order_dates(signed_in_viewer, webstore):
    other = Webstore(code="EU", name="EU store", base_url="https://eu.example", consumer_key="k")
    other.consumer_secret = "s"
    db.session.add(other)
    db.session.commit()
    in_range = make_order(webstore, status=POSTED, order_date=date(2025, 5, 10))
    make_order(webstore, status=OPEN, order_date=date(2025, 5, 10))
    make_order(webstore, status=POSTED, order_date=date(2025, 4, 30))
    make_order(webstore, status=POSTED, order_date=date(2025, 6, 1))
    make_order(other, status=POSTED, order_date=date(2025, 5, 10))

    response = signed_in_viewer.get(
        f"/?webstore={webstore.id}&status=posted&date_from=2025-05-01&date_to=2025-05-31"
    )

    assert listed(response.text) == [in_range.number]
    assert "of 1 matching" in response.text


def test_a_customer_link_lists_that_customers_orders(signed_in_viewer, webstore):
    first = make_order(webstore, name="Ada Lovelace")
    second = make_order(webstore, customer=first.customer, name="Ada Lovelace")
    make_order(webstore, name="Somebody Else")

    response = signed_in_viewer.get(f"/?customer={first.customer_id}")

    assert sorted(listed(response.text)) == sorted([first.number, second.number])
    assert f"orders of customer {first.customer.number} Ada Lovelace" in response.text


def test_bad_filter_values_are_shown_beside_their_fields_and_left_out(signed_in_viewer, webstore):
    make_order(webstore, order_date=date(2025, 6, 1))

    response = signed_in_viewer.get("/?date_from=someday&status=lost")
    reversed_dates = signed_in_viewer.get("/?date_from=2025-05-02&date_to=2025-05-01")

    assert response.status_code == 200
    assert 'id="date_from-error"' in response.text and 'id="status-error"' in response.text
    assert len(listed(response.text)) == 1
    assert "The end date is before the start date." in reversed_dates.text
    assert len(listed(reversed_dates.text)) == 1


# Sorting and pages


@pytest.fixture
def sortable(webstore):
    """Orders whose dates, names and amounts tie here and there."""
    rows = [
        ("Cleo", date(2025, 1, 3), "30.00", POSTED),
        ("alma", date(2025, 1, 1), "5.00", OPEN),
        ("Bert", date(2025, 1, 3), "30.00", ARCHIVED),
        ("Dora", date(2025, 1, 2), "100.00", RELEASED),
        ("Bert", date(2025, 1, 1), "7.50", OPEN),
    ]
    return [
        make_order(webstore, name=n, order_date=d, amount_including_tax=Decimal(a), status=s)
        for n, d, a, s in rows
    ]


def expected_order(orders, key, descending):
    value = {
        "number": lambda o: o.number,
        "date": lambda o: o.order_date,
        "customer": lambda o: o.sell_to_name,
        "amount": lambda o: o.amount_including_tax,
        "status": lambda o: (str(o.status), o.order_date),
    }[key]
    ordered = sorted(orders, key=lambda o: (value(o), o.id), reverse=descending)
    return [o.number for o in ordered]


def test_sorts_by_each_column_both_ways(signed_in_viewer, sortable):
    for key in ("number", "date", "customer", "amount", "status"):
        for descending in (False, True):
            sort = ("-" if descending else "") + key
            response = signed_in_viewer.get(f"/?sort={sort}", headers={"HX-Request": "true"})
            # Byte order, as PostgreSQL's C collation and SQLite sort: "alma" after "Dora".
            assert listed(response.text) == expected_order(sortable, key, descending), sort


def test_the_default_sort_is_newest_first_and_sort_links_keep_the_filters(
    signed_in_viewer, sortable
):
    response = signed_in_viewer.get("/")
    filtered = signed_in_viewer.get("/?q=b&status=open", headers={"HX-Request": "true"})

    assert listed(response.text) == expected_order(sortable, "date", True)
    assert 'aria-sort="descending"' in response.text
    assert 'href="/?sort=date"' in response.text  # the date header's link turns it around
    assert 'href="/?q=b&amp;status=open&amp;sort=number"' in filtered.text


def next_link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" hx-get="[^"]+" rel="{rel}"', html)
    return found[1].replace("&amp;", "&") if found else None


def test_pages_follow_each_other_forward_and_back_without_gaps_or_repeats(
    signed_in_viewer, sortable, webstore, monkeypatch
):
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    orders = sortable + [make_order(webstore, name="Bert", order_date=date(2025, 1, 3))]

    for sort in ("-date", "customer", "-amount", "status", "number"):
        everything = expected_order(orders, sort.lstrip("-"), sort.startswith("-"))
        pages, url = [], f"/?sort={sort}"
        while url:
            html = signed_in_viewer.get(url, headers={"HX-Request": "true"}).text
            pages.append(listed(html))
            url = next_link(html, "next")
            assert url is None or f"page={len(pages) + 1}" in url
        assert sum(pages, []) == everything, sort
        assert [len(p) for p in pages] == [2, 2, 2], sort

        back, url = [], next_link(html, "prev")
        while url:
            html = signed_in_viewer.get(url).text
            back.insert(0, listed(html))
            url = next_link(html, "prev")
        assert back == pages[:-1], sort
        assert "Page 1" in html


def test_a_page_whose_cursor_order_is_gone_starts_again_at_the_first(signed_in_viewer, sortable):
    response = signed_in_viewer.get("/?after=999999&page=7")

    assert listed(response.text) == expected_order(sortable, "date", True)
    assert "page 1." in response.text


def test_the_count_stops_at_its_cap(signed_in_viewer, sortable, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    monkeypatch.setattr(queries, "PER_PAGE", 2)

    response = signed_in_viewer.get("/")

    assert "Orders 1–2 of more than 3, page 1." in response.text


# An order's page


@pytest.fixture
def imported_order(demo_webstore, store):
    """A real import of an order with a coupon, shipping and a refund."""
    created = store.create_order(status="processing", coupon="save10", customer_note="Ring twice")
    run = run_import(demo_webstore, order_id=created["id"])
    order = sales_order_for(demo_webstore, created["id"])
    assert order is not None, [e.message for e in entries(run)]
    return order


def test_an_order_page_shows_customer_addresses_lines_charges_totals_and_origin(
    app, signed_in_viewer, imported_order
):
    order = imported_order

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert f"Sales order {order.number}" in html
    assert order.customer.number in html and order.customer.name in html
    assert f'href="/?customer={order.customer_id}"' in html
    assert order.sell_to_city in html and order.ship_to_city in html
    for line in order.lines:
        assert line.description in html
        if line.item:
            assert line.item.number in html
    assert f"{order.amount_including_tax:,.2f}" in html
    assert f"{order.tax_amount:,.2f}" in html
    assert [c.code for c in order.coupons] == ["save10"] and ">save10<" in html
    assert "Ring twice" in html
    assert order.payment_method_title in html
    link = db.session.scalar(sa.select(OrderLink).where(OrderLink.sales_order_id == order.id))
    assert f"<dd>{link.woo_order_number}</dd>" in html and f"<dd>{link.woo_order_id}</dd>" in html
    admin = f"{order.webstore.base_url}/wp-admin/post.php?post={link.woo_order_id}&amp;action=edit"
    assert f'href="{admin}"' in html
    if "imports.run" in app.view_functions:
        run_page = endpoint_url(app, "imports.run", run_id=order.sync_run_id)
    else:
        run_page = f"/imports/runs/{order.sync_run_id}"
    assert f'href="{run_page}"' in html


def test_an_order_page_shows_refunds(signed_in_viewer, demo_webstore):
    run_import(demo_webstore, order_id=44)  # partly refunded in the sandbox
    order = sales_order_for(demo_webstore, 44)
    assert order.refunds

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "Refunds" in html and f"{order.refunds[0].amount:,.2f}" in html
    assert "Net after refunds" in html


def test_the_store_admin_link_is_only_given_for_http_urls(signed_in_viewer, webstore):
    order = make_order(webstore)
    webstore.base_url = "javascript:alert(1)//"
    db.session.commit()

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "javascript:" not in html
    assert "in the store's admin" not in html


def test_an_unknown_order_or_action_is_404(signed_in_staff, webstore):
    order = make_order(webstore)

    missing = signed_in_staff.get("/orders/424242")

    assert missing.status_code == 404
    assert "There is no sales order 424242." in missing.text
    assert signed_in_staff.post(f"/orders/{order.id}/ship").status_code == 404
    assert signed_in_staff.post("/orders/424242/post").status_code == 404


def test_what_the_store_sent_is_escaped_on_every_page_and_fragment(signed_in_viewer, webstore):
    order = make_order(
        webstore,
        name=SCRIPT_NAME,
        email='x"><img src=x onerror=window.__xss=3>@example.org',
        external_document_no="<b>77</b>",
        ship_to_name=IMG_NAME,
        ship_to_city=SCRIPT_NAME,
        customer_note=IMG_NAME,
        payment_method_title=SCRIPT_NAME,
        change_warning=SCRIPT_NAME,
    )
    db.session.add(
        SalesLine(
            sales_order=order,
            line_no=1,
            line_type=LineType.ITEM,
            item=Item(number="I09999", description=IMG_NAME),
            description=SCRIPT_NAME,
            sku=IMG_NAME,
            quantity=Decimal(1),
            unit_price=Decimal(10),
            amount=Decimal(10),
        )
    )
    db.session.commit()

    pages = [
        signed_in_viewer.get("/").text,
        signed_in_viewer.get("/?q=script", headers={"HX-Request": "true"}).text,
        signed_in_viewer.get(f"/orders/{order.id}").text,
        signed_in_viewer.get("/search?q=SO0").text,
    ]

    for html in pages:
        assert "<script>window" not in html
        assert "<img src=x" not in html
        assert "<b>77" not in html
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in html


# Actions


def test_staff_release_post_and_archive_orders_whose_status_allows_it(signed_in_staff, webstore):
    for name, before, after in [
        ("release", OPEN, RELEASED),
        ("post", OPEN, POSTED),
        ("post", RELEASED, POSTED),
        ("archive", OPEN, ARCHIVED),
        ("archive", RELEASED, ARCHIVED),
        ("archive", POSTED, ARCHIVED),
    ]:
        order = make_order(webstore, status=before)

        response = act(signed_in_staff, order, name)

        assert response.request.path == f"/orders/{order.id}"
        assert f"Sales order {order.number} {after}." in response.text
        assert status_of(order) == after, (name, before)


def test_an_action_the_status_does_not_allow_is_refused_with_the_reason(signed_in_staff, webstore):
    for name, status, message in [
        ("release", RELEASED, "{} is released already."),
        ("release", POSTED, "{} cannot be released: it is posted, and only an open order can"),
        ("post", POSTED, "{} is posted already."),
        ("post", ARCHIVED, "{} cannot be posted: it is archived, and only an open or released"),
        ("archive", ARCHIVED, "{} is archived already."),
        ("delete", RELEASED, "{} cannot be deleted: it is released, and only an open order"),
        ("delete", POSTED, "{} cannot be deleted: it is posted"),
    ]:
        order = make_order(webstore, status=status)

        response = act(signed_in_staff, order, name)

        assert response.status_code == 200 and response.request.path == f"/orders/{order.id}"
        assert 'class="flash flash-error"' in response.text
        assert message.format(order.number) in response.text
        assert status_of(order) == status


def test_the_order_page_offers_only_the_actions_its_status_allows(signed_in_staff, webstore):
    released = make_order(webstore, status=RELEASED)

    html = signed_in_staff.get(f"/orders/{released.id}").text

    assert f'action="/orders/{released.id}/post"' in html
    assert f'action="/orders/{released.id}/archive"' in html
    assert f'action="/orders/{released.id}/release"' not in html
    assert f'action="/orders/{released.id}/delete"' not in html
    assert '<dialog id="confirm-post"' in html


def test_each_action_has_a_confirmation_page_without_javascript(signed_in_staff, webstore):
    order = make_order(webstore)

    for name in ("release", "post", "archive", "delete"):
        page = signed_in_staff.get(f"/orders/{order.id}/{name}")

        assert page.status_code == 200
        assert f"{name.capitalize()} sales order {order.number}?" in page.text
        assert f'<form method="post" action="/orders/{order.id}/{name}">' in page.text
    assert status_of(order) == OPEN  # asking changes nothing


def test_a_confirmation_page_for_a_refused_action_goes_back_with_the_reason(
    signed_in_staff, webstore
):
    order = make_order(webstore, status=POSTED)

    response = signed_in_staff.get(f"/orders/{order.id}/delete", follow_redirects=True)

    assert response.request.path == f"/orders/{order.id}"
    assert "cannot be deleted" in response.text


def test_viewers_see_no_actions_and_are_refused_them(signed_in_viewer, webstore):
    order = make_order(webstore, change_warning="The total changed in the store.")

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "The total changed in the store." in html
    assert "Mark reviewed" not in html and "<dialog" not in html
    assert f"/orders/{order.id}/post" not in html
    for name in ("release", "post", "archive", "delete", "review"):
        assert signed_in_viewer.post(f"/orders/{order.id}/{name}").status_code == 403
    assert signed_in_viewer.get(f"/orders/{order.id}/post").status_code == 403
    assert status_of(order) == OPEN


def test_an_action_without_the_csrf_token_is_refused(signed_in_staff, webstore):
    order = make_order(webstore)

    response = signed_in_staff.client.post(f"/orders/{order.id}/post", data={})

    assert response.status_code == 400
    assert "Reload the page and try again." in response.text
    assert status_of(order) == OPEN


def test_htmx_actions_carry_the_token_in_the_header(signed_in_staff, webstore):
    order = make_order(webstore)

    signed_in_staff.post(f"/orders/{order.id}/post", htmx=True)

    assert status_of(order) == POSTED


def test_staff_mark_a_change_reviewed(signed_in_staff, webstore):
    order = make_order(webstore, change_warning="Quantities changed in the store.")
    html = signed_in_staff.get(f"/orders/{order.id}").text
    assert "Quantities changed in the store." in html and "Mark reviewed" in html

    response = signed_in_staff.post(f"/orders/{order.id}/review", follow_redirects=True)

    assert f"The change to {order.number} is marked as reviewed." in response.text
    assert "Quantities changed in the store." not in response.text
    db.session.expire_all()
    assert db.session.get(SalesOrder, order.id).change_warning is None


def test_deleting_an_open_order_removes_it_and_its_link_and_it_can_be_imported_again(
    signed_in_staff, demo_webstore
):
    run_import(demo_webstore, order_id=44)
    order = sales_order_for(demo_webstore, 44)
    number = order.number

    response = act(signed_in_staff, order, "delete")

    assert response.request.path == "/"
    assert f"Sales order {number} deleted." in response.text
    assert count(SalesOrder) == 0 and count(OrderLink) == 0 and count(SalesLine) == 0
    again = run_import(demo_webstore, order_id=44)
    assert again.imported == 1
    assert sales_order_for(demo_webstore, 44).number != number


def test_posted_and_then_archived_orders_are_skipped_by_imports_with_the_reason(
    signed_in_staff, demo_webstore
):
    run_import(demo_webstore, order_id=44)
    order = sales_order_for(demo_webstore, 44)

    for name, done in (("post", "posted"), ("archive", "archived")):
        act(signed_in_staff, order, name)
        again = run_import(demo_webstore, order_id=44)

        [entry] = entries(again)
        assert entry.outcome == Outcome.SKIPPED
        assert entry.message == f"{done}: {order.number} is {done}"


def test_an_action_on_an_order_changed_meanwhile_is_refused(webstore):
    order = make_order(webstore)

    # The order was read while open; someone else posted it before this delete arrived.
    db.session.execute(sa.update(SalesOrder).values(status=POSTED))
    with pytest.raises(actions.ActionRefused, match="cannot be deleted: it is posted"):
        actions.perform(order, actions.ACTIONS["delete"])

    assert status_of(order) == POSTED


# The header's search


def test_the_header_search_finds_the_pages_the_user_may_open_by_name(app, signed_in_staff):
    results = signed_in_staff.get("/search?q=results").text
    users = signed_in_staff.get("/search?q=users").text
    memos = signed_in_staff.get("/search?q=credit").text

    assert f'<a href="{endpoint_url(app, "imports.results")}">Import Results</a>' in results
    assert f'<a href="{endpoint_url(app, "credit_memos.index")}">Sales Credit Memos</a>' in memos
    assert endpoint_url(app, "setup.users") not in users  # admins only


def test_the_header_search_goes_straight_to_an_order_by_its_number(signed_in_viewer, webstore):
    order = make_order(webstore)
    digits = str(int(order.number[2:]))

    for term in (order.number.lower(), digits, order.external_document_no):
        response = signed_in_viewer.get(f"/search?q={term}")
        assert response.status_code == 302, term
        assert response.headers["Location"] == f"/orders/{order.id}"


def test_the_header_search_takes_a_store_order_number_written_with_its_hash(
    signed_in_viewer, webstore
):
    store_600 = make_order(webstore, name="Noé Pastor", external_document_no="600")
    make_order(webstore, name="Ada Lovelace", number="SO00600", external_document_no="1234")

    page = signed_in_viewer.get("/search", query_string={"q": "#600"})
    typeahead = signed_in_viewer.get(
        "/search", query_string={"q": "#600"}, headers={"HX-Request": "true"}
    ).text
    in_list = listed(signed_in_viewer.get("/", query_string={"q": "#600"}).text)

    assert page.status_code == 302  # the store's order 600, not SO00600
    assert page.headers["Location"] == f"/orders/{store_600.id}"
    assert found_links(typeahead, "orders")[0] == f"{store_600.number} Noé Pastor"
    assert store_600.number in in_list


def test_names_companies_and_descriptions_are_found_without_accents_in_any_case(
    signed_in_viewer, webstore
):
    noe = Customer(number="C07201", name="Noé Pastor", company="Café Ñandú")
    jose = Customer(number="C07202", name="Jose Patel")
    db.session.add_all([noe, jose])
    order = make_order(webstore, name="Noé Pastor", customer=noe)
    make_order(webstore, name="Noel Paster")
    make_item("I07201", "Crème brûlée dish", "DISH-1")

    def header(term: str) -> str:
        return signed_in_viewer.get("/search", query_string={"q": term}).text

    for term in ("noe pastor", "NOÉ PASTOR", "Noe Pástor"):
        assert found_links(header(term), "orders") == [f"{order.number} Noé Pastor"], term
        assert found_links(header(term), "customers") == ["C07201 Noé Pastor"], term
        assert listed(signed_in_viewer.get("/", query_string={"q": term}).text) == [order.number]
    assert found_links(header("cafe nandu"), "customers") == ["C07201 Noé Pastor"]
    assert found_links(header("josé"), "customers") == ["C07202 Jose Patel"]
    assert found_links(header("creme brulee"), "items") == ["I07201 Crème brûlée dish"]
    customers = signed_in_viewer.get("/customers", query_string={"q": "noe pastor"}).text
    items = signed_in_viewer.get("/items", query_string={"q": "BRULEE"}).text
    assert f'href="/customers/{noe.id}"' in customers
    assert "Crème brûlée dish" in items


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("TEST_DATABASE_URL", ""), reason="PostgreSQL's indexes"
)
def test_searching_names_without_accents_reads_their_trigram_indexes(app):
    """Each searched name, company and description has a trigram index on its folded form
    (migration 0018), which the search's condition can use: with sequential scans off, the
    plan reads it rather than the table."""
    cases = [
        (Customer, customers_queries.search_condition, "ix_trgm_customers_name_folded"),
        (Customer, customers_queries.search_condition, "ix_trgm_customers_company_folded"),
        (SalesOrder, queries.search_condition, "ix_trgm_sales_orders_sell_to_name_folded"),
        (SalesOrder, queries.search_condition, "ix_trgm_sales_orders_sell_to_company_folded"),
        (Item, lambda t: items_queries.search_conditions(t)[0], "ix_trgm_items_description_folded"),
    ]
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    for model, condition, index in cases:
        query = sa.select(model.id).where(condition("noe pastor"))
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(db.session.scalars(sa.text(f"EXPLAIN {compiled}")))
        assert index in plan, plan
    db.session.rollback()


@pytest.mark.skipif(
    "postgresql" not in os.environ.get("TEST_DATABASE_URL", ""), reason="PostgreSQL's unaccent"
)
def test_postgresql_folds_each_latin_letter_as_the_search_term_is_folded(app):
    """The term is folded in Python (portal.text.fold), the column by search_fold() in the
    database: every letter of Latin-1 and Latin Extended-A (but 'ŉ', which unaccent spells
    with an apostrophe) folds alike, so that a name typed as it is written still finds it."""
    letters = [chr(c) for c in range(0xC0, 0x180) if chr(c).isalpha() and chr(c) != "ŉ"]
    differ = [
        letter
        for letter in letters
        if not db.session.scalar(
            sa.select(sa.func.search_fold(letter).ilike(fold(letter), escape="/"))
        )
    ]

    assert len(letters) == 189 and differ == []


def found_links(html: str, kind: str) -> list[str]:
    """The link texts of one group of the search's findings ("orders", "customers",
    "items"), top to bottom: number and name."""
    match = re.search(rf'aria-labelledby="(?:found|suggest)-{kind}">(.*?)</section>', html, re.S)
    if not match:
        return []
    return [
        " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", text)).split())
        for text in re.findall(r'<li><a href="[^"]+">(.*?)</a>', match[1], re.S)
    ]


def make_item(number: str, description: str, sku: str | None = None) -> Item:
    item = Item(number=number, description=description, sku=sku)
    db.session.add(item)
    db.session.commit()
    return item


def test_the_header_search_finds_orders_customers_and_items_by_name(signed_in_viewer, webstore):
    holger = Customer(number="C07001", name="Holger Brandt", email="hb@example.de")
    db.session.add(holger)
    order = make_order(webstore, name="Holger Brandt", customer=holger)
    make_order(webstore, name="Ada Lovelace")
    make_item("I07001", "Holger's mug", "MUG-HB")
    make_item("I07002", "Plain mug", "MUG-HOLGER")
    make_item("I07003", "Teapot", "TEA-1")

    response = signed_in_viewer.get("/search?q=holger")

    assert response.status_code == 200
    assert found_links(response.text, "orders") == [f"{order.number} Holger Brandt"]
    assert found_links(response.text, "customers") == ["C07001 Holger Brandt"]
    assert found_links(response.text, "items") == ["I07001 Holger's mug", "I07002 Plain mug"]
    assert f'href="/orders/{order.id}"' in response.text
    assert f'href="/customers/{holger.id}"' in response.text


def test_the_header_search_finds_the_orders_the_orders_list_finds(signed_in_viewer, webstore):
    grace = Customer(number="C07100", name="Grace Hopper", email="grace@navy.example")
    db.session.add(grace)
    make_order(webstore, name="G. Hopper", customer=grace, sell_to_email="orders@navy.example")
    make_order(
        webstore, name="Guest buyer", email="guest@shop.example", external_document_no="7731"
    )
    make_order(webstore, name="Alan Turing", email="alan@bletchley.example")

    for term in ("hopper", "grace@navy", "navy.example", "7731", "SO0", "guest", "TURING"):
        in_list = listed(signed_in_viewer.get("/", query_string={"q": term}).text)
        typeahead = signed_in_viewer.get(
            "/search", query_string={"q": term}, headers={"HX-Request": "true"}
        ).text

        found = [link.split()[0] for link in found_links(typeahead, "orders")]
        assert in_list and sorted(found) == sorted(in_list), term


def test_each_kind_shows_five_and_links_to_all_of_them_in_its_list(signed_in_viewer, webstore):
    orders = [make_order(webstore, name=f"Holger {n}") for n in range(7)]
    for n in range(6):
        make_item(f"I0720{n}", f"Holger mug {n}")

    html = signed_in_viewer.get("/search?q=holger").text

    assert len(found_links(html, "orders")) == 5
    assert found_links(html, "orders")[0] == f"{orders[-1].number} Holger 6"  # newest first
    assert '<a href="/?q=holger">See all 7 sales orders</a>' in html
    assert len(found_links(html, "customers")) == 5  # make_order made one per order
    assert '<a href="/customers?q=holger">See all 7 customers</a>' in html
    assert len(found_links(html, "items")) == 5
    assert '<a href="/items?q=holger">See all 6 items</a>' in html


def test_the_typeahead_gets_the_findings_alone_and_an_exact_number_stays_a_finding(
    signed_in_viewer, webstore
):
    order = make_order(webstore, name="Holger Brandt")

    response = signed_in_viewer.get(f"/search?q={order.number}", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text and "<h1" not in response.text
    assert found_links(response.text, "orders") == [f"{order.number} Holger Brandt"]
    assert 'id="suggest-orders"' in response.text
    assert "HX-Request" in response.headers["Vary"]


def test_the_typeahead_of_an_empty_box_is_empty(signed_in_viewer):
    response = signed_in_viewer.get("/search?q=+", headers={"HX-Request": "true"})

    assert response.status_code == 200 and response.text.strip() == ""


def test_the_header_search_says_when_nothing_matches(signed_in_viewer, webstore):
    make_order(webstore, name="Holger Brandt")

    page = signed_in_viewer.get("/search?q=zebra").text
    typeahead = signed_in_viewer.get("/search?q=zebra", headers={"HX-Request": "true"}).text

    for html in (page, typeahead):
        assert "No sales orders, customers or items match “zebra”." in html
        assert found_links(html, "orders") == []


def test_a_term_under_three_characters_finds_orders_by_exact_number_only(
    signed_in_viewer, webstore
):
    exact = make_order(webstore, name="Holger Brandt", external_document_no="77")
    make_order(webstore, name="Ada Lovelace", external_document_no="1773")

    found = signed_in_viewer.get("/search?q=77", headers={"HX-Request": "true"}).text
    nothing = signed_in_viewer.get("/search?q=zz", headers={"HX-Request": "true"}).text

    assert found_links(found, "orders") == [f"{exact.number} Holger Brandt"]
    assert "No sales order has the number “zz”. Type three characters or more" in nothing


def test_the_header_search_asks_the_database_three_times_for_a_name(app, viewer_user, webstore):
    make_order(webstore, name="Holger Brandt")
    assert viewer_user.role  # loaded, as the signed-in user is before a view runs
    statements = []

    def record(connection, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        results = search.find_everything("holger", viewer_user)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    assert [o.sell_to_name for o in results.orders.rows] == ["Holger Brandt"]
    assert len(statements) == 3  # orders, customers, items: each counted only beyond five


def test_a_deep_page_is_reached_through_its_cursor_alone(signed_in_viewer, webstore):
    customer = Customer(number="C08888", name="Bulk Buyer")
    db.session.add(customer)
    db.session.flush()
    start = date(2024, 1, 1)
    db.session.execute(
        sa.insert(SalesOrder),
        [
            {
                "number": f"SO{50000 + i:05d}",
                "webstore_id": webstore.id,
                "customer_id": customer.id,
                "order_date": start + timedelta(days=i % 300),
                "ordered_at": datetime(2024, 1, 1, tzinfo=UTC),
                "currency": "EUR",
                "external_document_no": str(90000 + i),
                "woo_order_id": 90000 + i,
                "sell_to_name": "Bulk Buyer",
                "amount_including_tax": Decimal(i % 97),
            }
            for i in range(600)
        ],
    )
    db.session.commit()
    last = db.session.scalar(
        sa.select(SalesOrder).order_by(SalesOrder.order_date, SalesOrder.id).offset(5).limit(1)
    )

    html = signed_in_viewer.get(f"/?after={last.id}&page=12").text

    assert len(listed(html)) == 5  # the 5 oldest follow the 6th oldest, newest first
    assert "Page 12" in html and 'rel="next"' not in html


def test_an_empty_portal_shows_the_steps_to_a_first_import(app, signed_in_admin):
    page = signed_in_admin.get("/").text

    assert "Your first import, in three steps" in page
    assert '<a href="/setup/webstores/new">Set up a webstore</a>' in page
    assert '<a href="/imports/new">Import Webstore Orders</a>' in page


def test_the_steps_go_once_a_webstore_exists(signed_in_admin, demo_webstore):
    assert "Your first import" not in signed_in_admin.get("/").text


# How it was paid, how it ships, its VAT and its currency


@pytest.fixture
def booked(webstore):
    """An order with the setup's codes and VAT codes on its lines, as an import books it."""
    db.session.add_all(
        [
            PaymentMethod(code="CARD", description="Credit card"),
            ShipmentMethod(code="DAP", description="Delivered at place"),
            ShippingAgent(code="DHL", name="DHL Express"),
        ]
    )
    vat_codes()
    return booked_order(
        webstore,
        [
            Line("100.00", {"DE19": "19.00"}, description="Mug"),
            Line("10.00", {"CA-GST": "0.50", "CA-PST": "0.70"}, description="Maple syrup"),
            Line("4.90", {"DE19": "0.93"}, LineType.SHIPPING, "Flat rate"),
            Line("2.00", {}, LineType.FEE, "Gift wrap"),
        ],
        payment_method="stripe",
        payment_method_title="Card (Stripe)",
        payment_method_code="CARD",
        shipment_method_code="DAP",
        shipping_agent_code="DHL",
    )


def test_an_order_page_shows_payment_and_shipment_method_agent_vat_codes_and_summary(
    signed_in_viewer, booked
):
    html = signed_in_viewer.get(f"/orders/{booked.id}").text

    shown = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Payment method CARD Credit card (store: Card (Stripe))" in shown
    assert "Shipment method DAP (Delivered at place)" in shown
    assert "Shipping agent DHL (DHL Express)" in shown
    assert re.findall(r'class="vat-code">([^<]*)</td>', html) == [
        "DE19",
        "CA-GST + CA-PST",
        "DE19",
        "",
    ]
    summary = html[html.index('id="vat-summary"') :]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", summary[: summary.index("</tbody>")])
    assert cells == [
        *("No VAT code", "", "2.00", "0.00"),
        *("CA-GST", "5 %", "10.00", "0.50"),
        *("CA-PST", "7 %", "10.00", "0.70"),
        *("DE19", "19 %", "104.90", "19.93"),
    ]
    assert "21.13 EUR" in summary  # the order's tax, to the cent


def test_an_order_in_another_currency_shows_its_rate_and_the_company_amounts(
    app, signed_in_viewer, webstore
):
    app.config["COMPANY_CURRENCY"] = "EUR"
    vat_codes()
    order = booked_order(
        webstore,
        [Line("100.00", {"DE19": "19.00"})],
        currency="USD",
        exchange_rate=Decimal("0.9215"),
        company="EUR",
    )

    html = signed_in_viewer.get(f"/orders/{order.id}").text

    assert "1 USD = 0.9215 EUR" in html
    company = html[html.index('id="amounts-lcy"') :]
    assert "92.15 EUR" in company and "17.51 EUR" in company and "109.66 EUR" in company


def test_an_order_in_the_company_currency_shows_no_rate(app, signed_in_viewer, booked):
    app.config["COMPANY_CURRENCY"] = "EUR"

    html = signed_in_viewer.get(f"/orders/{booked.id}").text

    assert 'id="amounts-lcy"' not in html and "Exchange rate" not in html


def carrier_offered(html: str) -> list[str]:
    return re.findall(r'name="shipping_carrier"[^>]*value="([^"]*)"', html) or re.findall(
        r'value="([^"]*)"[^>]*name="shipping_carrier"', html
    )


def test_the_carrier_offered_when_posting_defaults_from_the_shipping_agent(
    signed_in_staff, webstore, booked
):
    webstore.writeback_enabled = True
    db.session.commit()

    page = signed_in_staff.get(f"/orders/{booked.id}").text
    confirm = signed_in_staff.get(f"/orders/{booked.id}/post").text

    # The page's tracking form and its post dialog, and the page without JavaScript.
    assert carrier_offered(page) == ["DHL Express", "DHL Express"]
    assert carrier_offered(confirm) == ["DHL Express"]


def test_a_carrier_entered_wins_over_the_shipping_agent(signed_in_staff, webstore, booked):
    webstore.writeback_enabled = True
    booked.shipping_carrier = "UPS"
    db.session.commit()

    page = signed_in_staff.get(f"/orders/{booked.id}").text

    assert carrier_offered(page) == ["UPS", "UPS"]


def test_posting_with_the_carrier_offered_keeps_it_on_the_order_and_its_invoice(
    signed_in_staff, webstore, booked
):
    webstore.writeback_enabled = True
    db.session.commit()
    confirm = signed_in_staff.get(f"/orders/{booked.id}/post").text

    signed_in_staff.post(
        f"/orders/{booked.id}/post",
        {"shipping_carrier": carrier_offered(confirm)[0], "tracking_number": "JD0123"},
    )

    db.session.expire_all()
    invoice = db.session.scalar(sa.select(PostedSalesInvoice))
    assert (invoice.shipping_carrier, invoice.tracking_number) == ("DHL Express", "JD0123")
    assert db.session.get(SalesOrder, booked.id).shipping_carrier == "DHL Express"

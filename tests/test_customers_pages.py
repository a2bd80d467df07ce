"""Customers: the list and its search, a customer's page, staff's form, the admins' merge."""

import html as html_module
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import count as counter

import sqlalchemy as sa

from portal import db
from portal.customers.forms import EDITABLE
from portal.models import Customer, CustomerMapping, Outcome, RunStatus, SalesOrder
from portal.sync.numbers import next_number
from portal.sync.runs import execute_run, retry_failed
from tests.sync_helpers import count, entries, run_import, sales_order_for

_numbers = counter(1)


def make_customer(name="Ada Lovelace", email=None, **fields) -> Customer:
    customer = Customer(number=next_number("CUST"), name=name, email=email, **fields)
    db.session.add(customer)
    db.session.commit()
    return customer


def make_order(webstore, customer) -> SalesOrder:
    n = next(_numbers)
    order = SalesOrder(
        number=f"SO9{n:04d}",
        webstore_id=webstore.id,
        customer_id=customer.id,
        order_date=date(2025, 3, 1),
        ordered_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        currency="EUR",
        external_document_no=str(5000 + n),
        woo_order_id=5000 + n,
        sell_to_name=customer.name,
        amount_including_tax=Decimal("10.00"),
    )
    db.session.add(order)
    db.session.commit()
    return order


def map_customer(webstore, customer, woo_customer_id) -> CustomerMapping:
    mapping = CustomerMapping(
        webstore_id=webstore.id, woo_customer_id=woo_customer_id, customer_id=customer.id
    )
    db.session.add(mapping)
    db.session.commit()
    return mapping


def listed(html: str) -> list[str]:
    """The customer numbers in the list's table, top to bottom."""
    table = html[html.index('id="customers-table"') :]
    return re.findall(r'href="/customers/\d+">(C\d{5})</a>', table)


def form_data(**changes) -> dict:
    return {"name": "Grace Hopper", "email": "", "country": "", "currency": "", **changes}


# The list


def test_the_list_shows_number_name_email_country_origin_and_order_count(
    signed_in_viewer, webstore
):
    ada = make_customer("Ada Lovelace", "ada@example.com", country="GB", created_by_sync=True)
    make_customer("Grace Hopper", "grace@example.com", country="US")
    make_order(webstore, ada)
    make_order(webstore, ada)

    response = signed_in_viewer.get("/customers")

    assert response.status_code == 200
    assert "<title>Customers · Webstore Connector</title>" in response.text
    assert listed(response.text) == ["C00001", "C00002"]
    rows = re.findall(r"<tr>(.*?)</tr>", response.text, re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    assert [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells[0]] == [
        "C00001",
        "Ada Lovelace",
        "ada@example.com",
        "GB",
        "by sync",
        "2",
    ]
    assert [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells[1]] == [
        "C00002",
        "Grace Hopper",
        "grace@example.com",
        "US",
        "by hand",
        "0",
    ]
    assert f'href="/?customer={ada.id}"' in response.text
    assert "Customers 1–2 of 2, page 1." in response.text


def test_search_finds_by_part_of_a_name_an_email_a_number_or_a_company_in_any_case(
    signed_in_viewer,
):
    make_customer("Ada Lovelace", "ada@example.com")
    make_customer("Grace Hopper", "grace@navy.mil")
    make_customer("Alan Turing", "alan@bletchley.uk")

    def found(term):
        return listed(signed_in_viewer.get(f"/customers?q={term}").text)

    assert found("hopp") == ["C00002"]
    assert found("LOVE") == ["C00001"]
    assert found("navy.mil") == ["C00002"]
    assert found("alan@bletchley.uk") == ["C00003"]
    assert found("C00003") == ["C00003"]
    assert found("c0000") == ["C00001", "C00002", "C00003"]
    assert found("a%") == []
    assert "No customers match “nobody”." in signed_in_viewer.get("/customers?q=nobody").text
    make_customer("Wile E. Coyote", company="Acme Corporation")
    assert found("acme") == ["C00004"]  # and by company


def test_pages_follow_each_other_forward_and_back_without_gaps_or_repeats(
    signed_in_viewer, monkeypatch
):
    from portal.customers import queries

    monkeypatch.setattr(queries, "PER_PAGE", 2)
    for n in range(5):
        make_customer(f"Customer {n}")

    first = signed_in_viewer.get("/customers").text
    assert listed(first) == ["C00001", "C00002"]
    assert "Customers 1–2 of 5, page 1." in first
    second_url = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="next"', first)[1]
    second = signed_in_viewer.get(second_url.replace("&amp;", "&")).text
    assert listed(second) == ["C00003", "C00004"]
    assert "Customers 3–4 of 5, page 2." in second
    third_url = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="next"', second)[1]
    third = signed_in_viewer.get(third_url.replace("&amp;", "&")).text
    assert listed(third) == ["C00005"]
    assert 'rel="next"' not in third
    back_url = re.search(r'href="([^"]+)" hx-get="[^"]+" rel="prev"', third)[1]
    back = signed_in_viewer.get(back_url.replace("&amp;", "&")).text
    assert listed(back) == ["C00003", "C00004"]
    assert "page 2." in back


def test_htmx_gets_only_the_table_fragment_and_a_tidy_url_to_push(signed_in_viewer):
    make_customer("Grace Hopper", "grace@example.com")

    response = signed_in_viewer.get("/customers?q=grace", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="customers-table"')
    assert "<html" not in response.text
    assert listed(response.text) == ["C00001"]
    assert response.headers["HX-Push-Url"] == "/customers?q=grace"
    assert "HX-Request" in response.headers["Vary"]
    plain = signed_in_viewer.get("/customers?q=grace")
    assert "<html" in plain.text
    assert "HX-Request" in plain.headers["Vary"]


def test_the_list_counts_orders_in_a_fixed_number_of_queries(app, signed_in_viewer, webstore):
    for n in range(6):
        customer = make_customer(f"Customer {n}")
        make_order(webstore, customer)
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = signed_in_viewer.get("/customers").text
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)

    assert len(listed(html)) == 6
    on_orders = [s for s in statements if "FROM sales_orders" in s]
    assert len(on_orders) == 1
    assert "GROUP BY sales_orders.customer_id" in on_orders[0]


def test_the_nav_links_to_customers(signed_in_viewer):
    html = signed_in_viewer.get("/customers").text
    assert '<a href="/customers" aria-current="page">Customers</a>' in html


# A customer's page


def test_an_imported_customers_page_shows_address_mapping_and_sales_orders(
    signed_in_viewer, demo_webstore
):
    # Orders 47 and 48 of the sandbox are two orders of one registered customer.
    run_import(demo_webstore, order_id=47)
    run_import(demo_webstore, order_id=48)
    mapping = db.session.scalar(sa.select(CustomerMapping))
    customer = mapping.customer
    orders = list(db.session.scalars(sa.select(SalesOrder).order_by(SalesOrder.id)))

    html = signed_in_viewer.get(f"/customers/{customer.id}").text

    assert f"<h1>Customer {customer.number}</h1>" in html
    assert "created by sync" in html
    assert customer.city and customer.city in html
    assert customer.email in html
    table = html[html.index('id="customer-mappings"') : html.index('id="orders-title"')]
    assert re.findall(r"<td>(.*?)</td>", table) == [
        f'<a href="/customers/mappings?webstore={demo_webstore.code}">{demo_webstore.code}</a> '
        f'<small class="muted">{demo_webstore.name}</small>',
        str(mapping.woo_customer_id),
    ]
    assert mapping.woo_customer_id == 2
    listed_orders = html[html.index('id="customer-orders"') :]
    newest_first = sorted(orders, key=lambda o: (o.order_date, o.id), reverse=True)
    assert re.findall(r'<a href="/orders/(\d+)">', listed_orders) == [
        str(o.id) for o in newest_first
    ]
    assert len(orders) == 2
    assert "Sales orders (2)" in html


def test_a_guest_customers_page_says_it_has_no_mapping(signed_in_viewer, demo_webstore):
    run_import(demo_webstore, order_id=44)  # a guest order
    customer = db.session.scalar(sa.select(Customer))

    html = signed_in_viewer.get(f"/customers/{customer.id}").text

    assert count(CustomerMapping) == 0
    assert "Not mapped to a registered webstore customer; guest orders find this customer" in html
    assert "Sales orders (1)" in html


def test_an_unknown_customer_is_404(signed_in_viewer):
    assert signed_in_viewer.get("/customers/999999").status_code == 404


# Staff create and edit


def test_staff_create_a_customer_with_the_next_number_and_a_normalized_email(signed_in_staff):
    page = signed_in_staff.get("/customers/new")
    assert page.status_code == 200
    assert 'name="csrf_token"' in page.text

    response = signed_in_staff.post(
        "/customers/new",
        form_data(email="  Grace@Navy.MIL ", city="Arlington", country="us", currency="usd"),
    )

    customer = db.session.scalar(sa.select(Customer))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/customers/{customer.id}"
    assert customer.number == "C00001"
    assert customer.email == "grace@navy.mil"
    assert (customer.city, customer.country, customer.currency) == ("Arlington", "US", "USD")
    assert customer.created_by_sync is False
    shown = signed_in_staff.get(f"/customers/{customer.id}").text
    assert "Customer C00001 saved." in shown


def test_a_taken_email_is_refused_inline_with_422(signed_in_staff):
    make_customer("Ada Lovelace", "ada@example.com")

    response = signed_in_staff.post("/customers/new", form_data(email=" ADA@example.com"))

    assert response.status_code == 422
    assert (
        '<small class="field-error" id="email-error">Customer C00001 has this email already.'
        in response.text
    )
    assert 'aria-invalid="true"' in response.text
    assert count(Customer) == 1


def test_a_missing_name_is_refused_inline_with_422(signed_in_staff):
    response = signed_in_staff.post("/customers/new", form_data(name=" "))

    assert response.status_code == 422
    assert 'id="name-error"' in response.text
    assert count(Customer) == 0


def test_staff_edit_a_customer_and_may_keep_its_own_email(signed_in_staff):
    customer = make_customer("Ada Lovelace", "ada@example.com")
    make_customer("Grace Hopper", "grace@example.com")

    kept = signed_in_staff.post(
        f"/customers/{customer.id}/edit",
        form_data(name="Ada King", email="ada@example.com", city="London"),
    )
    taken = signed_in_staff.post(
        f"/customers/{customer.id}/edit", form_data(name="Ada", email="grace@example.com")
    )

    assert kept.status_code == 303
    assert taken.status_code == 422
    assert "Customer C00002 has this email already." in taken.text
    db.session.expire_all()
    assert (customer.number, customer.name, customer.email, customer.city) == (
        "C00001",
        "Ada King",
        "ada@example.com",
        "London",
    )


# Merge


def test_merge_moves_every_sales_order_and_mapping_and_deletes_the_duplicate(
    signed_in_admin, webstore
):
    keep = make_customer("Ada Lovelace", "ada@example.com")
    duplicate = make_customer("Ada L.", None)
    map_customer(webstore, keep, 7)
    map_customer(webstore, duplicate, 8)
    map_customer(webstore, duplicate, 9)
    orders = [make_order(webstore, keep)] + [make_order(webstore, duplicate) for _ in range(3)]
    duplicate_id = duplicate.id

    response = signed_in_admin.post(f"/customers/{duplicate_id}/merge", {"target": "c00001"})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/customers/{keep.id}"
    db.session.expire_all()
    assert db.session.get(Customer, duplicate_id) is None
    assert count(SalesOrder) == 4
    assert count(SalesOrder, SalesOrder.customer_id == keep.id) == 4
    assert sorted(
        db.session.scalars(
            sa.select(CustomerMapping.woo_customer_id).where(CustomerMapping.customer_id == keep.id)
        )
    ) == [7, 8, 9]
    assert count(CustomerMapping) == 3
    page = signed_in_admin.get(f"/customers/{keep.id}").text
    assert (
        "Customer C00002 merged into C00001 and deleted: 3 sales orders and "
        "2 webstore mappings moved." in page
    )
    assert all(f'href="/orders/{o.id}"' in page for o in orders)


def test_merging_imported_customers_keeps_both_sales_orders_and_the_mapping(
    signed_in_admin, demo_webstore
):
    run_import(demo_webstore, order_id=44)  # a guest's order
    run_import(demo_webstore, order_id=47)  # a registered customer's order
    guest = db.session.scalar(sa.select(Customer).order_by(Customer.id))
    registered = db.session.scalar(sa.select(CustomerMapping)).customer
    guest_id, guest_email, registered_email = guest.id, guest.email, registered.email

    response = signed_in_admin.post(f"/customers/{registered.id}/merge", {"target": guest.number})

    assert response.status_code == 303
    db.session.expire_all()
    assert count(Customer) == 1
    assert count(SalesOrder, SalesOrder.customer_id == guest_id) == 2
    assert db.session.scalar(sa.select(CustomerMapping.customer_id)) == guest_id
    assert db.session.get(Customer, guest_id).email == guest_email
    page = signed_in_admin.get(f"/customers/{guest_id}").text
    assert (
        f"1 sales order and 1 webstore mapping moved; its email {registered_email} "
        f"was not kept ({guest.number} has its own)." in page
    )
    assert "Sales orders (2)" in page


def test_merge_into_an_unknown_customer_or_itself_is_refused_inline(signed_in_admin):
    customer = make_customer("Ada Lovelace")

    unknown = signed_in_admin.post(f"/customers/{customer.id}/merge", {"target": "C09999"})
    itself = signed_in_admin.post(f"/customers/{customer.id}/merge", {"target": "C00001"})

    assert unknown.status_code == 422
    assert "There is no customer C09999." in unknown.text
    assert itself.status_code == 422
    assert "A customer cannot be merged into itself." in itself.text
    assert count(Customer) == 1


def test_merge_gives_the_target_the_duplicates_email_when_it_has_none(signed_in_admin):
    keep = make_customer("Ada Lovelace", None)
    duplicate = make_customer("Ada L.", "ada@example.com")

    signed_in_admin.post(f"/customers/{duplicate.id}/merge", {"target": keep.number})

    db.session.expire_all()
    assert keep.email == "ada@example.com"


def test_only_admins_are_offered_the_merge(signed_in_staff):
    customer = make_customer()
    assert (
        "Merge into another customer" not in signed_in_staff.get(f"/customers/{customer.id}").text
    )


def test_staff_may_not_merge(signed_in_staff):
    keep, duplicate = make_customer("Ada"), make_customer("Ada L.")

    response = signed_in_staff.post(f"/customers/{duplicate.id}/merge", {"target": keep.number})

    assert response.status_code == 403
    assert count(Customer) == 2


def test_a_merge_without_the_csrf_token_is_refused(signed_in_admin):
    keep, duplicate = make_customer("Ada"), make_customer("Ada L.")

    response = signed_in_admin.client.post(
        f"/customers/{duplicate.id}/merge", data={"target": keep.number}
    )

    assert response.status_code == 400
    assert count(Customer) == 2


# Viewers


def test_viewers_read_but_get_403_on_every_write(signed_in_viewer):
    customer = make_customer("Ada Lovelace")

    assert signed_in_viewer.get("/customers").status_code == 200
    page = signed_in_viewer.get(f"/customers/{customer.id}")
    assert page.status_code == 200
    assert "New customer" not in signed_in_viewer.get("/customers").text
    assert f"/customers/{customer.id}/edit" not in page.text
    assert signed_in_viewer.get("/customers/new").status_code == 403
    assert signed_in_viewer.post("/customers/new", form_data()).status_code == 403
    assert signed_in_viewer.get(f"/customers/{customer.id}/edit").status_code == 403
    assert signed_in_viewer.post(f"/customers/{customer.id}/edit", form_data()).status_code == 403
    assert (
        signed_in_viewer.post(f"/customers/{customer.id}/merge", {"target": "C00001"}).status_code
        == 403
    )
    assert count(Customer) == 1


# Webstore customer mappings


def mapping_rows() -> list[tuple[int, int, str]]:
    return list(
        db.session.execute(
            sa.select(CustomerMapping.webstore_id, CustomerMapping.woo_customer_id, Customer.number)
            .join(Customer)
            .order_by(CustomerMapping.woo_customer_id)
        ).tuples()
    )


def test_the_mapping_page_maps_remaps_and_unmaps_a_webstore_customer(signed_in_staff, webstore):
    ada = make_customer("Ada Lovelace", "ada@example.com")
    grace = make_customer("Grace Hopper")

    mapped = signed_in_staff.post(
        "/customers/mappings?webstore=main",
        {"woo_customer_id": "7", "customer_number": f" {ada.number.lower()} "},
        follow_redirects=True,
    )
    remapped = signed_in_staff.post(
        "/customers/mappings?webstore=MAIN",
        {"woo_customer_id": "7", "customer_number": grace.number},
        follow_redirects=True,
    )

    assert f"MAIN customer 7 is now mapped to {ada.number} Ada Lovelace." in mapped.text
    assert (
        f"MAIN customer 7 is now mapped to {grace.number} Grace Hopper (was {ada.number})."
        in remapped.text
    )
    assert mapping_rows() == [(webstore.id, 7, grace.number)]
    listing = remapped.text[remapped.text.index('id="mappings-table"') :]
    assert "<td>7</td>" in listing and f">{grace.number}</a> Grace Hopper" in listing

    again = signed_in_staff.post(
        "/customers/mappings?webstore=MAIN",
        {"woo_customer_id": "7", "customer_number": grace.number},
        follow_redirects=True,
    )
    assert f"MAIN customer 7 is mapped to {grace.number} already." in again.text

    mapping_id = db.session.scalar(sa.select(CustomerMapping.id))
    unmapped = signed_in_staff.post(
        f"/customers/mappings/{mapping_id}/delete?webstore=MAIN", follow_redirects=True
    )
    assert f"MAIN customer 7 is no longer mapped to {grace.number}" in unmapped.text
    assert mapping_rows() == []
    assert count(Customer) == 2


def test_mapping_to_an_unknown_customer_or_a_bad_id_is_refused_inline(signed_in_staff, webstore):
    unknown = signed_in_staff.post(
        "/customers/mappings?webstore=MAIN", {"woo_customer_id": "7", "customer_number": "C09999"}
    )
    bad_id = signed_in_staff.post(
        "/customers/mappings?webstore=MAIN", {"woo_customer_id": "0", "customer_number": "C00001"}
    )

    assert unknown.status_code == 422
    assert "There is no customer C09999." in unknown.text
    assert bad_id.status_code == 422
    assert "A customer ID is a whole number from 1." in bad_id.text
    assert mapping_rows() == []


def test_a_mapping_page_of_an_unknown_webstore_is_404(signed_in_viewer, webstore):
    assert signed_in_viewer.get("/customers/mappings?webstore=NOPE").status_code == 404


def test_viewers_read_the_customer_mappings_but_may_not_change_them(signed_in_viewer, webstore):
    ada = make_customer()
    mapping = map_customer(webstore, ada, 7)

    page = signed_in_viewer.get("/customers/mappings?webstore=MAIN")
    posted = signed_in_viewer.post(
        "/customers/mappings?webstore=MAIN", {"woo_customer_id": "8", "customer_number": ada.number}
    )
    deleted = signed_in_viewer.post(f"/customers/mappings/{mapping.id}/delete?webstore=MAIN")

    assert page.status_code == 200 and "<td>7</td>" in page.text
    assert "Map a customer" not in page.text and "Unmap" not in page.text
    assert posted.status_code == 403 and deleted.status_code == 403
    assert mapping_rows() == [(webstore.id, 7, ada.number)]


def test_a_webstore_customer_mapped_by_hand_lets_the_failed_order_import_on_retry(
    signed_in_staff, demo_webstore, store
):
    demo_webstore.auto_create_customers = False
    db.session.commit()
    account = make_customer("Holger's company account")
    created = store.create_order(customer_id=2, status="processing")

    run = run_import(demo_webstore, order_id=created["id"])

    [failed] = entries(run, Outcome.FAILED)
    mapping_page = "map webstore customer 2 to an existing customer on Customers > Mappings"
    assert f"{mapping_page} (/customers/mappings?webstore=DEMO)" in failed.message
    run_page = signed_in_staff.get(f"/imports/runs/{run.id}").text
    assert '<a href="/customers/mappings?webstore=DEMO">' in run_page

    mapped = signed_in_staff.post(
        "/customers/mappings?webstore=DEMO",
        {"woo_customer_id": "2", "customer_number": account.number},
    )
    assert mapped.status_code == 303
    retry = execute_run(retry_failed(run).id)

    assert (retry.status, retry.imported, retry.failed) == (RunStatus.SUCCEEDED, 1, 0)
    assert sales_order_for(demo_webstore, created["id"]).customer_id == account.id
    assert count(Customer) == 1


# A failure's "create the customer" link


GUEST_ADDRESS = {
    "first_name": "Noé",
    "last_name": "Pastor",
    "company": "Café Ñandú",
    "address_1": "Calle Mayor 5",
    "address_2": "2º B",
    "city": "Zaragoza",
    "state": "Z",
    "postcode": "50001",
    "country": "ES",
    "phone": "+34 976 000 000",
}


def field_value(html: str, name: str) -> str | None:
    """The value a form's text field is filled with."""
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    assert match, name
    value = re.search(r'\bvalue="([^"]*)"', match[0])
    return html_module.unescape(value[1]) if value else None


def test_the_failures_create_the_customer_link_fills_the_form_from_the_failed_order(
    signed_in_staff, demo_webstore, store
):
    demo_webstore.auto_create_customers = False
    db.session.commit()
    created = store.create_order(customer_id=0, status="processing", email="noe@example.es")
    store.modify_order(created["id"], address=GUEST_ADDRESS)
    run = run_import(demo_webstore, order_id=created["id"])
    [failed] = entries(run, Outcome.FAILED)
    assert "create the customer with that email on Customers (/customers/new)" in failed.message

    run_page = signed_in_staff.get(f"/imports/runs/{run.id}").text
    link = f"/customers/new?webstore_id={demo_webstore.id}&order_id={created['id']}"
    assert f'(<a href="{html_module.escape(link)}">/customers/new</a>)' in run_page
    form = signed_in_staff.get(link).text

    assert f"Filled from webstore order {created['id']} of DEMO" in form
    filled = {name: field_value(form, name) for name in ("name", "email", "company", "city")}
    assert filled == {
        "name": "Noé Pastor",
        "email": "noe@example.es",
        "company": "Café Ñandú",
        "city": "Zaragoza",
    }
    assert (field_value(form, "country"), field_value(form, "post_code")) == ("ES", "50001")
    assert field_value(form, "address_2") == "2º B"
    saved = signed_in_staff.post(
        link, {n: field_value(form, n) or "" for n in EDITABLE}, follow_redirects=True
    )
    assert "Customer C00001 saved." in saved.text
    retry = execute_run(retry_failed(run).id)
    assert (retry.status, retry.imported, retry.failed) == (RunStatus.SUCCEEDED, 1, 0)
    customer = db.session.scalar(sa.select(Customer))
    assert sales_order_for(demo_webstore, created["id"]).customer_id == customer.id
    assert (customer.name, customer.email, customer.address) == (
        "Noé Pastor",
        "noe@example.es",
        "Calle Mayor 5",
    )


def test_the_customer_form_says_when_the_failed_order_cannot_be_read(
    signed_in_staff, demo_webstore, store
):
    form = signed_in_staff.get(f"/customers/new?webstore_id={demo_webstore.id}&order_id=999999")

    assert form.status_code == 200
    assert "Webstore order 999999 could not be read from DEMO:" in form.text
    assert field_value(form.text, "name") == ""  # the form is left empty
    assert 'href="/orders/trace/DEMO/999999">its trace</a>' in form.text

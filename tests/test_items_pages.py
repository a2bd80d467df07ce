"""Items: the list, an item's page, items made and changed by hand, and product mappings."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.items import queries
from portal.models import (
    Customer,
    Item,
    ItemMapping,
    ItemType,
    LineType,
    Outcome,
    RunStatus,
    SalesLine,
    SalesOrder,
)
from portal.sync.runs import execute_run, retry_failed
from tests.sync_helpers import count, entries, run_import, sales_order_for


def make_item(number, description="Mug", sku=None, **fields) -> Item:
    item = Item(number=number, description=description, sku=sku, **fields)
    db.session.add(item)
    db.session.commit()
    return item


def make_order_with_lines(webstore, number, item, quantities, order_date=date(2025, 3, 1)):
    """A sales order written straight into the database, one line per quantity."""
    customer = Customer(number="C" + number[2:], name="Ada Lovelace")
    order = SalesOrder(
        number=number,
        webstore_id=webstore.id,
        customer=customer,
        order_date=order_date,
        ordered_at=datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        currency="EUR",
        external_document_no=number[2:],
        woo_order_id=int(number[2:]),
    )
    for line_no, quantity in enumerate(quantities, start=1):
        order.lines.append(
            SalesLine(
                line_no=line_no,
                line_type=LineType.ITEM,
                item_id=item.id,
                description=item.description,
                quantity=Decimal(quantity),
                unit_price=Decimal("4.50"),
                amount=Decimal("4.50") * quantity,
            )
        )
    db.session.add(order)
    db.session.commit()
    return order


def listed(html: str, table_id: str = "items-table") -> list[str]:
    """The item numbers in the list's table, top to bottom."""
    table = html[html.index(f'id="{table_id}"') :]
    return re.findall(r'href="/items/\d+">(I\d{5})</a>', table)


def mapping_rows() -> list[tuple[int, int, int, str]]:
    db.session.expire_all()
    return db.session.execute(
        sa.select(
            ItemMapping.webstore_id,
            ItemMapping.woo_product_id,
            ItemMapping.woo_variation_id,
            Item.number,
        )
        .join(Item, Item.id == ItemMapping.item_id)
        .order_by(ItemMapping.woo_product_id, ItemMapping.woo_variation_id)
    ).all()


def item_by_number(number: str) -> Item | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Item).where(Item.number == number))


# The list


def test_the_list_shows_each_items_facts_and_its_number_of_sales_lines(signed_in_viewer, webstore):
    mug = make_item("I00001", "Mug", "MUG-1", unit_price=Decimal("4.50"), created_by_sync=True)
    make_item(
        "I00002",
        "Shipping",
        None,
        item_type=ItemType.SERVICE,
        unit_price=Decimal("0"),
    )
    make_order_with_lines(webstore, "SO00001", mug, [1, 2])
    make_order_with_lines(webstore, "SO00002", mug, [3])

    response = signed_in_viewer.get("/items")

    assert response.status_code == 200
    assert "<html" in response.text and 'href="/items"' in response.text
    assert listed(response.text) == ["I00001", "I00002"]
    rows = re.findall(r"<tr>(.*?)</tr>", response.text, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows[1:]]
    text = [[re.sub(r"<[^>]+>", "", c).strip() for c in row] for row in cells]
    assert text == [
        ["I00001", "Mug", "MUG-1", "inventory", "4.50", "by sync", "3"],
        ["I00002", "Shipping", "", "service", "0.00", "by hand", "0"],
    ]
    assert "Items 1–2 of 2, page 1." in response.text


def test_search_finds_items_by_part_of_number_description_or_sku_in_any_case(signed_in_viewer):
    make_item("I00001", "Blue mug", "MUG-BLUE")
    make_item("I00002", "Teapot", "POT-1")
    make_item("I00003", "Tea towel", None)
    make_item("I00012", "Spoon", "SP-9")

    assert listed(signed_in_viewer.get("/items?q=mug").text) == ["I00001"]
    assert listed(signed_in_viewer.get("/items?q=TEA").text) == ["I00002", "I00003"]
    assert listed(signed_in_viewer.get("/items?q=pot-").text) == ["I00002"]
    assert listed(signed_in_viewer.get("/items?q=0001").text) == ["I00001", "I00012"]
    assert listed(signed_in_viewer.get("/items?q=100%25").text) == []
    assert "No items match “nothing”." in signed_in_viewer.get("/items?q=nothing").text


def test_the_list_pages_forwards_and_back_by_number(signed_in_viewer, monkeypatch):
    monkeypatch.setattr(queries, "PER_PAGE", 2)
    for n in range(1, 6):
        make_item(f"I{n:05d}", f"Item {n}")

    first = signed_in_viewer.get("/items").text
    assert listed(first) == ["I00001", "I00002"]
    assert "Items 1–2 of 5, page 1." in first
    next_url = re.search(r'href="([^"]+)"[^>]*rel="next"', first)[1].replace("&amp;", "&")
    second = signed_in_viewer.get(next_url).text
    assert listed(second) == ["I00003", "I00004"]
    assert "Items 3–4 of 5, page 2." in second
    next_url = re.search(r'href="([^"]+)"[^>]*rel="next"', second)[1].replace("&amp;", "&")
    third = signed_in_viewer.get(next_url).text
    assert listed(third) == ["I00005"]
    assert 'rel="next"' not in third
    prev_url = re.search(r'href="([^"]+)"[^>]*rel="prev"', third)[1].replace("&amp;", "&")
    assert listed(signed_in_viewer.get(prev_url).text) == ["I00003", "I00004"]


def test_htmx_gets_only_the_table_fragment_and_a_tidy_url_to_push(signed_in_viewer):
    make_item("I00001", "Blue mug")

    response = signed_in_viewer.get("/items?q=mug", headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "<html" not in response.text and "<form" not in response.text
    assert response.text.lstrip().startswith('<div id="items-table"')
    assert listed(response.text) == ["I00001"]
    assert response.headers["HX-Push-Url"] == "/items?q=mug"
    assert "HX-Request" in response.headers["Vary"]


def test_the_nav_links_to_items(signed_in_viewer):
    response = signed_in_viewer.get("/items")

    assert '<a href="/items" aria-current="page">Items</a>' in response.text


# One item


def test_the_items_page_shows_its_mappings_and_latest_sales_lines(signed_in_viewer, webstore):
    mug = make_item("I00001", "Mug", "MUG-1", unit_price=Decimal("4.50"))
    db.session.add_all(
        [
            ItemMapping(webstore_id=webstore.id, woo_product_id=11, woo_variation_id=0, item=mug),
            ItemMapping(webstore_id=webstore.id, woo_product_id=12, woo_variation_id=7, item=mug),
        ]
    )
    db.session.commit()
    older = make_order_with_lines(webstore, "SO00001", mug, [1], date(2025, 3, 1))
    newer = make_order_with_lines(webstore, "SO00002", mug, [2, 3], date(2025, 3, 5))

    response = signed_in_viewer.get(f"/items/{mug.id}")

    assert response.status_code == 200
    assert "<h1>Item I00001</h1>" in response.text
    mappings = response.text[response.text.index('id="item-mappings"') :]
    mappings = mappings[: mappings.index("</table>")]
    rows = [
        [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", mappings, re.S)[1:]
    ]
    assert rows == [["MAIN", "11", "0"], ["MAIN", "12", "7"]]
    lines = response.text[response.text.index('id="item-lines"') :]
    assert re.findall(r'href="/orders/(\d+)">(SO\d{5})</a>', lines) == [
        (str(newer.id), "SO00002"),
        (str(newer.id), "SO00002"),
        (str(older.id), "SO00001"),
    ]
    assert "The latest 3 of 3 sales lines." in response.text


def test_an_unknown_item_is_404(signed_in_viewer):
    assert signed_in_viewer.get("/items/999").status_code == 404


# Items by hand


def test_a_new_items_form_starts_from_sensible_defaults(signed_in_staff):
    form = signed_in_staff.get("/items/new").text

    assert 'name="base_unit_of_measure" required type="text" value="PCS"' in form
    assert re.search(r'name="unit_price"[^>]*value="0(\.00)?"', form)


def test_staff_create_items_numbered_from_the_item_series(signed_in_staff):
    form = signed_in_staff.get("/items/new")
    assert form.status_code == 200
    assert 'name="csrf_token"' in form.text

    response = signed_in_staff.post(
        "/items/new",
        {
            "description": "  Shipping and handling ",
            "sku": "  SHIP-EXPRESS ",
            "item_type": "service",
            "base_unit_of_measure": "ea",
            "unit_price": "7.5",
        },
    )
    second = signed_in_staff.post(
        "/items/new",
        {
            "description": "Custom line",
            "sku": "   ",
            "item_type": "non_inventory",
            "base_unit_of_measure": "PCS",
            "unit_price": "0",
        },
    )

    created = item_by_number("I00001")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/items/{created.id}"
    assert (
        created.description,
        created.sku,
        created.item_type,
        created.base_unit_of_measure,
        created.unit_price,
        created.created_by_sync,
    ) == ("Shipping and handling", "SHIP-EXPRESS", ItemType.SERVICE, "EA", Decimal("7.50"), False)
    assert second.status_code == 303
    other = item_by_number("I00002")
    assert (other.sku, other.item_type) == (None, ItemType.NON_INVENTORY)
    assert count(Item) == 2


def test_staff_edit_an_item(signed_in_staff):
    mug = make_item("I00001", "Mug", "MUG-1")
    page = signed_in_staff.get(f"/items/{mug.id}/edit")
    assert page.status_code == 200 and 'value="MUG-1"' in page.text

    response = signed_in_staff.post(
        f"/items/{mug.id}/edit",
        {
            "description": "Large mug",
            "sku": "MUG-L",
            "item_type": "inventory",
            "base_unit_of_measure": "PCS",
            "unit_price": "5.25",
        },
    )

    assert response.status_code == 303
    mug = item_by_number("I00001")
    assert (mug.description, mug.sku, mug.unit_price) == ("Large mug", "MUG-L", Decimal("5.25"))
    assert count(Item) == 1


def test_a_taken_sku_is_refused_inline_with_422(signed_in_staff):
    make_item("I00001", "Mug", "MUG-1")
    pot = make_item("I00002", "Teapot", "POT-1")

    response = signed_in_staff.post(
        f"/items/{pot.id}/edit",
        {
            "description": "Teapot",
            "sku": " MUG-1 ",
            "item_type": "inventory",
            "base_unit_of_measure": "PCS",
            "unit_price": "12",
        },
    )

    assert response.status_code == 422
    assert (
        '<small class="field-error" id="sku-error">'
        "SKU MUG-1 is already item I00001&#39;s: SKUs are unique.</small>"
    ) in response.text
    assert 'aria-invalid="true"' in response.text
    assert item_by_number("I00002").sku == "POT-1"


def test_a_negative_price_and_no_description_are_refused_inline(signed_in_staff):
    response = signed_in_staff.post(
        "/items/new",
        {
            "description": " ",
            "sku": "",
            "item_type": "inventory",
            "base_unit_of_measure": "PCS",
            "unit_price": "-1",
        },
    )

    assert response.status_code == 422
    assert "The unit price cannot be negative." in response.text
    assert '<small class="field-error" id="description-error">' in response.text
    assert count(Item) == 0


# Mappings


def test_the_mapping_page_maps_and_unmaps_a_product(signed_in_staff, webstore):
    mug = make_item("I00001", "Mug", "MUG-1")
    make_item("I00002", "Teapot", "POT-1")

    mapped = signed_in_staff.post(
        "/items/mappings?webstore=MAIN",
        {"product_id": "11", "variation_id": "0", "item_number": " i00001 "},
        follow_redirects=True,
    )
    signed_in_staff.post(
        "/items/mappings?webstore=main",
        {"product_id": "12", "variation_id": "3", "item_number": "I00002"},
    )
    remapped = signed_in_staff.post(
        "/items/mappings?webstore=MAIN",
        {"product_id": "12", "variation_id": "3", "item_number": "I00001"},
        follow_redirects=True,
    )

    assert mapped.status_code == 200
    assert "MAIN product 11 is now mapped to item I00001." in mapped.text
    assert "MAIN product 12 variation 3 is now mapped to item I00001 (was I00002)." in (
        remapped.text
    )
    assert mapping_rows() == [(webstore.id, 11, 0, "I00001"), (webstore.id, 12, 3, "I00001")]
    listing = remapped.text[remapped.text.index('id="mappings-table"') :]
    assert listed(listing, "mappings-table") == ["I00001", "I00001"]
    assert "<td>11</td>" in listing and "<td>3</td>" in listing

    mapping_id = db.session.scalar(
        sa.select(ItemMapping.id).where(ItemMapping.woo_product_id == 11)
    )
    unmapped = signed_in_staff.post(
        f"/items/mappings/{mapping_id}/delete?webstore=MAIN", follow_redirects=True
    )

    assert "MAIN product 11 is no longer mapped to item I00001." in unmapped.text
    assert mapping_rows() == [(webstore.id, 12, 3, "I00001")]
    assert item_by_number("I00001").id == mug.id


def test_mapping_to_an_unknown_item_is_refused_inline_with_422(signed_in_staff, webstore):
    response = signed_in_staff.post(
        "/items/mappings?webstore=MAIN",
        {"product_id": "11", "variation_id": "0", "item_number": "I00099"},
    )

    assert response.status_code == 422
    assert (
        '<small class="field-error" id="item_number-error">There is no item I00099.</small>'
        in response.text
    )
    assert mapping_rows() == []


def test_the_mapping_list_answers_htmx_with_its_fragment(signed_in_viewer, webstore):
    mug = make_item("I00001", "Mug")
    db.session.add(ItemMapping(webstore_id=webstore.id, woo_product_id=11, item=mug))
    db.session.commit()

    whole = signed_in_viewer.get("/items/mappings?webstore=MAIN")
    fragment = signed_in_viewer.get("/items/mappings?webstore=MAIN", headers={"HX-Request": "true"})

    assert whole.status_code == 200 and "<html" in whole.text
    assert "Map a product" not in whole.text and "Unmap" not in whole.text
    assert fragment.text.lstrip().startswith('<div id="mappings-table"')
    assert "<html" not in fragment.text
    assert listed(fragment.text, "mappings-table") == ["I00001"]
    assert fragment.headers["HX-Push-Url"] == "/items/mappings?webstore=MAIN"


def test_viewers_may_read_but_get_403_on_every_write(signed_in_viewer, webstore):
    mug = make_item("I00001", "Mug", "MUG-1")
    mapping = ItemMapping(webstore_id=webstore.id, woo_product_id=11, item=mug)
    db.session.add(mapping)
    db.session.commit()
    item_form = {
        "description": "Hacked",
        "item_type": "inventory",
        "base_unit_of_measure": "PCS",
        "unit_price": "1",
    }
    mapping_form = {"product_id": "12", "variation_id": "0", "item_number": "I00001"}

    assert signed_in_viewer.get("/items").status_code == 200
    assert signed_in_viewer.get(f"/items/{mug.id}").status_code == 200
    assert signed_in_viewer.get("/items/new").status_code == 403
    assert signed_in_viewer.post("/items/new", item_form).status_code == 403
    assert signed_in_viewer.post(f"/items/{mug.id}/edit", item_form).status_code == 403
    assert signed_in_viewer.post("/items/mappings?webstore=MAIN", mapping_form).status_code == 403
    delete = f"/items/mappings/{mapping.id}/delete?webstore=MAIN"
    assert signed_in_viewer.post(delete).status_code == 403
    assert item_by_number("I00001").description == "Mug"
    assert mapping_rows() == [(webstore.id, 11, 0, "I00001")]


def test_a_post_without_the_csrf_token_is_refused(signed_in_staff):
    response = signed_in_staff.client.post(
        "/items/new",
        data={
            "description": "Mug",
            "item_type": "inventory",
            "base_unit_of_measure": "PCS",
            "unit_price": "1",
        },
    )

    assert response.status_code == 400
    assert count(Item) == 0


# A mapping made by hand lets a failed order import on retry


def test_a_product_mapped_by_hand_lets_the_failed_order_import_on_retry(
    signed_in_staff, demo_webstore, store
):
    demo_webstore.auto_create_items = False
    db.session.commit()
    target = make_item("I90001", "Mug (mapped by hand)", "MUG-HAND")
    created = store.create_order(status="processing", lines=[{"product_id": 11, "quantity": 2}])
    line = created["line_items"][0]
    items_before = count(Item)

    run = run_import(demo_webstore, order_id=created["id"])

    [failed] = entries(run, Outcome.FAILED)
    assert failed.woo_order_id == created["id"]
    assert failed.message.startswith(f"SKU {line['sku']} (")
    assert "has no item and 'Create missing items' is off in the setup of DEMO" in failed.message
    # The message names the page where the mapping is made.
    mapping_page = f"map product {line['product_id']} to an item on Items > Mappings"
    assert f"{mapping_page} (/items/mappings?webstore=DEMO)" in failed.message
    assert sales_order_for(demo_webstore, created["id"]) is None
    run_page = signed_in_staff.get(f"/imports/runs/{run.id}").text
    link = '<a href="/items/mappings?webstore=DEMO">/items/mappings?webstore=DEMO</a>'
    assert link in run_page

    mapped = signed_in_staff.post(
        "/items/mappings?webstore=DEMO",
        {
            "product_id": str(line["product_id"]),
            "variation_id": str(line["variation_id"]),
            "item_number": "I90001",
        },
    )
    assert mapped.status_code == 303
    retry = execute_run(retry_failed(run).id)

    assert retry.status == RunStatus.SUCCEEDED
    assert (retry.imported, retry.failed) == (1, 0)
    order = sales_order_for(demo_webstore, created["id"])
    item_lines = [ln for ln in order.lines if ln.line_type == LineType.ITEM]
    assert [(ln.item_id, ln.quantity) for ln in item_lines] == [(target.id, Decimal(2))]
    assert count(Item) == items_before

"""Reading items for the pages: the list, one item, and a webstore's product mappings.

Both lists page by keyset (the id of the row a page ends or starts on, and that row's values
in the sort columns), so a late page costs what the first one does. The list's sales line
counts come from one grouped count over the page's items, never a query per row.
"""

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal import db
from portal.models import Item, ItemMapping, SalesLine, SalesOrder, Webstore
from portal.paging import Page, contains, contains_text, keyset_page

PER_PAGE = 50
LATEST_LINES = 20


# The list of items


@dataclass
class ItemPage(Page):
    # Sales lines per item id of this page; items without lines are absent.
    line_counts: dict[int, int] = field(default_factory=dict)

    def lines_of(self, item: Item) -> int:
        return self.line_counts.get(item.id, 0)


def search_conditions(term: str) -> list:
    if not term:
        return []
    return [
        sa.or_(
            contains(Item.number, term),
            contains_text(Item.description, term),
            contains(Item.sku, term),
        )
    ]


def list_items(
    term: str = "", *, after=None, before=None, page: int = 1, per_page: int = PER_PAGE
) -> ItemPage:
    """One page of the items whose number, description or SKU holds ``term``, by number."""
    conditions = search_conditions(term)
    found = keyset_page(
        sa.select(Item).where(*conditions),
        Item,
        (Item.number, Item.id),
        conditions,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )
    result = ItemPage(**vars(found))
    result.line_counts = line_counts([item.id for item in result.rows])
    return result


def line_counts(item_ids: list[int]) -> dict[int, int]:
    """How many sales lines each of these items has: one grouped count, by the item index."""
    if not item_ids:
        return {}
    counts = (
        sa.select(SalesLine.item_id, sa.func.count().label("lines"))
        .where(SalesLine.item_id.in_(item_ids))
        .group_by(SalesLine.item_id)
    )
    return dict(db.session.execute(counts).all())


# One item


@dataclass
class ItemView:
    item: Item
    # (mapping, its webstore's code)
    mappings: list[tuple[ItemMapping, str]]
    lines: list[SalesLine]
    line_count: int


def get_item(item_id: int) -> ItemView | None:
    item = db.session.get(Item, item_id)
    if item is None:
        return None
    mappings = [
        (mapping, code)
        for mapping, code in db.session.execute(
            sa.select(ItemMapping, Webstore.code)
            .join(Webstore, Webstore.id == ItemMapping.webstore_id)
            .where(ItemMapping.item_id == item_id)
            .order_by(Webstore.code, ItemMapping.woo_product_id, ItemMapping.woo_variation_id)
        )
    ]
    lines = list(
        db.session.scalars(
            sa.select(SalesLine)
            .join(SalesOrder, SalesOrder.id == SalesLine.sales_order_id)
            .where(SalesLine.item_id == item_id)
            .options(joinedload(SalesLine.sales_order))
            .order_by(SalesOrder.order_date.desc(), SalesOrder.id.desc(), SalesLine.line_no)
            .limit(LATEST_LINES)
        )
    )
    line_count = line_counts([item_id]).get(item_id, 0)
    return ItemView(item=item, mappings=mappings, lines=lines, line_count=line_count)


# A webstore's product mappings


def list_mappings(
    webstore: Webstore, *, after=None, before=None, page: int = 1, per_page: int = PER_PAGE
) -> Page:
    """One page of the webstore's product mappings, by product and variation id."""
    conditions = [ItemMapping.webstore_id == webstore.id]
    return keyset_page(
        sa.select(ItemMapping).where(*conditions).options(joinedload(ItemMapping.item)),
        ItemMapping,
        (ItemMapping.woo_product_id, ItemMapping.woo_variation_id, ItemMapping.id),
        conditions,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )

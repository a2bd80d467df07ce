"""The standard items: shipping, lines without a product, refunds without lines. A
webstore's setup charges to them and the runs credit to them, so they sit below both."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import Item, ItemType
from portal.sync.numbers import next_number

SHIPPING_SKU = "SHIPPING"
NO_PRODUCT_SKU = "NO-PRODUCT"


def shipping_item() -> Item:
    """The standard service item for shipping charges, made once."""
    return standard_item(SHIPPING_SKU, "Shipping and handling", ItemType.SERVICE)


def no_product_item() -> Item:
    """The standard item for lines without a store product, made once."""
    return standard_item(NO_PRODUCT_SKU, "Webstore line without a product", ItemType.NON_INVENTORY)


def standard_item(sku: str, description: str, item_type: ItemType) -> Item:
    item = db.session.scalar(sa.select(Item).where(Item.sku == sku))
    if item is None:
        item = Item(
            number=next_number("ITEM"), description=description, sku=sku, item_type=item_type
        )
        db.session.add(item)
    return item


# The standard items a setup page may create in place, by the name in its URL.
STANDARD_ITEMS = {"shipping": shipping_item, "no-product": no_product_item}


def create_standard_item(kind: str) -> Item:
    """Create (or find) the standard item of ``kind`` and commit; two admins clicking at
    once end with one item, by its unique SKU."""
    make = STANDARD_ITEMS[kind]
    try:
        item = make()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        item = make()
    return item


REFUND_SKU = "REFUND"


def refund_item() -> Item:
    """The standard item a refund without lines is credited on, made once."""
    return standard_item(REFUND_SKU, "Webstore refund", ItemType.NON_INVENTORY)

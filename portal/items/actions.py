"""What staff do to items: create and edit them by hand, map webstore products to them."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db, mappings
from portal.actions import Refused
from portal.models import Item, ItemMapping, Webstore
from portal.sync.numbers import next_number


def sku_taken_by(sku: str, item_id: int | None) -> str | None:
    """The number of another item that has this SKU, if one has."""
    query = sa.select(Item.number).where(Item.sku == sku)
    if item_id is not None:
        query = query.where(Item.id != item_id)
    return db.session.scalar(query)


def save_item(item: Item, values: dict) -> None:
    """Write an item made or changed by hand; a new one takes the next ITEM number.

    The SKU is checked first for a readable message; the unique key settles a race.
    """
    sku = values.get("sku")
    if sku and (other := sku_taken_by(sku, item.id)):
        raise Refused(f"SKU {sku} is already item {other}'s: SKUs are unique.", "sku")
    for name, value in values.items():
        setattr(item, name, value)
    if item.id is None:
        item.number = next_number("ITEM")
        item.created_by_sync = False
        db.session.add(item)
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if not sku:
            raise
        message = f"SKU {sku} was just given to another item: SKUs are unique."
        raise Refused(message, "sku") from error


def product_name(product_id: int, variation_id: int) -> str:
    name = f"product {product_id}"
    return f"{name} variation {variation_id}" if variation_id else name


def map_product(webstore: Webstore, product_id: int, variation_id: int, item_number: str) -> str:
    """Map a webstore product (and variation, 0 for none) to an existing item, or map it
    to another item where it is mapped already. Imports from now on book it on that item."""
    item = db.session.scalar(sa.select(Item).where(Item.number == item_number))
    if item is None:
        raise Refused(f"There is no item {item_number}.", "item_number")
    what = f"{webstore.code} {product_name(product_id, variation_id)}"
    key = {"woo_product_id": product_id, "woo_variation_id": variation_id}
    tied = mappings.tie(ItemMapping, webstore, key, "item_id", item.id)
    if not tied.changed:
        return f"{what} is mapped to item {item.number} already."
    if tied.was is None:
        return f"{what} is now mapped to item {item.number}."
    was = db.session.scalar(sa.select(Item.number).where(Item.id == tied.was))
    return f"{what} is now mapped to item {item.number} (was {was})."


def unmap(webstore: Webstore, mapping_id: int) -> str:
    mapping = mappings.untie(ItemMapping, webstore, mapping_id)
    if mapping is None:
        return "That mapping was removed meanwhile."
    what = f"{webstore.code} {product_name(mapping.woo_product_id, mapping.woo_variation_id)}"
    number = mapping.item.number
    db.session.commit()
    return f"{what} is no longer mapped to item {number}."

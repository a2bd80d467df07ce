"""Finding the ERP item of an order line, and planning the ones to create.

An item is found by the line's SKU (a variation's own SKU, or the SKU it inherits from its
product), else by the webstore product/variation mapping, else, for a variation, by its
product's SKU. New items are only planned here and created by the batch writer.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

from portal import db
from portal.models import Item, ItemMapping, Webstore
from portal.sync.failures import OrderFailure
from portal.sync.money import round_to_unit, unit_of
from portal.woo.orders import WooLineItem


def clean_sku(sku: str | None) -> str | None:
    sku = (sku or "").strip()
    return sku or None


@dataclass(eq=False)
class NewItem:
    sku: str | None
    values: dict
    number: str | None = None
    id: int | None = None


@dataclass(eq=False)
class ItemChoice:
    item_id: int | None = None
    new: NewItem | None = None
    # (product id, variation id) to map to the item, where the mapping is missing.
    map_product: tuple[int, int] | None = None

    def resolved_id(self) -> int:
        return self.item_id if self.item_id is not None else self.new.id


@dataclass
class ItemBook:
    # The webstore's setup as the run started (writer.WebstoreSetup), or the webstore.
    webstore: Webstore
    # The SKU of a product, asked of the store when a variation's own SKU finds nothing.
    product_sku: Callable[[int], str | None] | None = None
    by_sku: dict[str, int] = field(default_factory=dict)
    by_product: dict[tuple[int, int], int] = field(default_factory=dict)

    def load(self, lines: list[WooLineItem]) -> None:
        """Look up, in two queries, the items this batch needs that the cache lacks."""
        skus, product_ids = self.missing(lines)
        by_sku, mappings = {}, []
        if skus:
            by_sku = dict(db.session.execute(self.sku_query(skus)).all())
        if product_ids:
            mappings = db.session.execute(self.mapping_query(product_ids)).all()
        self.found(by_sku, mappings)

    def missing(self, lines: list[WooLineItem]) -> tuple[set[str], set[int]]:
        """The SKUs, and the webstore products, of these lines that the cache lacks."""
        lines = [line for line in lines if line.has_product]
        skus = {clean_sku(line.sku) for line in lines} - {None} - self.by_sku.keys()
        keys = {(line.product_id, line.variation_id) for line in lines} - self.by_product.keys()
        return skus, {product_id for product_id, _ in keys}

    @staticmethod
    def sku_query(skus) -> sa.Select:
        return sa.select(Item.sku, Item.id).where(Item.sku.in_(skus))

    def mapping_query(self, product_ids) -> sa.Select:
        return sa.select(
            ItemMapping.woo_product_id, ItemMapping.woo_variation_id, ItemMapping.item_id
        ).where(
            ItemMapping.webstore_id == self.webstore.id,
            ItemMapping.woo_product_id.in_(product_ids),
        )

    def found(self, by_sku: dict[str, int], mappings) -> None:
        """Cache what the lookups of ``missing`` found: items by SKU, and the mappings'
        (product id, variation id, item id) rows."""
        self.by_sku.update(by_sku)
        self.by_product.update({(p, v): item_id for p, v, item_id in mappings})

    def choose(self, line: WooLineItem, planned: dict, decimals: int) -> ItemChoice:
        """The item of ``line``, of an order in a currency with ``decimals``."""
        key = (line.product_id, line.variation_id)
        sku = clean_sku(line.sku)
        if sku and sku in self.by_sku:
            return self._mapped(ItemChoice(item_id=self.by_sku[sku]), key)
        if key in self.by_product:
            return ItemChoice(item_id=self.by_product[key])
        if sku in planned or key in planned:
            return ItemChoice(new=planned.get(sku) or planned[key])
        parent_sku = self._parent_sku(line)
        if parent_sku and parent_sku in self.by_sku:
            return self._mapped(ItemChoice(item_id=self.by_sku[parent_sku]), key)
        if not self.webstore.auto_create_items:
            what = f"SKU {sku}" if sku else f"Product {line.product_id}"
            if not sku and line.variation_id:
                what += f" variation {line.variation_id}"
            raise OrderFailure(
                f"{what} ({line.name}) has no item and 'Create missing items' is off in the "
                f"setup of {self.webstore.code}: map product {line.product_id} to an item on "
                f"Items > Mappings (/items/mappings?webstore={self.webstore.code}), create the "
                "item with that SKU, or turn 'Create missing items' on; then retry."
            )
        new = NewItem(sku=sku, values=self.new_item_values(line, sku, decimals))
        planned[sku or key] = new
        return ItemChoice(new=new, map_product=key)

    def _mapped(self, choice: ItemChoice, key: tuple[int, int]) -> ItemChoice:
        if key[0] and key not in self.by_product:
            choice.map_product = key
        return choice

    def _parent_sku(self, line: WooLineItem) -> str | None:
        if not line.variation_id or self.product_sku is None:
            return None
        parent_sku = clean_sku(self.product_sku(line.product_id))
        if parent_sku and parent_sku not in self.by_sku:
            found = db.session.scalar(sa.select(Item.id).where(Item.sku == parent_sku))
            if found:
                self.by_sku[parent_sku] = found
        return parent_sku

    def new_item_values(self, line: WooLineItem, sku: str | None, decimals: int) -> dict:
        template = self.webstore.default_item_template
        return {
            "description": line.name[:200] or f"Product {line.product_id}",
            "sku": sku,
            # Before discounts (``price`` is what this order paid after its coupons), in the
            # currency's unit: an item's price is one a customer can be charged.
            "unit_price": round_to_unit(line.subtotal / line.quantity, unit_of(decimals)),
            "item_type": template.item_type if template else "inventory",
            "base_unit_of_measure": template.base_unit_of_measure if template else "PCS",
            "item_category": template.item_category if template else "",
            "tax_group": template.tax_group if template else "",
            "template_code": template.code if template else "",
            "created_by_sync": True,
        }

    def remember(self, choices: list[ItemChoice]) -> None:
        for choice in choices:
            item_id = choice.resolved_id()
            if choice.new and choice.new.sku:
                self.by_sku[choice.new.sku] = item_id
            if choice.map_product:
                self.by_product[choice.map_product] = item_id

"""Finding the ERP item of an order line, and planning the ones to create.

An item is found by the line's SKU (a variation's own SKU, or the SKU it inherits from its
product), else by the webstore product/variation mapping, else, for a variation, by its
product's SKU. New items are only planned here and created by the batch writer. Choosing
asks nothing of the store or the database: ``prepare`` asks the store for the products'
SKUs a batch may need before it takes the import lock, and the batch's lookups
(``lookups``, ``found``) fill the cache.
"""

from dataclasses import dataclass, field

from portal import db
from portal.models import Webstore
from portal.sync.bulk import run_all
from portal.sync.failures import OrderFailure
from portal.sync.lookups import ITEM_MAPPINGS, ITEMS_BY_SKU
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
    # The webstore's setup as the run started (``WebstoreSetup``), or the webstore.
    webstore: Webstore
    # The SKUs of products whose variations may need them, as the store said (``prepare``).
    parent_skus: dict[int, str | None] = field(default_factory=dict)
    by_sku: dict[str, int] = field(default_factory=dict)
    by_product: dict[tuple[int, int], int] = field(default_factory=dict)

    def load(self, lines: list[WooLineItem]) -> None:
        """Look up the items these lines need that the cache lacks."""
        self.found(*run_all(db.session.connection(), self.lookups(lines)))

    def lookups(self, lines: list[WooLineItem]) -> list[tuple]:
        """The statements finding what these lines need that the cache lacks: items by SKU,
        and the webstore's mappings of their products (their rows go to ``found``)."""
        skus, product_ids = self.missing(lines)
        return [
            (ITEMS_BY_SKU, {"skus": sorted(skus)}),
            (ITEM_MAPPINGS, {"webstore": self.webstore.id, "ids": sorted(product_ids)}),
        ]

    def missing(self, lines: list[WooLineItem]) -> tuple[set[str], set[int]]:
        """The SKUs (their own, or their products' as the store said), and the webstore
        products, of these lines that the cache lacks."""
        lines = [line for line in lines if line.has_product]
        skus = {clean_sku(line.sku) for line in lines}
        skus |= {clean_sku(self.parent_skus.get(line.product_id)) for line in lines}
        keys = {(line.product_id, line.variation_id) for line in lines} - self.by_product.keys()
        return skus - {None} - self.by_sku.keys(), {product_id for product_id, _ in keys}

    def prepare(self, lines: list[WooLineItem], product_skus) -> None:
        """Ask the store (``product_skus``: product ids to their SKUs) for the SKUs of the
        products whose variations neither their own SKU nor a mapping may place; before a
        batch takes the import lock, so that no batch waits for the store."""
        if not self._parents_wanted(lines):
            return
        self.load(lines)  # the database may know them already
        if wanted := self._parents_wanted(lines):
            self.parent_skus.update(product_skus(sorted(wanted)))

    def _parents_wanted(self, lines: list[WooLineItem]) -> set[int]:
        return {
            line.product_id
            for line in lines
            if line.has_product
            and line.variation_id
            and line.product_id not in self.parent_skus
            and clean_sku(line.sku) not in self.by_sku
            and (line.product_id, line.variation_id) not in self.by_product
        }

    def found(self, by_sku, mappings) -> None:
        """Cache what ``lookups`` found: (SKU, item id) and (product id, variation id, item
        id) rows."""
        self.by_sku.update(dict(by_sku))
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
        if not line.variation_id:
            return None
        return clean_sku(self.parent_skus.get(line.product_id))

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

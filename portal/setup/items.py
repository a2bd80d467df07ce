"""Moved to ``portal.standard_items``: kept for setup/demo.py and setup/webstores.py until
they import it from there."""

from portal.standard_items import NO_PRODUCT_SKU, SHIPPING_SKU, no_product_item, shipping_item

__all__ = ["NO_PRODUCT_SKU", "SHIPPING_SKU", "no_product_item", "shipping_item"]

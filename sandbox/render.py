"""Records as WooCommerce 10 writes them: the same keys, in the same order, of the same types.

Money is a string with ``dp`` decimals (by default the store's number of decimals, as
``wc_get_price_decimals``), except where WooCommerce itself leaves it raw (a coupon's
``discount``, a fee's ``amount``, a product's prices as entered) or makes it a number (a
line's ``price``, a coupon's ``nominal_amount``).
Dates come twice: the store's time without an offset, and the ``_gmt`` twin in UTC; each
function that writes dates takes the store's ``zone``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from datetime import UTC, datetime, tzinfo

from . import checkout, refunds
from .catalog import CATEGORIES, Catalog, Product
from .currency import Money, unit_of
from .model import (
    COUPON_ITEM,
    FEE_ITEM,
    ITEM_BLOCK,
    PAYMENT_METHODS,
    REFUND_ITEMS,
    SHIPPING_ITEM,
    SHIPPING_METHODS,
    STATUSES,
    TAX_ITEM,
    Customer,
    Note,
    Order,
    Refund,
    Webhook,
)
from .money import Totals, compute
from .php import format_decimal, trim_decimal
from .taxes import TaxRate

WC_VERSION = "10.0.2"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
)


MILLIONTHS = 6  # the scale of the amounts ``money`` works out
# The ids of the meta a restock adds to an order's line, past those of its other meta.
RESTOCK_META = REFUND_ITEMS // 2
# The ids of the notes of restocks drawn with an order, below those the store keeps.
RESTOCK_NOTES = 5_000_001


def local_date(moment: int | None, zone: tzinfo) -> str | None:
    """The store's time without an offset, as WooCommerce's ``date_*`` fields give it."""
    return _date(moment, zone)


def gmt_date(moment: int | None) -> str | None:
    return _date(moment, UTC)


def _date(moment: int | None, zone: tzinfo) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, zone).strftime("%Y-%m-%dT%H:%M:%S")


def _self_link(href: str, allow: list[str]) -> list[dict]:
    return [{"href": href, "targetHints": {"allow": allow}}]


def order(
    order: Order, catalog: Catalog, site: str, dp: int | None = None, zone: tzinfo = UTC
) -> dict:
    """The order as the REST API shows it, money with ``dp`` decimals (None: those the
    order was made with)."""
    totals = compute(order, catalog)
    dp = order.decimals if dp is None else dp

    def money(millionths: int) -> str:
        return format_decimal(millionths, dp, MILLIONTHS)

    contact = order.contact
    billing = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "company": contact.company,
        "address_1": contact.address_1,
        "address_2": contact.address_2,
        "city": contact.city,
        "state": contact.state,
        "postcode": contact.postcode,
        "country": contact.country,
        "email": contact.email,
        "phone": contact.phone,
    }
    shipping = _shipping_address(order)
    checkout = order.created_via == "checkout"
    fingerprint = int(hashlib.md5(order.order_key.encode()).hexdigest(), 16)
    links = {
        "self": _self_link(f"{site}/wp-json/wc/v3/orders/{order.id}", ALL_METHODS),
        "collection": [{"href": f"{site}/wp-json/wc/v3/orders"}],
        "email_templates": [
            {
                "embeddable": True,
                "href": f"{site}/wp-json/wc/v3/orders/{order.id}/actions/email_templates",
            }
        ],
    }
    if order.customer_id:
        links["customer"] = [{"href": f"{site}/wp-json/wc/v3/customers/{order.customer_id}"}]
    meta_base = order.slot * 32 + 1
    return {
        "id": order.id,
        "parent_id": 0,
        "status": order.status,
        "currency": order.currency,
        "version": order.version,
        "prices_include_tax": order.prices_include_tax,
        "date_created": local_date(order.created, zone),
        "date_modified": local_date(order.modified, zone),
        "discount_total": money(totals.discount),
        "discount_tax": money(totals.discount_tax),
        "shipping_total": money(totals.shipping.amount),
        "shipping_tax": money(totals.shipping_tax_total),
        "cart_tax": money(totals.cart_tax),
        "total": money(totals.total),
        "total_tax": money(totals.total_tax),
        "customer_id": order.customer_id,
        "order_key": order.order_key,
        "billing": billing,
        "shipping": shipping,
        "payment_method": order.payment_method,
        "payment_method_title": PAYMENT_METHODS.get(order.payment_method, ""),
        "transaction_id": order.transaction_id,
        "customer_ip_address": f"203.0.113.{fingerprint % 254 + 1}" if checkout else "",
        "customer_user_agent": _USER_AGENTS[fingerprint % 2] if checkout else "",
        "created_via": order.created_via,
        "customer_note": order.customer_note,
        "date_completed": local_date(order.completed, zone),
        "date_paid": local_date(order.paid, zone),
        "cart_hash": f"{fingerprint:032x}" if checkout else "",
        "number": str(order.id),
        "meta_data": _order_meta(order, meta_base),
        "line_items": _line_items(order, totals, catalog, meta_base, money),
        "tax_lines": _tax_lines(order, totals, money),
        "shipping_lines": _shipping_lines(order, totals, catalog, meta_base, money),
        "fee_lines": _fee_lines(order, totals, money),
        "coupon_lines": _coupon_lines(order, totals, catalog, meta_base),
        "refunds": [
            {
                "id": r.id,
                "reason": r.reason,
                "total": "-" + format_decimal(r.amount, dp, order.decimals),
            }
            for r in reversed(order.refunds)
        ],
        "payment_url": (
            f"{site}/checkout/order-pay/{order.id}/?pay_for_order=true&key={order.order_key}"
        ),
        "is_editable": order.status in ("pending", "on-hold", "checkout-draft"),
        "needs_payment": order.status in ("pending", "failed") and totals.total > 0,
        "needs_processing": True,  # only virtual *and* downloadable lines skip processing
        "date_created_gmt": gmt_date(order.created),
        "date_modified_gmt": gmt_date(order.modified),
        "date_completed_gmt": gmt_date(order.completed),
        "date_paid_gmt": gmt_date(order.paid),
        "currency_symbol": Money(order.currency).plain_symbol,
        "_links": links,
    }


def _shipping_address(order: Order) -> dict:
    to = order.ship_to or dataclasses.replace(order.contact, phone="")
    return {
        "first_name": to.first_name,
        "last_name": to.last_name,
        "company": to.company,
        "address_1": to.address_1,
        "address_2": to.address_2,
        "city": to.city,
        "state": to.state,
        "postcode": to.postcode,
        "country": to.country,
        "phone": to.phone,
    }


def _order_meta(order: Order, meta_base: int) -> list[dict]:
    meta = []
    if order.gift_message:
        meta.append({"id": meta_base + 24, "key": "gift_message", "value": order.gift_message})
    if order.trashed:  # as read back from the table: strings, and an array for the notes
        trash = order.trashed
        meta += [
            {"id": meta_base + 25, "key": "_wp_trash_meta_status", "value": f"wc-{trash.status}"},
            {"id": meta_base + 26, "key": "_wp_trash_meta_time", "value": str(trash.moment)},
        ]
        if trash.slug:
            meta.append({"id": meta_base + 27, "key": "_wp_desired_post_slug", "value": trash.slug})
        if trash.notes:
            trashed_notes = {str(note_id): "1" for note_id in trash.notes}
            meta.append(
                {
                    "id": meta_base + 28,
                    "key": "_wp_trash_meta_comments_status",
                    "value": trashed_notes,
                }
            )
    return meta


def _taxes(rate: TaxRate | None, total: str, subtotal: str = "") -> list[dict]:
    return [] if rate is None else [{"id": rate.id, "total": total, "subtotal": subtotal}]


def _line_items(order, totals: Totals, catalog: Catalog, meta_base: int, money) -> list[dict]:
    items = []
    for line, amounts in zip(order.lines, totals.lines, strict=True):
        rate = order.tax_rate if amounts.taxed else None
        product = catalog.products.get(line.product_id)
        item = _product_fields(line, product, catalog) if product else _no_product(line)
        meta = _line_meta(order, line, product, meta_base) if product else []
        subtotal, total = amounts.subtotal, amounts.total
        items.append(
            {
                "id": line.item_id,
                "name": item["name"],
                "product_id": item["product_id"],
                "variation_id": item["variation_id"],
                "quantity": line.quantity,
                "tax_class": "",
                "subtotal": money(subtotal.amount),
                "subtotal_tax": money(subtotal.tax),
                "total": money(total.amount),
                "total_tax": money(total.tax),
                "taxes": _taxes(rate, money(total.raw_tax), money(subtotal.raw_tax)),
                "meta_data": meta,
                "sku": item["sku"],
                "price": _unit_price(total.amount, line.quantity),
                "image": item["image"],
                "parent_name": item["parent_name"],
            }
        )
    return items


def _product_fields(line, product: Product, catalog: Catalog) -> dict:
    parent = catalog.parent(product)
    return {
        "name": catalog.line_name(product),
        "product_id": parent.id if parent else product.id,
        "variation_id": product.id if parent else 0,
        "sku": catalog.sku(product),
        # WooCommerce's own inconsistency: "" for products, 0 for variations.
        "image": {"id": 0 if parent else "", "src": ""},
        "parent_name": parent.name if parent else None,
    }


def _no_product(line) -> dict:
    """A line whose product was deleted, or added by hand: its name kept, no SKU (null)."""
    return {
        "name": line.name,
        "product_id": 0,
        "variation_id": 0,
        "sku": None,
        "image": {"id": 0, "src": ""},
        "parent_name": None,
    }


def _line_meta(order: Order, line, product: Product, meta_base: int) -> list[dict]:
    position = line.item_id - order.first_item_id
    meta = [
        {
            "id": meta_base + 3 * position + i,
            "key": attribute.lower(),
            "value": option,
            "display_key": attribute,
            "display_value": option,
        }
        for i, (attribute, option) in enumerate(product.attributes)
    ]
    if order.stock_reduced:
        # A restock (refunds.with_restock) gives back what the order took, and says how
        # many over all its refunds.
        restocked = refunds.restocked(order, line.item_id)
        quantity = str(line.quantity - restocked)
        meta.append(
            {
                "id": meta_base + 3 * position + 2,
                "key": "_reduced_stock",
                "value": quantity,
                "display_key": "_reduced_stock",
                "display_value": quantity,
            }
        )
        if restocked:
            meta.append(
                {
                    "id": RESTOCK_META + order.slot * ITEM_BLOCK + position,
                    "key": "_restock_refunded_items",
                    "value": str(restocked),
                    "display_key": "_restock_refunded_items",
                    "display_value": str(restocked),
                }
            )
    return meta


def _unit_price(total: int, quantity: int) -> int | float:
    """A JSON number, as PHP divides: 19 for "19.00" / 1, 10.835 for "21.67" / 2."""
    if total % (1_000_000 * quantity) == 0:
        return total // (1_000_000 * quantity)
    return total / 1_000_000 / quantity


def _tax_lines(order: Order, totals: Totals, money) -> list[dict]:
    rate = totals.rate
    if rate is None:
        return []
    return [
        {
            "id": order.first_item_id - 1 + TAX_ITEM,
            "rate_code": rate.code,
            "rate_id": rate.id,
            "label": rate.label,
            "compound": rate.compound,
            "tax_total": money(totals.tax_total),
            "shipping_tax_total": money(totals.shipping_tax_total),
            "rate_percent": rate.percent,
            "meta_data": [],
        }
    ]


def _shipping_lines(order, totals: Totals, catalog: Catalog, meta_base: int, money) -> list:
    if order.shipping is None:
        return []
    title = SHIPPING_METHODS[order.shipping][0]
    meta = []
    if order.created_via == "checkout":
        packed = ", ".join(
            f"{_line_name(line, catalog)} &times; {line.quantity}" for line in order.lines
        )
        meta.append(
            {
                "id": meta_base + 25,
                "key": "Items",
                "value": packed,
                "display_key": "Items",
                "display_value": packed,
            }
        )
    shipping = totals.shipping
    return [
        {
            "id": order.first_item_id - 1 + SHIPPING_ITEM,
            "method_title": title,
            "method_id": order.shipping,
            "instance_id": _instance_id(order),
            "total": money(shipping.amount),
            "total_tax": money(shipping.tax),
            "taxes": _taxes(totals.rate, money(shipping.raw_tax)),
            "tax_status": "taxable",
            "meta_data": meta,
        }
    ]


def _instance_id(order: Order) -> str:
    """Checkout names the method's instance in the zone of the shipping address; a line added
    in the admin or through the REST API names none."""
    if order.created_via != "checkout":
        return ""
    return checkout.instance_id(order.shipping, (order.ship_to or order.contact).country)


def _line_name(line, catalog: Catalog) -> str:
    product = catalog.products.get(line.product_id)
    return catalog.line_name(product) if product else line.name


def _fee_lines(order: Order, totals: Totals, money) -> list[dict]:
    if order.fee is None:
        return []
    fee = totals.fee
    return [
        {
            "id": order.first_item_id - 1 + FEE_ITEM,
            "name": order.fee.name,
            "tax_class": "",
            "tax_status": "taxable",
            "amount": order.fee.amount,
            "total": money(fee.amount),
            "total_tax": money(fee.tax),
            "taxes": _taxes(totals.rate, money(fee.raw_tax)),
            "meta_data": [],
        }
    ]


def _coupon_lines(order: Order, totals: Totals, catalog: Catalog, meta_base: int) -> list[dict]:
    coupon = order.coupon
    if coupon is None:
        return []
    percent = coupon.discount_type == "percent"
    nominal = coupon.amount if percent else catalog.money.number(coupon.amount)
    # WooCommerce leaves "fixed_cart", its default type, out of the stored coupon info.
    kind = '"percent"' if percent else "null"
    info = f'[{coupon.id},"{coupon.code}",{kind},{nominal}]'
    return [
        {
            "id": order.first_item_id - 1 + COUPON_ITEM,
            "code": coupon.code,
            # As stored, unformatted: rounding at subtotal leaves "2.992".
            "discount": trim_decimal(totals.coupon_discount, MILLIONTHS),
            "discount_tax": trim_decimal(totals.coupon_discount_tax, MILLIONTHS),
            "meta_data": [
                {
                    "id": meta_base + 26,
                    "key": "coupon_info",
                    "value": info,
                    "display_key": "coupon_info",
                    "display_value": info,
                }
            ],
            "discount_type": coupon.discount_type,
            "nominal_amount": nominal,
            "free_shipping": False,
        }
    ]


def refund(
    order: Order,
    refund: Refund,
    catalog: Catalog,
    site: str,
    dp: int | None = None,
    zone: tzinfo = UTC,
) -> dict:
    """A refund as ``/orders/<id>/refunds`` shows it (captured): its items copy the order's
    with negative amounts and quantity, and only ``_refunded_item_id`` as meta; its tax
    lines add up the refunded tax per rate. A refund by amount has no items at all. Its
    amounts are in the order's units, shown with ``dp`` decimals (None: the order's)."""
    base = f"{site}/wp-json/wc/v3/orders/{order.id}"
    dp = order.decimals if dp is None else dp

    def money(units: int) -> str:
        return format_decimal(-units, dp, order.decimals)

    by_item = {line.refunded_item_id: (i, line) for i, line in enumerate(refund.lines)}
    rate = order.tax_rate if refund.lines else None
    line_items, shipping_lines, fee_lines = [], [], []
    for line in order.lines if refund.lines else ():
        if line.item_id in by_item:
            position, refunded = by_item[line.item_id]
            item = _refund_line_item(order, line, refund, position, refunded, catalog, money)
            line_items.append(item)
    shipping_id = order.first_item_id - 1 + SHIPPING_ITEM
    if order.shipping and shipping_id in by_item:
        position, refunded = by_item[shipping_id]
        meta = _refunded_item_meta(refund, position, shipping_id)
        shipping_lines.append(
            {
                "id": refund.item_id(position),
                "method_title": SHIPPING_METHODS[order.shipping][0],
                "method_id": order.shipping,
                "instance_id": _instance_id(order),
                "total": money(refunded.total),
                "total_tax": money(refunded.tax),
                "taxes": _refund_taxes(rate, refunded.tax, money, subtotal=False),
                "tax_status": "taxable",
                "meta_data": meta,
            }
        )
    fee_id = order.first_item_id - 1 + FEE_ITEM
    if order.fee and fee_id in by_item:
        position, refunded = by_item[fee_id]
        fee_lines.append(
            {
                "id": refund.item_id(position),
                "name": order.fee.name,
                "tax_class": "",
                "tax_status": "taxable",
                "amount": order.fee.amount,
                "total": money(refunded.total),
                "total_tax": money(refunded.tax),
                "taxes": _refund_taxes(rate, refunded.tax, money, subtotal=True),
                "meta_data": _refunded_item_meta(refund, position, fee_id),
            }
        )
    tax_lines = []
    taxed = [line for line in refund.lines if line.tax]
    if rate is not None and taxed:
        shipping_tax = sum(line.tax for line in taxed if line.refunded_item_id == shipping_id)
        tax_lines.append(
            {
                "id": refund.item_id(ITEM_BLOCK - 1),
                "rate_code": rate.code,
                "rate_id": rate.id,
                "label": rate.label,
                "compound": rate.compound,
                "tax_total": money(sum(line.tax for line in taxed) - shipping_tax),
                "shipping_tax_total": money(shipping_tax),
                "rate_percent": rate.percent,
                "meta_data": [],
            }
        )
    return {
        "id": refund.id,
        "date_created": local_date(refund.created, zone),
        "date_created_gmt": gmt_date(refund.created),
        "amount": format_decimal(refund.amount, dp, order.decimals),
        "reason": refund.reason,
        "refunded_by": 1,
        "refunded_payment": refund.refunded_payment,
        "meta_data": [],
        "line_items": line_items,
        "shipping_lines": shipping_lines,
        "tax_lines": tax_lines,
        "fee_lines": fee_lines,
        "_links": {
            "self": _self_link(f"{base}/refunds/{refund.id}", ["GET", "DELETE"]),
            "collection": [{"href": f"{base}/refunds"}],
            "up": [{"href": base}],
        },
    }


def _refund_line_item(order, line, refund: Refund, position: int, refunded, catalog, money):
    product = catalog.products.get(line.product_id)
    item = _product_fields(line, product, catalog) if product else _no_product(line)
    rate = order.tax_rate if refunded.tax else None
    quantity = -refunded.quantity
    return {
        "id": refund.item_id(position),
        "name": item["name"],
        "product_id": item["product_id"],
        "variation_id": item["variation_id"],
        "quantity": quantity,
        "tax_class": "",
        "subtotal": money(refunded.total),
        "subtotal_tax": money(refunded.tax),
        "total": money(refunded.total),
        "total_tax": money(refunded.tax),
        "taxes": _refund_taxes(rate, refunded.tax, money, subtotal=True),
        "meta_data": _refunded_item_meta(refund, position, line.item_id),
        "sku": item["sku"],
        # total / quantity, as PHP divides: both negative, so a positive number.
        "price": _unit_price(refunded.total * unit_of(order.decimals), refunded.quantity)
        if quantity
        else 0,
        "image": item["image"],
        "parent_name": item["parent_name"],
    }


def _refund_taxes(rate: TaxRate | None, tax: int, money, *, subtotal: bool) -> list[dict]:
    """A refunded item's ``taxes``: the rates given a tax (``array_filter`` drops zeros)."""
    if rate is None or not tax:
        return []
    return [{"id": rate.id, "total": money(tax), "subtotal": money(tax) if subtotal else ""}]


def _refunded_item_meta(refund: Refund, position: int, item_id: int) -> list[dict]:
    value = str(item_id)
    return [
        {
            "id": refund.item_id(position),
            "key": "_refunded_item_id",
            "value": value,
            "display_key": "_refunded_item_id",
            "display_value": value,
        }
    ]


def note_records(order: Order, catalog: Catalog) -> list[Note]:
    """The notes WooCommerce would have left on the order as it now stands: a call noted on
    some, stock taken, the status reached. The store keeps them once the order changes."""
    written = []
    if order.slot % 5 == 3:
        written.append((order.created + 3600, "Called the customer; confirmed address."))
    if order.stock_reduced:
        changes = []
        for line in order.lines:
            sold = catalog.products.get(line.product_id)
            if sold is None:  # no product, no stock
                continue
            stock = f"{90 + line.quantity}&rarr;90"
            changes.append(f"{catalog.line_name(sold)} ({catalog.sku(sold)}) {stock}")
        written.append((order.paid or order.created, f"Stock levels reduced: {', '.join(changes)}"))
    if order.status in STATUSES and order.status != "pending":
        status = STATUSES[order.status]
        written.append(
            (
                order.paid or order.modified,
                f"Order status changed from Pending payment to {status}.",
            )
        )
    records = [Note(order.slot * 4 + i + 1, when, text) for i, (when, text) in enumerate(written)]
    # A restock's notes, one per line put back, numbered from the refund's id.
    for refund in order.refunds:
        for i, (moment, text) in enumerate(refunds.restock_notes(order, refund)):
            records.append(Note(RESTOCK_NOTES + refund.id * ITEM_BLOCK + i, moment, text))
    return records


def notes(order_id: int, records: list[Note], site: str, zone: tzinfo = UTC) -> list[dict]:
    """An order's notes, newest first; notes of one second by id, as WordPress lists them."""
    ordered = sorted(records, key=lambda n: (-n.created, n.id))
    return [note(order_id, record, site, zone) for record in ordered]


def note(order_id: int, record: Note, site: str, zone: tzinfo = UTC) -> dict:
    base = f"{site}/wp-json/wc/v3/orders/{order_id}"
    return {
        "id": record.id,
        "author": "WooCommerce",
        "date_created": local_date(record.created, zone),
        "date_created_gmt": gmt_date(record.created),
        "note": record.text,
        "customer_note": record.customer_note,
        "_links": {
            "self": _self_link(f"{base}/notes/{record.id}", ["GET", "DELETE"]),
            "collection": [{"href": f"{base}/notes"}],
            "up": [{"href": base}],
        },
    }


def slug(name: str) -> str:
    text = unicodedata.normalize("NFKC", name).lower()
    return re.sub(r"[^\w]+", "-", text).strip("-")


def _price_html(product: Product, catalog: Catalog, money: Money) -> str:
    """``wc_price`` of the product's price: the store's symbol, decimals and separators."""

    def amount(units: int) -> str:
        return (
            '<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-'
            f'Price-currencySymbol">{money.symbol}</span>'
            f"{money.shown(units * catalog.unit)}</bdi></span>"
        )

    if product.type == "variable":
        prices = sorted(v.price for v in catalog.variations(product))
        if prices[0] != prices[-1]:
            return f"{amount(prices[0])} &ndash; {amount(prices[-1])}"
    if product.sale is not None:
        return f"<del>{amount(product.regular)}</del> <ins>{amount(product.sale)}</ins>"
    return amount(catalog.price(product))


def product(
    product: Product, catalog: Catalog, site: str, zone: tzinfo = UTC, money: Money | None = None
) -> dict:
    """A product; its prices as they were entered (the catalog's money), its ``price_html``
    in the store's ``money`` now (default: the catalog's)."""
    product_slug = slug(product.name)
    variable = product.type == "variable"
    category_name, category_slug = CATEGORIES[product.category]
    variations = catalog.variations(product)
    attributes = []
    for position, name in enumerate(dict.fromkeys(a for v in variations for a, _ in v.attributes)):
        options = list(dict.fromkeys(o for v in variations for a, o in v.attributes if a == name))
        attributes.append(
            {
                "id": 0,
                "name": name,
                "slug": name,
                "position": position,
                "visible": True,
                "variation": True,
                "options": options,
            }
        )
    return {
        "id": product.id,
        "name": product.name,
        "slug": product_slug,
        "permalink": f"{site}/product/{product_slug}/",
        "date_created": local_date(product.created, zone),
        "date_created_gmt": gmt_date(product.created),
        "date_modified": local_date(product.created, zone),
        "date_modified_gmt": gmt_date(product.created),
        "type": product.type,
        "status": "publish",
        "featured": False,
        "catalog_visibility": "visible",
        "description": "",
        "short_description": "",
        "sku": product.sku,
        "price": _entered(catalog.price(product), catalog),
        "regular_price": "" if variable else _entered(product.regular, catalog),
        "sale_price": "" if product.sale is None else _entered(product.sale, catalog),
        **_no_sale_dates(),
        "on_sale": product.sale is not None,
        "purchasable": True,
        "total_sales": 0,
        "virtual": product.virtual,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "external_url": "",
        "button_text": "",
        "tax_status": "taxable" if product.taxable else "none",
        "tax_class": "",
        "manage_stock": product.stock is not None,
        "stock_quantity": product.stock,
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "sold_individually": False,
        "weight": product.weight,
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_required": not product.virtual,
        "shipping_taxable": not product.virtual,
        "shipping_class": "",
        "shipping_class_id": 0,
        "reviews_allowed": True,
        "average_rating": "0.00",
        "rating_count": 0,
        "upsell_ids": [],
        "cross_sell_ids": [],
        "parent_id": 0,
        "purchase_note": "",
        "categories": [{"id": product.category, "name": category_name, "slug": category_slug}],
        "brands": [],
        "tags": [],
        "images": [],
        "attributes": attributes,
        "default_attributes": [],
        "variations": list(product.variation_ids),
        "grouped_products": [],
        "menu_order": 0,
        "price_html": _price_html(product, catalog, money or catalog.money),
        "related_ids": [],
        "meta_data": [],
        "stock_status": "instock",
        "has_options": variable,
        "post_password": "",
        "global_unique_id": "",
        "_links": {
            "self": _self_link(f"{site}/wp-json/wc/v3/products/{product.id}", ALL_METHODS),
            "collection": [{"href": f"{site}/wp-json/wc/v3/products"}],
        },
    }


def _entered(units: int, catalog: Catalog) -> str:
    """A price as the shop manager entered it, with the catalog's decimals: "12.50", "1875"."""
    decimals = catalog.money.decimals
    return format_decimal(units, decimals, decimals)


def _no_sale_dates() -> dict:
    return {
        "date_on_sale_from": None,
        "date_on_sale_from_gmt": None,
        "date_on_sale_to": None,
        "date_on_sale_to_gmt": None,
    }


def variation(variation: Product, catalog: Catalog, site: str, zone: tzinfo = UTC) -> dict:
    parent = catalog.parent(variation)
    query = "&".join(f"attribute_{a.lower()}={o}" for a, o in variation.attributes)
    base = f"{site}/wp-json/wc/v3/products/{parent.id}"
    return {
        "id": variation.id,
        "type": "variation",
        "date_created": local_date(variation.created, zone),
        "date_created_gmt": gmt_date(variation.created),
        "date_modified": local_date(variation.created, zone),
        "date_modified_gmt": gmt_date(variation.created),
        "description": "",
        "permalink": f"{site}/product/{slug(parent.name)}/?{query}",
        "sku": variation.sku,
        "global_unique_id": "",
        "price": _entered(variation.price, catalog),
        "regular_price": _entered(variation.regular, catalog),
        "sale_price": "" if variation.sale is None else _entered(variation.sale, catalog),
        **_no_sale_dates(),
        "on_sale": variation.sale is not None,
        "status": "publish",
        "purchasable": True,
        "virtual": variation.virtual,
        "downloadable": False,
        "downloads": [],
        "download_limit": -1,
        "download_expiry": -1,
        "tax_status": "taxable" if variation.taxable else "none",
        "tax_class": "",
        "manage_stock": variation.stock is not None,
        "stock_quantity": variation.stock,
        "stock_status": "instock",
        "backorders": "no",
        "backorders_allowed": False,
        "backordered": False,
        "low_stock_amount": None,
        "weight": variation.weight,
        "dimensions": {"length": "", "width": "", "height": ""},
        "shipping_class": "",
        "shipping_class_id": 0,
        "image": None,
        "attributes": [
            {"id": 0, "name": a, "slug": a.lower(), "option": o} for a, o in variation.attributes
        ],
        "menu_order": 0,
        "meta_data": [],
        "name": variation.name,
        "parent_id": parent.id,
        "_links": {
            "self": _self_link(f"{base}/variations/{variation.id}", ALL_METHODS),
            "collection": [{"href": f"{base}/variations"}],
            "up": [{"href": base}],
        },
    }


def customer(customer: Customer, site: str, paying: bool, zone: tzinfo = UTC) -> dict:
    c = customer.contact
    address = {
        "first_name": c.first_name,
        "last_name": c.last_name,
        "company": c.company,
        "address_1": c.address_1,
        "address_2": c.address_2,
        "city": c.city,
        "postcode": c.postcode,
        "country": c.country,
        "state": c.state,
    }
    avatar = hashlib.sha256(c.email.strip().lower().encode()).hexdigest()
    return {
        "id": customer.id,
        "date_created": local_date(customer.created, zone),
        "date_created_gmt": gmt_date(customer.created),
        "date_modified": local_date(customer.created, zone),
        "date_modified_gmt": gmt_date(customer.created),
        "email": c.email,
        "first_name": c.first_name,
        "last_name": c.last_name,
        "role": "customer",
        "username": customer.username,
        "billing": {**address, "email": c.email, "phone": c.phone},
        "shipping": {**address, "phone": ""},
        "is_paying_customer": paying,
        "avatar_url": f"https://secure.gravatar.com/avatar/{avatar}?s=96&d=mm&r=g",
        "meta_data": [],
        "_links": {
            "self": _self_link(f"{site}/wp-json/wc/v3/customers/{customer.id}", ALL_METHODS),
            "collection": [{"href": f"{site}/wp-json/wc/v3/customers"}],
        },
    }


WEBHOOK_HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post"],
    "order.restored": ["untrashed_post"],
}


def webhook(hook: Webhook, site: str, zone: tzinfo = UTC) -> dict:
    resource, _, event = hook.topic.partition(".")
    return {
        "id": hook.id,
        "name": hook.name,
        "status": hook.status,
        "topic": hook.topic,
        "resource": resource,
        "event": event,
        "hooks": WEBHOOK_HOOKS.get(hook.topic, []),
        "delivery_url": hook.delivery_url,
        "date_created": local_date(hook.created, zone),
        "date_created_gmt": gmt_date(hook.created),
        "date_modified": local_date(hook.modified, zone),
        "date_modified_gmt": gmt_date(hook.modified),
        "_links": {
            "self": _self_link(f"{site}/wp-json/wc/v3/webhooks/{hook.id}", ALL_METHODS),
            "collection": [{"href": f"{site}/wp-json/wc/v3/webhooks"}],
        },
    }


# Where a store keeps its orders: custom order tables (HPOS, the default since WooCommerce 8.2)
# or the posts table ("legacy" storage), as /system_status names the data store.
ORDER_DATASTORES = {
    "hpos": "Automattic\\WooCommerce\\Internal\\DataStores\\Orders\\OrdersTableDataStore",
    "posts": "WC_Order_Data_Store_CPT",
}


def system_status(site: str, storage: str = "hpos", money: Money | None = None) -> dict:
    """The parts of ``/system_status`` a connector reads, shaped like a WooCommerce 10 store:
    its ``settings`` name the store's currency, symbol, separators and decimals."""
    money = money or Money()
    return {
        "environment": {
            "home_url": site,
            "site_url": site,
            "store_id": "5a9d0b4e-8c3f-4f0e-9d6b-2b7c1e3f4a50",
            "version": WC_VERSION,
            "log_directory": "/var/www/html/wp-content/uploads/wc-logs/",
            "log_directory_writable": True,
            "wp_version": "6.8.2",
            "wp_multisite": False,
            "wp_memory_limit": 268435456,
            "wp_debug_mode": False,
            "wp_cron": True,
            "language": "en_US",
            "external_object_cache": None,
            "server_info": "nginx/1.26.2",
            "server_architecture": "Linux 6.8.0 x86_64",
            "php_version": "8.2.36",
            "php_post_max_size": 67108864,
            "php_max_execution_time": 30,
            "php_max_input_vars": 1000,
            "curl_version": "7.88.1, OpenSSL/3.0.19",
            "suhosin_installed": False,
            "max_upload_size": 67108864,
            "mysql_version": "10.11.19",
            "mysql_version_string": "10.11.19-MariaDB-0+deb12u1",
            "default_timezone": "UTC",
            "fsockopen_or_curl_enabled": True,
            "soapclient_enabled": False,
            "domdocument_enabled": True,
            "gzip_enabled": True,
            "mbstring_enabled": True,
            # As captured: a store whose loopback requests fail reports them like this.
            "remote_post_successful": False,
            "remote_post_response": "",
            "remote_get_successful": False,
            "remote_get_response": "",
        },
        "database": {
            "wc_database_version": WC_VERSION,
            "database_prefix": "wp_",
            "maxmind_geoip_database": "",
            "database_tables": {
                "woocommerce": {
                    "wp_wc_orders": {"data": "48.52", "index": "21.03", "engine": "InnoDB"},
                    "wp_woocommerce_order_items": {
                        "data": "12.52",
                        "index": "4.02",
                        "engine": "InnoDB",
                    },
                },
                "other": {},
            },
            "database_size": {"data": 61.04, "index": 25.05},
        },
        "active_plugins": [
            {
                "plugin": "woocommerce/woocommerce.php",
                "name": "WooCommerce",
                "version": WC_VERSION,
                "version_latest": WC_VERSION,
                "url": "https://woocommerce.com/",
                "author_name": "Automattic",
                "author_url": "https://woocommerce.com",
                "network_activated": False,
            }
        ],
        "inactive_plugins": [],
        "dropins_mu_plugins": {"dropins": [], "mu_plugins": []},
        "theme": {
            "name": "Storefront",
            "version": "4.6.1",
            "version_latest": "4.6.1",
            "author_url": "https://woocommerce.com/",
            "is_child_theme": False,
            "is_block_theme": False,
            "has_woocommerce_support": True,
            "has_woocommerce_file": False,
            "has_outdated_templates": False,
            "overrides": [],
            "parent_name": "",
            "parent_version": "",
            "parent_version_latest": "",
            "parent_author_url": "",
        },
        "settings": {
            "api_enabled": True,
            "force_ssl": False,
            "currency": money.currency,
            "currency_symbol": money.symbol,
            "currency_position": "left",
            "thousand_separator": money.thousand_separator,
            "decimal_separator": money.decimal_separator,
            "number_of_decimals": money.decimals,
            "geolocation_enabled": False,
            "taxonomies": {"external": "external", "grouped": "grouped", "simple": "simple"},
            "product_visibility_terms": {"exclude-from-catalog": "exclude-from-catalog"},
            "woocommerce_com_connected": "no",
            "enforce_approved_download_dirs": True,
            "order_datastore": ORDER_DATASTORES[storage],
            "HPOS_enabled": storage == "hpos",
            "HPOS_sync_enabled": False,
        },
        "security": {"secure_connection": site.startswith("https:"), "hide_errors": True},
        "pages": [
            {
                "page_name": "Checkout",
                "page_id": "7",
                "page_set": True,
                "page_exists": True,
                "page_visible": True,
                "shortcode": "",
                "block": "woocommerce/checkout",
                "shortcode_required": False,
                "shortcode_present": False,
                "block_present": True,
                "block_required": True,
            }
        ],
        "post_type_counts": [{"type": "product", "count": "23"}],
        "logging": {"logging_enabled": True, "default_handler": "LogHandlerFileV2"},
    }


def site_index(site: str, zone: tzinfo, now: float) -> dict:
    """``/wp-json/``: where a client finds the site's name, time zone and namespaces.

    A named zone gives its name and today's offset; a bare offset (a store set to "UTC+2")
    gives an empty name, as WordPress does.
    """
    hours = datetime.fromtimestamp(now, zone).utcoffset().total_seconds() / 3600
    return {
        "name": "Sandbox Store",
        "description": "A stand-in WooCommerce store",
        "url": site,
        "home": site,
        "gmt_offset": int(hours) if hours == int(hours) else hours,
        "timezone_string": getattr(zone, "key", ""),
        "namespaces": ["oembed/1.0", "wc/v3", "wc/store/v1", "wp/v2"],
        "authentication": [],
        "routes": {},
        "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
    }

"""Refunds as WooCommerce makes them (``wc_create_refund``), of lines or of an amount.

A refund names order items (product lines, the shipping, the fee) with a quantity, an amount
without tax and the tax at each rate, or names none: a refund by amount. Its ``amount`` is
what was given back, with tax; given no amount, the REST API adds up the lines'. It may not
exceed what is left to refund. Restocking (``api_restock``, true by default in the REST
API, the "Restock refunded items" box in the admin) puts a line's refunded quantity back
into stock where the product manages stock and the order took it: the order line's
``_reduced_stock`` goes down, its ``_restock_refunded_items`` up, and the order gets the note
"Item #<product> stock increased from <a> to <b>." Nothing on the refund itself says so.

Amounts are in the units of the order's precision (``Order.decimals``): cents, yen or fils.
"""

from __future__ import annotations

from collections.abc import Iterable

from .catalog import Catalog
from .model import FEE_ITEM, SHIPPING_ITEM, Order, Refund, RefundLine, WooError
from .money import compute, round_to, to_units

STOCK_LEVEL = 90  # what the store's stock notes show a product at after the sale


def items(order: Order, catalog: Catalog) -> dict[int, tuple[int, int, int]]:
    """The order's refundable items: {item id: (quantity, total, tax)}, amounts in the
    order's units; quantity 0 for shipping and the fee."""
    totals = compute(order, catalog)

    def units(millionths: int) -> int:
        return round_to(millionths, totals.unit) // totals.unit

    found = {
        line.item_id: (line.quantity, units(amounts.total.amount), units(amounts.total.tax))
        for line, amounts in zip(order.lines, totals.lines, strict=True)
    }
    if order.shipping:
        shipping = totals.shipping
        found[order.first_item_id - 1 + SHIPPING_ITEM] = (
            0,
            units(shipping.amount),
            units(shipping.tax),
        )
    if order.fee:
        found[order.first_item_id - 1 + FEE_ITEM] = (
            0,
            units(totals.fee.amount),
            units(totals.fee.tax),
        )
    return found


def requested_lines(
    order: Order, catalog: Catalog, line_items: object, *, fill: bool
) -> list[RefundLine]:
    """The REST API's ``line_items``: a list of ``{id, quantity (or qty), refund_total,
    refund_tax}`` with ``refund_tax`` a list of ``{id, refund_total}`` or ``{rate id:
    amount}``, or an object keyed by item id. Items not of the order are passed over, as
    WooCommerce does, and so are entries with nothing to refund.

    With ``fill`` (the control API), a line given only a quantity is refunded as the admin's
    refund form fills it in: its share of the line's total and tax, to the cent; shipping
    and the fee given nothing are refunded whole.
    """
    if isinstance(line_items, dict):
        entries = [{**entry, "id": key} for key, entry in line_items.items()]
    elif isinstance(line_items, list):
        entries = line_items
    else:
        entries = []
    known = items(order, catalog)
    decimals = order.decimals
    lines = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        try:
            item_id = int(entry.get("id", 0))
        except (TypeError, ValueError):
            continue
        if item_id not in known:
            continue
        quantity = _whole(entry.get("quantity", entry.get("qty", 0)))
        ordered, total, tax = known[item_id]
        given_total = entry.get("refund_total")
        given_tax = _taxes(entry.get("refund_tax"), decimals)
        if fill and given_total is None:
            part = (quantity, ordered) if ordered else (1, 1)
            refund_total = share(total, *part)
            refund_tax = share(tax, *part) if given_tax is None else given_tax
        else:
            refund_total = to_units(given_total, decimals)
            refund_tax = given_tax or 0
        if not (quantity or refund_total or refund_tax):
            continue
        lines.append(RefundLine(item_id, quantity, refund_total, refund_tax))
    return lines


def _whole(value: object) -> int:
    try:
        return max(0, int(float(str(value or 0))))
    except ValueError:
        return 0


def _taxes(value: object, decimals: int) -> int | None:
    """The refunded tax of a line, all rates together (a sandbox order has one rate)."""
    if value is None:
        return None
    if isinstance(value, dict):
        amounts: Iterable[object] = value.values()
    elif isinstance(value, list):
        amounts = [t.get("refund_total") if isinstance(t, dict) else t for t in value]
    else:
        amounts = [value]
    return sum(to_units(amount, decimals) for amount in amounts)


def share(amount: int, quantity: int, ordered: int) -> int:
    """``quantity`` of ``ordered`` items of ``amount`` (units of money), rounded half up."""
    return round_to(amount * quantity, ordered) // ordered if ordered else amount


def lines_amount(lines: Iterable[RefundLine]) -> int:
    return sum(line.total + line.tax for line in lines)


def remaining(order: Order, catalog: Catalog) -> int:
    """What is left to refund, in the order's units (``get_remaining_refund_amount``)."""
    return compute(order, catalog).total_units - sum(r.amount for r in order.refunds)


def restocked(order: Order, item_id: int) -> int:
    """How many of the line went back into stock over all its refunds."""
    return sum(
        line.restocked
        for refund in order.refunds
        for line in refund.lines
        if line.refunded_item_id == item_id
    )


def with_restock(order: Order, catalog: Catalog, lines: list[RefundLine]) -> list[RefundLine]:
    """The lines with what ``wc_restock_refunded_items`` puts back: product lines whose
    product still exists and whose stock the order took, up to what it still holds."""
    quantities = {line.item_id: (line.quantity, line.product_id) for line in order.lines}
    restocking = []
    for line in lines:
        ordered, product_id = quantities.get(line.refunded_item_id, (0, 0))
        held = ordered - restocked(order, line.refunded_item_id)
        if order.stock_reduced and product_id in catalog.products and held > 0:
            line = line._replace(restocked=min(line.quantity, held))
        restocking.append(line)
    return restocking


def restock_notes(order: Order, refund: Refund) -> list[tuple[int, str]]:
    """The order notes a restock writes, one per line put back: (moment, text). The
    order holds the refund; the stock before counts what its earlier refunds put back."""
    products = {line.item_id: line.product_id for line in order.lines}
    earlier = order.refunds[: order.refunds.index(refund)]
    notes = []
    for line in refund.lines:
        if line.restocked:
            before = STOCK_LEVEL + sum(
                x.restocked
                for r in earlier
                for x in r.lines
                if x.refunded_item_id == line.refunded_item_id
            )
            after = before + line.restocked
            product = products[line.refunded_item_id]
            text = f"Item #{product} stock increased from {before} to {after}."
            notes.append((refund.created, text))
    return notes


def invalid_amount() -> WooError:
    """What the REST API answers when ``wc_create_refund`` refuses the amount."""
    return WooError("woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.", 500)

"""An order becomes a plan: its customer, its items, and sales lines whose amounts are the
store's to the last unit of its currency, each with its VAT codes, booked as the webstore's
accounting setup says (``portal.sync.accounting``). Pure: no HTTP and no database of its own
(the books and exchange rates it is given hold what the batch looked up), so the money and
line rules are tested on their own.

The money rules, in one place (rounding and units in ``portal.sync.money``):
- Amounts are the store's, in its number of decimals (the order's unit: 1 yen, 1 cent,
  1 fils); none is rounded on the way in, and one the ERP cannot keep exactly fails the
  order.
- A line's unit price is its price before discounts (``subtotal / quantity``), to the
  precision that multiplies back to the line; the difference to its ``total`` is the line
  discount.
- The order's ``total`` and ``tax_lines`` are the truth; the tax lines are its VAT (the
  store's own tax report reads them). With "round tax at subtotal level" WooCommerce rounds
  each rate's tax once over the whole order, so the lines' own taxes may differ from the tax
  lines by a unit per line and rate: those units go onto the lines' taxes at that rate, one
  unit per line, largest line (by net amount) first. A line's tax at each rate is its own
  ``total_tax`` where it has one rate, else the rate's entry in its ``taxes``; its tax is
  their sum.
- WooCommerce adds the rates unrounded into ``total_tax`` (and so into ``total``), which may
  differ from the tax lines by a unit per rate. The tax lines stay the VAT: such a unit goes
  onto the net amount of the largest taxed line, by the same rule. The log entry says what
  went where; a difference larger than rounding fails the order.
- With prices entered with tax, the net line totals the store shows are rounded from
  unrounded ones: a unit a line may go onto the net amounts, by the same rule.
- Coupon amounts are rounded to the order's unit as WooCommerce rounds them (half away from
  zero): the store's coupon lines carry them unrounded ("2.996", "462.962963").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.models import LineType, SalesOrderStatus
from portal.sync.accounting import Booking
from portal.sync.customers import CustomerBook, CustomerChoice
from portal.sync.failures import OrderFailure
from portal.sync.items import ItemBook, ItemChoice
from portal.sync.money import (
    AMOUNT_PLACES,
    UNIT_PRICE_PLACES,
    decimals_for,
    in_company_currency,
    is_kept,
    kept_exactly,
    round_to_unit,
    unit_of,
    unit_price,
)
from portal.sync.states import OrderState
from portal.sync.vat import VatPart, parts_to_json
from portal.woo.orders import WooLineItem, WooLineTax, WooOrder


@dataclass
class PlannedLine:
    #: The sales line's columns, as written.
    values: dict
    #: The item to resolve once new items are numbered; None where ``values`` names it.
    item: ItemChoice | None = None
    #: The store's tax per rate on this line, and whether it is a shipping line.
    taxes: tuple[WooLineTax, ...] = ()
    shipping: bool = False
    #: Its tax per store rate id (``rate_taxes``), as reconciled with the tax lines.
    rates: dict[int, Decimal] = field(default_factory=dict)
    #: Its VAT codes with base and VAT (``portal.sync.vat``); their VAT adds up to its tax.
    parts: list[VatPart] = field(default_factory=list)


@dataclass
class Plan:
    order: WooOrder
    customer: CustomerChoice
    #: The decimals of the order's currency in this store (0 for yen, 3 for dinar).
    decimals: int = 2
    lines: list[PlannedLine] = field(default_factory=list)
    #: What the log entry says besides "imported": product-less lines, tax rounding,
    #: charges booked on accounts, reverse charge.
    notes: list[str] = field(default_factory=list)
    #: The ERP codes the webstore's mappings gave ("" for none).
    payment_method_code: str = ""
    shipment_method_code: str = ""
    shipping_agent_code: str = ""
    #: Company currency per unit of the order's, where it is in another one; else None.
    exchange_rate: Decimal | None = None
    company_currency: str | None = None

    @property
    def items(self) -> list[ItemChoice]:
        return [line.item for line in self.lines if line.item is not None]


def plan_order(
    order: WooOrder,
    setup,
    customers: CustomerBook,
    items: ItemBook,
    planned_customers: dict,
    planned_items: dict,
    rates: Mapping[tuple[str, date], Decimal | None] | None = None,
) -> Plan:
    """The plan for one order; raises OrderFailure saying what to fix and where.

    ``setup`` is the webstore's setup as the run started (``writer.WebstoreSetup``), with
    its ``accounting``; ``rates`` the exchange rates by (currency, day) looked up for the
    batch (``AccountingSetup.rate_keys``).
    """
    accounting = setup.accounting
    decimals = decimals_for(order.currency, setup.currency, setup.price_decimals)
    customer = customers.choose(order, planned_customers)
    plan = Plan(
        order=order,
        customer=customer,
        decimals=decimals,
        payment_method_code=accounting.payment_method_code(order),
        exchange_rate=accounting.exchange_rate(order, rates or {}),
        company_currency=accounting.company_currency,
    )
    plan.shipment_method_code, plan.shipping_agent_code = accounting.shipment(order)
    for position, line in enumerate(order.line_items, start=1):
        if line.quantity <= 0:
            raise OrderFailure(
                f"Line {position} '{line.name}' has quantity {line.quantity}: "
                "fix the order in the store, then retry."
            )
        if line.has_product:
            choice = items.choose(line, planned_items, decimals)
            values = item_line(line, decimals)
            plan.lines.append(PlannedLine(values, item=choice, taxes=line.taxes))
        else:
            plan.lines.append(no_product_line(plan, line, position, setup))
    for shipping in order.shipping_lines:
        plan.lines.append(shipping_line(plan, shipping, setup))
    for fee in order.fee_lines:
        plan.lines.append(fee_line(plan, fee, accounting))
    plan.notes += reconcile(order, plan.lines, unit_of(decimals))
    for line in plan.lines:
        line.parts = accounting.vat_parts(order, line.rates, line.values["amount"])
    if note := accounting.reverse_charge_note(order):
        plan.notes.append(note)
    check_kept(plan)
    return plan


def item_line(line: WooLineItem, decimals: int) -> dict:
    return {
        "line_type": LineType.ITEM,
        "description": line.name[:200],
        "sku": line.sku[:100],
        "quantity": Decimal(line.quantity),
        "unit_price": unit_price(line.subtotal, Decimal(line.quantity), decimals),
        "line_discount": line.subtotal - line.total,
        "amount": line.total,
        "tax_amount": line.total_tax,
        "woo_line_id": line.id,
    }


def no_product_line(plan: Plan, line: WooLineItem, position: int, setup) -> PlannedLine:
    """A line whose product was deleted, or that was added by hand: booked on the
    webstore's item for such lines, with the store's name, quantity, prices and tax."""
    item = setup.no_product_item
    if item is None:
        raise OrderFailure(
            f"Line {position} '{line.name}' has no product in the store, and webstore "
            f"{setup.code} has no item for lines without a product: choose one under "
            f"'Item for lines without a product' in its setup (Setup > Webstores > "
            f"{setup.code}), then retry."
        )
    plan.notes.append(
        f"line {position} '{line.name}' has no product in the store: booked on item {item.number}"
    )
    values = {**item_line(line, plan.decimals), "item_id": item.id, "sku": ""}
    return PlannedLine(values, taxes=line.taxes)


def shipping_line(plan: Plan, shipping, setup) -> PlannedLine:
    name = shipping.method_title or "Shipping"
    booking = setup.accounting.shipping_booking_of(name) or shipping_item(shipping, setup)
    return PlannedLine(
        charge_values(plan, booking, name, shipping), taxes=shipping.taxes, shipping=True
    )


def shipping_item(shipping, setup) -> Booking:
    """Shipping on the webstore's shipping charge item, as always."""
    item = setup.shipping_charge_item
    if item is None:
        raise OrderFailure(
            f"The order has shipping ({shipping.method_title} {shipping.total}) but webstore "
            f"{setup.code} has no shipping charge item: set one in its setup (Setup > "
            f"Webstores > {setup.code}), then retry."
        )
    return Booking(LineType.SHIPPING, item_id=item.id, sku=item.sku or "")


def fee_line(plan: Plan, fee, accounting) -> PlannedLine:
    name = fee.name or "Fee"
    booking = accounting.fee_booking_of(name, fee.total)
    return PlannedLine(charge_values(plan, booking, name, fee), taxes=fee.taxes)


def charge_values(plan: Plan, booking: Booking, name: str, charge) -> dict:
    """A shipping or fee line's columns, booked as ``booking`` says (and noted)."""
    if booking.note:
        plan.notes.append(booking.note)
    return {
        "line_type": booking.line_type,
        "item_id": booking.item_id,
        "account_id": booking.account_id,
        "description": name[:200],
        "sku": booking.sku,
        "quantity": Decimal(1),
        "unit_price": charge.total,
        "line_discount": Decimal(0),
        "amount": charge.total,
        "tax_amount": charge.total_tax,
        "woo_line_id": charge.id,
    }


def coupon_values(plan: Plan) -> list[dict]:
    unit = unit_of(plan.decimals)
    return [
        {
            "code": c.code[:100],
            "discount": round_to_unit(c.discount, unit),
            "discount_tax": round_to_unit(c.discount_tax, unit),
        }
        for c in plan.order.coupon_lines
    ]


# A sales line's amounts, and the decimals the ERP keeps of each.
LINE_AMOUNTS = (
    ("unit_price", UNIT_PRICE_PLACES),
    ("line_discount", AMOUNT_PLACES),
    ("amount", AMOUNT_PLACES),
    ("tax_amount", AMOUNT_PLACES),
)


def check_kept(plan: Plan) -> None:
    """Every amount of the plan as the ERP keeps it, or the order fails naming the one that
    would be rounded."""
    order = plan.order
    for line in plan.lines:
        values = line.values
        for name, places in LINE_AMOUNTS:
            # The message only for the one that fails: this runs for every line imported.
            if not is_kept(values[name], places):
                what = f"Line '{values['description']}': its {name.replace('_', ' ')}"
                kept_exactly(values[name], what, places)
    for name in ("total", "discount_total"):
        kept_exactly(getattr(order, name), f"The order's {name.replace('_', ' ')}")
    for refund in order.refunds:
        kept_exactly(refund.total, f"Refund {refund.id}'s total")


# Reconciliation with the store's total


def reconcile(order: WooOrder, lines: list[PlannedLine], unit: Decimal) -> list[str]:
    """Make the lines' taxes per rate the store's tax lines, and the lines add up to the
    order's total, or fail; return what was adjusted. ``unit`` is the smallest amount of the
    order's currency."""
    for line in lines:
        line.rates = rate_taxes(line)
        if line.rates:
            line.values["tax_amount"] = sum(line.rates.values(), Decimal(0))
    adjustments = tax_rounding(order, lines, unit)
    apply_adjustments(adjustments, lines)
    difference = order.total - lines_total(lines)
    if difference and order.prices_include_tax:
        # Prices entered with tax: WooCommerce keeps the net line totals unrounded, so the
        # shown ones may miss the total by a unit a line.
        net = [i for i, line in enumerate(lines) if not line.shipping]
        units = spread(difference, net, lines, unit, "price with tax", kind="net") or []
        apply_adjustments(units, lines)
        adjustments += units
    if order.total != lines_total(lines):
        raise mismatch(order, lines)
    return [describe_rounding(order, lines, adjustments)] if adjustments else []


def rate_taxes(line: PlannedLine) -> dict[int, Decimal]:
    """A line's tax per store rate: its ``total_tax`` where it has one rate (a tax entry may
    show half a unit rounded the other way), else each rate's entry. An entry of zero beside
    one with tax is left out: that rate did not tax the line."""
    taxes = line.taxes
    if len(taxes) > 1 and any(tax.total for tax in taxes):
        taxes = [tax for tax in taxes if tax.total]
    if len(taxes) == 1:
        return {taxes[0].rate_id: line.values["tax_amount"]}
    rates: dict[int, Decimal] = {}
    for tax in taxes:
        rates[tax.rate_id] = rates.get(tax.rate_id, Decimal(0)) + tax.total
    return rates


def apply_adjustments(adjustments: list[Adjustment], lines: list[PlannedLine]) -> None:
    for adjustment in adjustments:
        line = lines[adjustment.line]
        if adjustment.kind == "net":
            line.values["amount"] += adjustment.amount
        else:
            line.rates[adjustment.rate_id] += adjustment.amount
            line.values["tax_amount"] += adjustment.amount


def lines_total(lines: list[PlannedLine]) -> Decimal:
    return sum((line.values["amount"] + line.values["tax_amount"] for line in lines), Decimal(0))


@dataclass(frozen=True)
class Adjustment:
    line: int  # index into the plan's lines
    amount: Decimal
    #: What the log calls the cause: the rate's label, "order total tax", "price with tax".
    label: str
    #: "tax": onto the line's tax at ``rate_id``; "net": onto its net amount.
    kind: str = "tax"
    rate_id: int | None = None


def tax_rounding(order: WooOrder, lines: list[PlannedLine], unit: Decimal) -> list[Adjustment]:
    """The units that take the lines' taxes per rate to the store's tax lines, and their net
    amounts to its total; none where a difference is more than rounding (the lines then keep
    the store's own line taxes).

    First each rate's line taxes go to its tax line (items and fees, and shipping, apart).
    Then the order's ``total_tax`` may differ from its tax lines by a unit a rate, since
    the store adds the rates' taxes unrounded: the tax lines stay the VAT, and that goes onto
    the taxed lines' net amounts. Each step gives at most one unit to a line, largest line
    (by net amount) first.
    """
    if not order.tax_lines:
        return []
    adjustments = []
    for tax_line in order.tax_lines:
        label = tax_line.label or f"rate {tax_line.rate_id}"
        for shipping, wanted in (
            (False, tax_line.tax_total),
            (True, tax_line.shipping_tax_total),
        ):
            taxed = [
                index
                for index, line in enumerate(lines)
                if line.shipping == shipping and tax_line.rate_id in line.rates
            ]
            at_rate = sum((lines[i].rates[tax_line.rate_id] for i in taxed), Decimal(0))
            units = spread(wanted - at_rate, taxed, lines, unit, label, rate_id=tax_line.rate_id)
            if units is None:
                return []
            adjustments += units
    by_rate = sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))
    taxed = [index for index, line in enumerate(lines) if line.rates]
    limit = unit * len(order.tax_lines)
    if abs(order.total_tax - by_rate) > limit:
        return []
    units = spread(order.total_tax - by_rate, taxed, lines, unit, "order total tax", kind="net")
    return [] if units is None else adjustments + units


def spread(
    difference, indexes: list[int], lines, unit: Decimal, label: str, kind="tax", rate_id=None
):
    """``difference`` as one unit each on the largest of these lines; None if it is not."""
    if difference == 0:
        return []
    steps, remainder = divmod(abs(difference), unit)
    if remainder or steps > len(indexes):
        return None
    step = unit if difference > 0 else -unit
    largest_first = sorted(indexes, key=lambda i: -abs(lines[i].values["amount"]))
    return [Adjustment(i, step, label, kind, rate_id) for i in largest_first[: int(steps)]]


def describe_rounding(order: WooOrder, lines: list[PlannedLine], adjustments) -> str:
    changes = ", ".join(
        f"{'+' if a.amount > 0 else ''}{a.amount} {a.kind} on "
        f"'{lines[a.line].values['description']}' ({a.label})"
        for a in adjustments
    )
    return (
        f"the store rounded over the whole order: {changes} {order.currency}, "
        f"so that the sales order matches its tax lines and total {order.total} {order.currency}"
    )


def mismatch(order: WooOrder, lines: list[PlannedLine]) -> OrderFailure:
    line_tax = sum((line.values["tax_amount"] for line in lines), Decimal(0))
    store_tax = sum((t.tax_total + t.shipping_tax_total for t in order.tax_lines), Decimal(0))
    taxes = f"the lines' tax is {line_tax} {order.currency}"
    if order.tax_lines:
        taxes += f", the store's tax lines say {store_tax} {order.currency}"
    return OrderFailure(
        f"The order total {order.total} {order.currency} does not match its lines, charges "
        f"and taxes ({lines_total(lines)} {order.currency}; {taxes}): the difference is more "
        f"than rounding. Check order {order.number}'s lines, fees and taxes in the store, "
        "then retry."
    )


# The plan as rows: the columns an import writes


def sales_order_row(plan: Plan, webstore_id: int, run_id: int) -> dict:
    """The sales order an import makes of the plan (its number and id come on writing)."""
    return {
        "webstore_id": webstore_id,
        "customer_id": plan.customer.resolved_id(),
        "status": SalesOrderStatus.OPEN,
        "ordered_at": plan.order.date_created,
        "woo_order_id": plan.order.id,
        **order_values(plan),
        "sync_run_id": run_id,
    }


def order_values(plan: Plan) -> dict:
    """The sales order's columns that its store order decides: an import writes them, and
    an update from the store writes them again."""
    order = plan.order
    billing, shipping = order.billing, order.shipping
    amounts = [line.values for line in plan.lines]
    amount = sum((v["amount"] for v in amounts), Decimal(0))
    tax = sum((v["tax_amount"] for v in amounts), Decimal(0))
    state = OrderState.of(order).as_json()
    return {
        "order_date": order.order_date,
        "currency": order.currency[:3],
        "currency_decimals": plan.decimals,
        "external_document_no": order.number[:35],
        "woo_status": order.status[:20],
        "woo_modified_at": order.date_modified,
        "sell_to_name": (billing.full_name or billing.company)[:200],
        "sell_to_email": billing.email.strip()[:254],
        "sell_to_phone": billing.phone[:50],
        "sell_to_company": billing.company[:200],
        "sell_to_address": billing.address_1[:200],
        "sell_to_address_2": billing.address_2[:200],
        "sell_to_city": billing.city[:100],
        "sell_to_county": billing.state[:100],
        "sell_to_post_code": billing.postcode[:20],
        "sell_to_country": billing.country[:2],
        "ship_to_name": (shipping.full_name or shipping.company)[:200],
        "ship_to_company": shipping.company[:200],
        "ship_to_address": shipping.address_1[:200],
        "ship_to_address_2": shipping.address_2[:200],
        "ship_to_city": shipping.city[:100],
        "ship_to_county": shipping.state[:100],
        "ship_to_post_code": shipping.postcode[:20],
        "ship_to_country": shipping.country[:2],
        "ship_to_phone": shipping.phone[:50],
        "vat_number": order.vat_number,
        "payment_method": order.payment_method[:100],
        "payment_method_title": order.payment_method_title[:200],
        "payment_method_code": plan.payment_method_code,
        "shipment_method_code": plan.shipment_method_code,
        "shipping_agent_code": plan.shipping_agent_code,
        "customer_note": order.customer_note,
        "prices_include_tax": order.prices_include_tax,
        "amount": amount,
        "tax_amount": tax,
        "amount_including_tax": order.total,
        "discount_amount": order.discount_total,
        "refunded_amount": order.refunded_total,
        **company_amounts(plan, amount, tax),
        # Built from this state; it is the store's latest too until it changes.
        "imported_state": state,
        "store_state": state,
    }


def company_amounts(plan: Plan, amount: Decimal, tax: Decimal) -> dict:
    """The exchange rate and the amounts in the company's currency; None where the order
    is in it (or none is set)."""
    rate = plan.exchange_rate
    if rate is None:
        return dict.fromkeys(
            ("exchange_rate", "amount_lcy", "tax_amount_lcy", "amount_including_tax_lcy")
        )
    company = plan.company_currency
    return {
        "exchange_rate": rate,
        "amount_lcy": in_company_currency(amount, rate, company),
        "tax_amount_lcy": in_company_currency(tax, rate, company),
        "amount_including_tax_lcy": in_company_currency(plan.order.total, rate, company),
    }


def line_rows(plan: Plan, sales_order_id: int) -> list[dict]:
    rows = []
    for line_no, line in enumerate(plan.lines, start=1):
        row = {
            "account_id": None,
            **line.values,
            "sales_order_id": sales_order_id,
            "line_no": line_no * 10000,
            "vat_code": line.parts[0].code if line.parts else "",
            "vat_parts": parts_to_json(line.parts),
        }
        if line.item is not None:
            row["item_id"] = line.item.resolved_id()
        rows.append(row)
    return rows


def refund_rows(order: WooOrder, sales_order_id: int) -> list[dict]:
    return [
        {
            "sales_order_id": sales_order_id,
            "woo_refund_id": r.id,
            "reason": r.reason or "",
            "amount": -r.total,
        }
        for r in order.refunds
    ]


def coupon_rows(plan: Plan, sales_order_id: int) -> list[dict]:
    return [{**c, "sales_order_id": sales_order_id} for c in coupon_values(plan)]


def link_row(plan: Plan, webstore_id: int, sales_order_id: int, now) -> dict:
    """The order's link to its sales order: read and imported ``now``."""
    order = plan.order
    return {
        "webstore_id": webstore_id,
        "woo_order_id": order.id,
        "woo_order_number": order.number[:40],
        "sales_order_id": sales_order_id,
        "woo_modified_at": order.date_modified,
        "read_at": now,
        "imported_at": now,
    }


def new_records(plans: list[Plan]) -> tuple[list, list]:
    """The new customers and new items the plans share, each once, in order."""
    customers = {id(p.customer.new): p.customer.new for p in plans if p.customer.new}
    items = {id(c.new): c.new for p in plans for c in p.items if c.new}
    return list(customers.values()), list(items.values())


def mapping_rows(plans: list[Plan], webstore_id: int) -> tuple[list[dict], list[dict]]:
    """The customer and item mappings the plans make, once their records have ids."""
    customers = {
        p.customer.map_woo_customer_id: p.customer.resolved_id()
        for p in plans
        if p.customer.map_woo_customer_id
    }
    items = {c.map_product: c.resolved_id() for p in plans for c in p.items if c.map_product}
    return (
        [
            {"webstore_id": webstore_id, "woo_customer_id": woo_id, "customer_id": customer_id}
            for woo_id, customer_id in customers.items()
        ],
        [
            {
                "webstore_id": webstore_id,
                "woo_product_id": product_id,
                "woo_variation_id": variation_id,
                "item_id": item_id,
            }
            for (product_id, variation_id), item_id in items.items()
        ],
    )

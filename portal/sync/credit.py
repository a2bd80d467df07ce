"""The money of a sales credit memo: a store refund, line by line, to its last unit, and the
VAT it reverses.

Refunded order lines become item lines on the items their sales lines were booked on, with
the refunded quantity, amount and tax as the store computed them; refunded shipping and
fees become charge lines. Each refunded line carries the VAT codes of the sales line it
refunds: the tax the store refunded at a rate goes to that sales line's part of the same
rate (``rate_id``), on the refunded amount as its base; an untaxed sales line gives its code
with no VAT. A rate the sales line does not carry refuses the refund, naming it.

What the refund's amount holds beyond its lines (a refund by amount alone, or a part of one)
is split over the order's VAT groups by the rule of ``portal.sync.vat`` (``split_refund``):
one amount line per group on the webstore's refund item, to the currency's unit, so that a
full refund reverses exactly the order's VAT. A sales order without VAT parts (imported
before VAT codes) gets one amount line without tax, as before.

The memo's total is the refund's amount, exactly; lines worth more than the refund are
refused, saying so. Line amounts are the store's as it sent them (``portal.sync.money``).
The memo takes its sales order's exchange rate, with its amounts in the company's currency.
"""

from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    CreditMemoLine,
    CreditMemoLineType,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    Webstore,
)
from portal.standard_items import refund_item
from portal.sync.exchange_rates import company_currency
from portal.sync.failures import OrderFailure
from portal.sync.money import amount_text, in_company_currency, kept_exactly, unit_of
from portal.sync.numbers import next_number
from portal.sync.vat import VatPart, parts_from_json, parts_to_json, split_refund


class CreditRefused(Exception):
    """This refund cannot be credited as it stands; the message says why and what to do."""


def money(value, what: str) -> Decimal:
    """A store amount as the ERP keeps it, else refused naming it; the client gives refunds'
    amounts positive (a refunded discount fee stays negative)."""
    try:
        return kept_exactly(Decimal(str(value)), what)
    except OrderFailure as exc:
        raise CreditRefused(str(exc)) from None


def credit_memo_for(
    webstore: Webstore, order: SalesOrder, woo_order, refund, run_id
) -> SalesCreditMemo:
    """The memo of ``refund`` of ``woo_order`` (imported as ``order``), numbered; not added."""
    sales_lines = list(
        db.session.scalars(
            sa.select(SalesLine)
            .where(SalesLine.sales_order_id == order.id)
            .order_by(SalesLine.line_no)
        )
    )
    lines = refunded_lines(order, sales_lines, refund)
    total = money(refund.amount, "Its amount")
    booked = sum((line.amount + line.tax_amount for line in lines), Decimal("0"))
    rest = total - booked
    if rest < 0:
        decimals = order.currency_decimals
        raise CreditRefused(
            f"its lines come to {amount_text(booked, decimals, order.currency)}, more than "
            f"the refund's {amount_text(total, decimals)}: check the refund in the store."
        )
    if rest > 0:
        lines += amount_lines(webstore, order, sales_lines, refund, rest)
    for position, line in enumerate(lines, start=1):
        line.line_no = position
    refunded_at = refund.date_created_gmt
    memo = SalesCreditMemo(
        number=next_number("CM"),
        webstore_id=webstore.id,
        sales_order_id=order.id,
        woo_order_id=woo_order.id,
        woo_refund_id=refund.id,
        memo_date=refund.refund_date,
        refunded_at=refunded_at,
        reason=refund.reason or "",
        currency=order.currency,
        currency_decimals=order.currency_decimals,
        amount=sum((line.amount for line in lines), Decimal("0")),
        tax_amount=sum((line.tax_amount for line in lines), Decimal("0")),
        amount_including_tax=total,
        sync_run_id=run_id,
        lines=lines,
    )
    convert(memo, order.exchange_rate)
    return memo


def convert(memo: SalesCreditMemo, exchange_rate: Decimal | None) -> None:
    """The sales order's exchange rate on the memo, and its amounts in the company's
    currency at that rate (None where the order has none: it is in the company's)."""
    memo.exchange_rate = exchange_rate
    company = company_currency()
    if exchange_rate is None or company is None:
        return
    memo.amount_lcy = in_company_currency(memo.amount, exchange_rate, company)
    memo.tax_amount_lcy = in_company_currency(memo.tax_amount, exchange_rate, company)
    memo.amount_including_tax_lcy = in_company_currency(
        memo.amount_including_tax, exchange_rate, company
    )


def amount_lines(webstore, order, sales_lines, refund, rest: Decimal) -> list[CreditMemoLine]:
    """What the refund holds beyond its lines, on the refund item: split over the order's
    VAT groups (``portal.sync.vat``), else one line without tax."""
    item = webstore.refund_item or refund_item()

    def line(net: Decimal, tax: Decimal, parts=()) -> CreditMemoLine:
        return CreditMemoLine(
            line_type=CreditMemoLineType.AMOUNT,
            item=item,
            description=(refund.reason or "Refund")[:200],
            sku=item.sku or "",
            quantity=Decimal("1"),
            amount=net,
            tax_amount=tax,
            **vat_columns(parts),
        )

    if not has_vat_parts(sales_lines):
        return [line(rest, Decimal("0"))]
    try:
        shares = split_refund(
            vat_groups(sales_lines),
            rest,
            unit_of(order.currency_decimals),
            earlier=refunded_by_amount(order),
        )
    except ValueError:
        raise CreditRefused(
            f"it refunds {text(order, rest)} beyond its lines, but the lines of sales order "
            f"{order.number} add up to nothing: check the refund in the store."
        ) from None
    return [line(share.net, share.tax, share.parts) for share in shares]


def refunded_by_amount(order: SalesOrder) -> Decimal:
    """What the order's memos credited so far beyond their refunds' lines: the refunds by
    amount before this one, which its split follows on from (``portal.sync.vat``)."""
    return db.session.scalar(
        sa.select(
            sa.func.coalesce(sa.func.sum(CreditMemoLine.amount + CreditMemoLine.tax_amount), 0)
        )
        .join(SalesCreditMemo, SalesCreditMemo.id == CreditMemoLine.credit_memo_id)
        .where(
            SalesCreditMemo.sales_order_id == order.id,
            CreditMemoLine.line_type == CreditMemoLineType.AMOUNT,
        )
    )


def has_vat_parts(sales_lines) -> bool:
    """Whether the order was imported with VAT codes (orders from before have none)."""
    return any(line.vat_parts for line in sales_lines)


def vat_groups(sales_lines):
    """The order's lines as ``split_refund`` reads them: (net, parts). Tax no part carries
    (a rate mapped to no code) goes with the lines without a code, as an amount."""
    for line in sales_lines:
        parts = parts_from_json(line.vat_parts)
        yield line.amount, parts
        outside = line.tax_amount - sum((part.amount for part in parts), Decimal("0"))
        if outside:
            yield outside, ()


def vat_columns(parts) -> dict:
    """A memo line's ``vat_code`` (its first part's) and ``vat_parts``, as a sales line's."""
    return {"vat_code": parts[0].code if parts else "", "vat_parts": parts_to_json(parts)}


def refunded_lines(order: SalesOrder, sales_lines, refund) -> list[CreditMemoLine]:
    """The refund's lines on the items their order lines were booked on, with their VAT."""
    booked = {line.woo_line_id: line for line in sales_lines if line.woo_line_id is not None}
    # An order imported before VAT codes: its refunds' lines carry none, as before.
    vatted = has_vat_parts(sales_lines)
    lines = []
    for line in refund.line_items:
        sales_line = booked.get(line.refunded_item_id)
        if sales_line is None:
            raise CreditRefused(
                f"it refunds order line {line.refunded_item_id} ('{line.name}'), which sales "
                f"order {order.number} does not hold: check the order in the store."
            )
        memo = memo_line(order, CreditMemoLineType.ITEM, line, line.name, sales_line, vatted)
        memo.quantity = line.quantity_refunded or Decimal("1")
        memo.restocked = line.restocked
        lines.append(memo)
    for line in refund.shipping_lines:
        sales_line = booked.get(line.refunded_item_id)
        kind = CreditMemoLineType.SHIPPING
        lines.append(memo_line(order, kind, line, line.method_title, sales_line, vatted))
    for line in refund.fee_lines:
        sales_line = booked.get(line.refunded_item_id)
        lines.append(memo_line(order, CreditMemoLineType.FEE, line, line.name, sales_line, vatted))
    return lines


def memo_line(order, kind, line, description: str, sales_line, vatted: bool) -> CreditMemoLine:
    amount = money(line.total, f"The refund of '{description}'")
    tax = money(line.total_tax, f"The tax refunded of '{description}'")
    parts = refunded_parts(order, line, description, sales_line, amount, tax) if vatted else []
    return CreditMemoLine(
        line_type=kind,
        item_id=sales_line.item_id if sales_line else None,
        account_id=sales_line.account_id if sales_line else None,
        description=(description or kind.value.capitalize())[:200],
        sku=(sales_line.sku if sales_line else "") or "",
        quantity=Decimal("1"),
        amount=amount,
        tax_amount=tax,
        woo_line_id=line.refunded_item_id,
        **vat_columns(parts),
    )


def refunded_parts(order, line, description, sales_line, net, tax) -> list[VatPart]:
    """The sales line's VAT codes, each with the tax the store refunded at its rate, on the
    refunded net; a code of no store rate (untaxed, reverse charge) with no VAT. Tax at a
    rate the sales line was not booked with refuses the refund, naming the rate."""
    refunded: dict[int, Decimal] = {}
    for rate in line.taxes:
        amount = money(rate.total, f"The tax refunded of '{description}'")
        refunded[rate.rate_id] = refunded.get(rate.rate_id, Decimal("0")) + amount
    booked = parts_from_json(sales_line.vat_parts) if sales_line else []
    carried = {part.rate_id for part in booked if part.rate_id is not None}
    for rate_id, amount in refunded.items():
        if amount and rate_id not in carried:
            raise CreditRefused(
                f"it refunds {text(order, amount)} of tax at the store's rate {rate_id} on "
                f"'{description}', a rate its line on sales order {order.number} was not "
                "booked with: check the order in the store, update the sales order from the "
                "store (its page, Update from the store) if it changed, then import the "
                "refund again."
            )
    parts = [
        VatPart(part.code, part.rate_id, part.rate, net, refunded.get(part.rate_id, Decimal(0)))
        for part in booked
    ]
    vat = sum((part.amount for part in parts), Decimal("0"))
    if vat != tax:
        raise CreditRefused(
            f"the tax refunded on '{description}' ({text(order, tax)}) is not what its rates "
            f"add up to ({text(order, vat)}): check the refund in the store."
        )
    return parts


def text(order: SalesOrder, amount: Decimal) -> str:
    return amount_text(amount, order.currency_decimals, order.currency)

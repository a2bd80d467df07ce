"""The money rules of a sales credit memo: a store refund, line by line, to its last unit.

Refunded order lines become item lines on the items their sales lines were booked on, with
the refunded quantity, amount and tax as the store computed them; refunded shipping and
fees become charge lines. What the refund's amount holds beyond its lines (a refund by
amount alone, or a part of one) is one amount line on the webstore's refund item, without
tax: the store computed none. The memo's total is the refund's amount, exactly; lines
worth more than the refund are refused, saying so. Amounts are the store's as it sent them
(``portal.sync.money``): nothing is rounded.
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
from portal.sync.failures import OrderFailure
from portal.sync.money import amount_text, kept_exactly
from portal.sync.numbers import next_number


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
    lines = refunded_lines(order, refund)
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
        from portal.setup.items import refund_item  # the setup package imports the runs

        item = webstore.refund_item or refund_item()
        lines.append(
            CreditMemoLine(
                line_type=CreditMemoLineType.AMOUNT,
                item=item,
                description=(refund.reason or "Refund")[:200],
                sku=item.sku or "",
                quantity=Decimal("1"),
                amount=rest,
                tax_amount=Decimal("0"),
            )
        )
    for position, line in enumerate(lines, start=1):
        line.line_no = position
    refunded_at = refund.date_created_gmt
    return SalesCreditMemo(
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


def refunded_lines(order: SalesOrder, refund) -> list[CreditMemoLine]:
    """The refund's lines on the items their order lines were booked on."""
    booked = {
        line.woo_line_id: line
        for line in db.session.scalars(
            sa.select(SalesLine).where(SalesLine.sales_order_id == order.id)
        )
        if line.woo_line_id is not None
    }
    lines = []
    for line in refund.line_items:
        sales_line = booked.get(line.refunded_item_id)
        if sales_line is None:
            raise CreditRefused(
                f"it refunds order line {line.refunded_item_id} ('{line.name}'), which sales "
                f"order {order.number} does not hold: check the order in the store."
            )
        lines.append(
            memo_line(CreditMemoLineType.ITEM, line, line.name, sales_line, line.quantity_refunded)
        )
        lines[-1].restocked = line.restocked
    for line in refund.shipping_lines:
        sales_line = booked.get(line.refunded_item_id)
        lines.append(memo_line(CreditMemoLineType.SHIPPING, line, line.method_title, sales_line))
    for line in refund.fee_lines:
        lines.append(memo_line(CreditMemoLineType.FEE, line, line.name, None))
    return lines


def memo_line(kind, line, description: str, sales_line, quantity=Decimal("1")) -> CreditMemoLine:
    return CreditMemoLine(
        line_type=kind,
        item_id=sales_line.item_id if sales_line else None,
        description=(description or kind.value.capitalize())[:200],
        sku=(sales_line.sku if sales_line else "") or "",
        quantity=quantity if quantity else Decimal("1"),
        amount=money(line.total, f"The refund of '{description}'"),
        tax_amount=money(line.total_tax, f"The tax refunded of '{description}'"),
        woo_line_id=line.refunded_item_id,
    )

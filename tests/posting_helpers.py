"""Sales orders and credit memos with VAT codes on their lines, written straight into the
database as an import (and a refunds run) leaves them, for the tests of posting, posted
documents and the VAT report."""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from itertools import count

from portal import db
from portal.models import (
    CreditMemoLine,
    CreditMemoLineType,
    Customer,
    Item,
    LineType,
    OrderLink,
    SalesCreditMemo,
    SalesLine,
    SalesOrder,
    VatCode,
)
from portal.sync.money import in_company_currency
from portal.sync.vat import VatPart, parts_to_json

_numbers = count(1)

# The VAT codes the tests book on: code -> rate.
RATES = {
    "DE19": Decimal("19"),
    "DE7": Decimal("7"),
    "NL21": Decimal("21"),
    "CA-GST": Decimal("5"),
    "CA-PST": Decimal("7"),
}


def vat_codes() -> dict[str, VatCode]:
    codes = {code: VatCode(code=code, rate=rate) for code, rate in RATES.items()}
    db.session.add_all(codes.values())
    db.session.commit()
    return codes


@dataclass(frozen=True)
class Line:
    """A line to book: its net amount and its VAT per code (none: a line without parts)."""

    amount: str
    vat: dict[str, str]
    line_type: LineType = LineType.ITEM
    description: str = "Mug"
    quantity: str = "1"

    @property
    def net(self) -> Decimal:
        return Decimal(self.amount)

    @property
    def tax(self) -> Decimal:
        return sum((Decimal(v) for v in self.vat.values()), Decimal(0))

    def parts(self, rate_ids: bool = True) -> list[VatPart]:
        return [
            VatPart(code, n if rate_ids else None, RATES[code], self.net, Decimal(vat))
            for n, (code, vat) in enumerate(self.vat.items(), start=1)
        ]


def customer(name: str = "Ada Lovelace") -> Customer:
    n = next(_numbers)
    found = Customer(number=f"C{n:05d}", name=name, email=f"customer{n}@example.com")
    db.session.add(found)
    return found


def item(number: str = "I00001", sku: str = "MUG-1") -> Item:
    found = Item(number=number, description="Mug", sku=sku)
    db.session.add(found)
    return found


def lcy(amount: Decimal, rate: Decimal | None, company: str | None) -> Decimal | None:
    return in_company_currency(amount, rate, company) if rate is not None and company else None


def booked_order(
    webstore,
    lines: list[Line],
    *,
    order_date: date = date(2026, 3, 10),
    currency: str = "EUR",
    exchange_rate: Decimal | None = None,
    company: str | None = None,
    buyer: Customer | None = None,
    line_item: Item | None = None,
    commit: bool = True,
    **fields,
) -> SalesOrder:
    """An open sales order of ``lines``, in ``currency`` at ``exchange_rate`` (of the
    ``company`` currency per unit), its amounts added up from the lines; committed, or
    flushed only where not ``commit``."""
    n = next(_numbers)
    amount = sum((line.net for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    order = SalesOrder(
        **{
            "number": f"SO{n:05d}",
            "webstore_id": webstore.id,
            "customer": buyer or customer(),
            "order_date": order_date,
            "ordered_at": datetime.combine(order_date, time(9, 30), UTC),
            "currency": currency,
            "external_document_no": str(1000 + n),
            "woo_order_id": 1000 + n,
            "sell_to_name": "Ada Lovelace",
            "amount": amount,
            "tax_amount": tax,
            "amount_including_tax": amount + tax,
            "exchange_rate": exchange_rate,
            "amount_lcy": lcy(amount, exchange_rate, company),
            "tax_amount_lcy": lcy(tax, exchange_rate, company),
            "amount_including_tax_lcy": lcy(amount + tax, exchange_rate, company),
            **fields,
        }
    )
    order.lines = [
        SalesLine(
            line_no=10000 * i,
            line_type=line.line_type,
            item=line_item if line.line_type == LineType.ITEM else None,
            description=line.description,
            sku=line_item.sku if line_item and line.line_type == LineType.ITEM else "",
            quantity=Decimal(line.quantity),
            unit_price=line.net / Decimal(line.quantity),
            amount=line.net,
            tax_amount=line.tax,
            vat_code=next(iter(line.vat), ""),
            vat_parts=parts_to_json(line.parts()) if line.vat else None,
        )
        for i, line in enumerate(lines, start=1)
    ]
    link = OrderLink(
        webstore_id=webstore.id,
        woo_order_id=order.woo_order_id,
        woo_order_number=order.external_document_no,
        sales_order=order,
    )
    db.session.add_all([order, link])
    save(commit)
    return order


def credit_memo(
    order: SalesOrder,
    lines: list[Line],
    *,
    memo_date: date = date(2026, 3, 20),
    company: str | None = None,
    commit: bool = True,
) -> SalesCreditMemo:
    """An open credit memo of ``order`` crediting ``lines`` (positive, as memos keep them),
    at its order's exchange rate."""
    n = next(_numbers)
    amount = sum((line.net for line in lines), Decimal(0))
    tax = sum((line.tax for line in lines), Decimal(0))
    rate = order.exchange_rate
    memo = SalesCreditMemo(
        number=f"CM{n:05d}",
        webstore_id=order.webstore_id,
        sales_order_id=order.id,
        woo_order_id=order.woo_order_id,
        woo_refund_id=5000 + n,
        memo_date=memo_date,
        refunded_at=datetime.combine(memo_date, time(12, 0), UTC),
        reason="Chipped",
        currency=order.currency,
        currency_decimals=order.currency_decimals,
        amount=amount,
        tax_amount=tax,
        amount_including_tax=amount + tax,
        exchange_rate=rate,
        amount_lcy=lcy(amount, rate, company),
        tax_amount_lcy=lcy(tax, rate, company),
        amount_including_tax_lcy=lcy(amount + tax, rate, company),
    )
    memo.lines = [
        CreditMemoLine(
            line_no=10000 * i,
            line_type=CreditMemoLineType.AMOUNT,
            description=line.description,
            quantity=Decimal(line.quantity),
            amount=line.net,
            tax_amount=line.tax,
            vat_code=next(iter(line.vat), ""),
            vat_parts=parts_to_json(line.parts()) if line.vat else None,
        )
        for i, line in enumerate(lines, start=1)
    ]
    db.session.add(memo)
    save(commit)
    return memo


def save(commit: bool) -> None:
    if commit:
        db.session.commit()
    else:
        db.session.flush()


def body_rows(html: str, start: str = "") -> list[list[str]]:
    """The text of each cell of each body row of the first table after ``start`` (an
    element's ``id``), row by row."""
    table = html[html.index(f'id="{start}"') :] if start else html
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]

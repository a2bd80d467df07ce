"""VAT as the books keep it: each line's VAT codes with base and amount, a document's summary
per code, and how a refund by amount is split over an order's VAT codes. Pure: no database.

The rules, in one place:
- A line carries one ``VatPart`` per VAT code: its code, the store's rate id (None for a code
  the connector chose: untaxed or reverse charge), the rate, the base (the line's net amount)
  and the VAT. A line taxed by two rates (compound) carries two parts, each with the line's
  net as its base. The parts' VAT adds up to the line's ``tax_amount``.
- A document's VAT summary adds the parts up per code. On an imported order it equals the
  store's ``tax_lines`` per code (``tax_total + shipping_tax_total`` of the rates mapped to it).
- A refund by amount is split over the order's VAT groups (the lines' combinations of codes:
  "DE19", or "CA-GST + CA-PST" for a compound line) in proportion to the order's amounts:
  every cell (a group's net, and its VAT per code) gets ``cell × refund / order total``,
  rounded down to the unit, and the units left over go to the cells with the largest
  remainders (first in order on ties; ``allocate``). The cells add up to the refund exactly;
  a refund of the whole total gives back every cell exactly, so a full refund reverses
  exactly the order's VAT. Refunds by amount of one order add up: each is split as the share
  of all of them so far less the share of those before it, so partial refunds that come to
  the whole total reverse exactly the order's VAT too, whatever their rounding.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal


@dataclass(frozen=True)
class VatPart:
    code: str
    rate_id: int | None
    rate: Decimal
    base: Decimal
    amount: Decimal

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "rate_id": self.rate_id,
            "rate": str(self.rate),
            "base": str(self.base),
            "amount": str(self.amount),
        }

    @classmethod
    def from_json(cls, data: dict) -> VatPart:
        return cls(
            code=data["code"],
            rate_id=data.get("rate_id"),
            rate=Decimal(data["rate"]),
            base=Decimal(data["base"]),
            amount=Decimal(data["amount"]),
        )


def parts_to_json(parts: Iterable[VatPart]) -> list[dict]:
    return [part.to_json() for part in parts]


def parts_from_json(data: list | None) -> list[VatPart]:
    return [VatPart.from_json(item) for item in data or ()]


@dataclass(frozen=True)
class SummaryRow:
    code: str
    rate: Decimal
    base: Decimal
    amount: Decimal


def summary(lines_parts: Iterable[Sequence[VatPart]]) -> list[SummaryRow]:
    """The VAT summary of a document from its lines' parts: per code, base and VAT added up,
    in code order."""
    rows: dict[str, SummaryRow] = {}
    for parts in lines_parts:
        for part in parts:
            row = rows.get(part.code)
            if row is None:
                rows[part.code] = SummaryRow(part.code, part.rate, part.base, part.amount)
            else:
                rows[part.code] = SummaryRow(
                    part.code, row.rate, row.base + part.base, row.amount + part.amount
                )
    return [rows[code] for code in sorted(rows)]


def allocate(cells: Sequence[Decimal], total: Decimal, wanted: Decimal, unit: Decimal):
    """``cells`` (adding up to ``total``) scaled to add up to ``wanted`` exactly, in ``unit``s:
    each rounded down, the units left over to the largest remainders (the earlier cell first
    on ties). Cells equal to ``total``'s share stay exact: ``wanted == total`` returns them."""
    if total == 0:
        raise ValueError("nothing to allocate over: the order's total is zero")
    exact = [cell * wanted / total for cell in cells]
    floors = [(share / unit).to_integral_value(ROUND_FLOOR) * unit for share in exact]
    left = int((wanted - sum(floors, Decimal(0))) / unit)
    by_remainder = sorted(range(len(cells)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:left]:
        floors[index] += unit
    return floors


@dataclass(frozen=True)
class RefundShare:
    """A refund's share of one VAT group of its order: the net, and the parts."""

    codes: tuple[str, ...]
    net: Decimal
    parts: tuple[VatPart, ...]

    @property
    def tax(self) -> Decimal:
        return sum((part.amount for part in self.parts), Decimal(0))


def split_refund(
    order_lines: Iterable[tuple[Decimal, Sequence[VatPart]]],
    refund: Decimal,
    unit: Decimal,
    earlier: Decimal = Decimal(0),
) -> list[RefundShare]:
    """Split a refund by amount over an order's VAT groups by the module's rule.

    ``order_lines`` are the order's lines as (net amount, VAT parts); lines without parts
    form the group without a code. ``earlier`` is what the order's refunds by amount before
    this one came to. Groups whose cells are all zero are left out."""
    groups: dict[tuple[str, ...], list] = {}
    for net, parts in order_lines:
        codes = tuple(part.code for part in parts)
        group = groups.setdefault(codes, [Decimal(0), {}])
        group[0] += net
        for part in parts:
            rate_id, rate, amount = group[1].get(part.code, (part.rate_id, part.rate, 0))
            group[1][part.code] = (rate_id, rate, amount + part.amount)
    cells = []
    for net, by_code in groups.values():
        cells.append(net)
        cells += [amount for _, _, amount in by_code.values()]
    total = sum(cells, Decimal(0))
    before = allocate(cells, total, earlier, unit) if earlier else [Decimal(0)] * len(cells)
    so_far = allocate(cells, total, earlier + refund, unit)
    shares = iter(now - then for now, then in zip(so_far, before, strict=True))
    result = []
    for codes, (_, by_code) in groups.items():
        net = next(shares)
        parts = tuple(
            VatPart(code, rate_id, rate, net, next(shares))
            for code, (rate_id, rate, _) in by_code.items()
        )
        if net or any(part.amount for part in parts):
            result.append(RefundShare(codes, net, parts))
    return result

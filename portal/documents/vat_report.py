"""The VAT report: per period and VAT code, what the posted documents booked, net (base)
and VAT: posted invoices minus posted credit memos, in the company's currency and in each
document currency.

It reads the VAT entries alone (``vat_entries``, indexed by VAT date and code): each is one
document's VAT for one code, signed as the books read it (memos negative), dated on the
document's own day, and kept in the company's currency beside. So the report adds them up
as they are, and agrees with the store's own tax report of the same days.
"""

from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.documents.forms import Period
from portal.models import VatDocumentType, VatEntry
from portal.models.base import Money
from portal.sync.money import minor_unit, plain_amount


@dataclass(frozen=True)
class ReportRow:
    vat_code: str
    vat_rate: Decimal
    currency: str
    decimals: int
    invoices_base: Decimal
    invoices_vat: Decimal
    # Negative, as the entries keep them.
    memos_base: Decimal
    memos_vat: Decimal

    @property
    def base(self) -> Decimal:
        return self.invoices_base + self.memos_base

    @property
    def vat(self) -> Decimal:
        return self.invoices_vat + self.memos_vat


@dataclass
class VatReport:
    period: Period
    webstore_id: int | None
    # None where no company currency is set: the amounts are then not converted, and only
    # the per-currency rows add up meaningfully.
    company_currency: str | None
    company_rows: list[ReportRow] = field(default_factory=list)
    currency_rows: list[ReportRow] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.currency_rows

    @property
    def currencies(self) -> dict[str, list[ReportRow]]:
        by_currency: dict[str, list[ReportRow]] = {}
        for row in self.currency_rows:
            by_currency.setdefault(row.currency, []).append(row)
        return by_currency


def vat_report(period: Period, webstore_id: int | None, company_currency: str | None):
    where = [VatEntry.vat_date >= period.date_from, VatEntry.vat_date <= period.date_to]
    if webstore_id:
        where.append(VatEntry.webstore_id == webstore_id)
    report = VatReport(period, webstore_id, company_currency)
    if company_currency:
        in_company = (
            sa.func.coalesce(VatEntry.base_lcy, VatEntry.base),
            sa.func.coalesce(VatEntry.amount_lcy, VatEntry.amount),
        )
        decimals = minor_unit(company_currency)
        report.company_rows = [
            ReportRow(code, rate, company_currency, decimals, *totals)
            for code, rate, *totals in summed(where, (), *in_company)
        ]
    by_currency = (VatEntry.currency, sa.func.max(VatEntry.currency_decimals))
    report.currency_rows = [
        ReportRow(code, rate, currency, decimals, *totals)
        for currency, decimals, code, rate, *totals in summed(
            where, by_currency, VatEntry.base, VatEntry.amount
        )
    ]
    return report


def summed(where: list, by: tuple, base, vat) -> list[sa.Row]:
    """Per ``by`` (a currency, grouped by its first column), VAT code and rate: the
    invoices' base and VAT, and the memos'."""
    of_invoices = VatEntry.document_type == VatDocumentType.INVOICE.value

    def total(column, invoices: bool):
        taken = sa.case((of_invoices if invoices else sa.not_(of_invoices), column), else_=0)
        return sa.type_coerce(sa.func.coalesce(sa.func.sum(taken), 0), Money)

    groups = (*by[:1], VatEntry.vat_code, VatEntry.vat_rate)
    return db.session.execute(
        sa.select(
            *by,
            VatEntry.vat_code,
            VatEntry.vat_rate,
            total(base, True),
            total(vat, True),
            total(base, False),
            total(vat, False),
        )
        .where(*where)
        .group_by(*groups)
        .order_by(*groups)
    ).all()


CSV_COLUMNS = [
    "date_from",
    "date_to",
    "in",
    "currency",
    "vat_code",
    "vat_rate",
    "invoices_base",
    "invoices_vat",
    "credit_memos_base",
    "credit_memos_vat",
    "base",
    "vat",
]


def csv_rows(report: VatReport):
    """The report as the CSV has it: the company currency's rows, then each currency's;
    ``in`` says which."""
    sections = [
        ("company currency", report.company_rows),
        ("document currency", report.currency_rows),
    ]
    for section, section_rows in sections:
        for row in section_rows:
            amounts = (
                row.invoices_base,
                row.invoices_vat,
                row.memos_base,
                row.memos_vat,
                row.base,
                row.vat,
            )
            yield [
                report.period.date_from.isoformat(),
                report.period.date_to.isoformat(),
                section,
                row.currency,
                row.vat_code,
                f"{row.vat_rate.normalize():f}",
                *(plain_amount(amount, row.decimals) for amount in amounts),
            ]

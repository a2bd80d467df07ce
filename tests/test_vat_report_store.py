"""The VAT report of a whole store: 600 generated orders imported, their refunds credited,
everything posted, and the report equal, to the cent, to what the store says.

The store (the sandbox, over HTTP) has four tax rates in use and seven listed, shipping tax,
untaxed products beside taxed ones, fees, coupons, prices with and without tax, orders in
USD and EUR, cancelled orders, and refunds of every kind: full and partial, of lines (with
shipping, restocked or not) and by amount. The expected figures are worked out here from the
store's own answers, read again after the import: per VAT code (each store rate mapped to
one), the posted orders' tax lines and line nets, minus their refunds' line taxes and nets,
and what a refund holds beyond its lines split over the order's VAT groups by the rule of
``portal/sync/vat.py`` (``vat.allocate``), never from what the connector booked.
"""

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_login import login_user
from redis import Redis
from sqlalchemy.orm.attributes import set_committed_value

from app import create_app
from config import TestConfig
from portal import db
from portal.auth.sessions import start_session
from portal.credit_memos.routes import post_memo
from portal.documents.forms import Period
from portal.documents.vat_report import vat_report
from portal.models import (
    CurrencyExchangeRate,
    PostedCreditMemo,
    PostedSalesInvoice,
    Role,
    RunKind,
    SalesCreditMemo,
    SalesOrder,
    SalesOrderStatus,
    Trigger,
    VatCode,
    VatEntry,
    WebstoreTaxMapping,
)
from portal.orders import actions
from portal.setup.demo import seed_demo_webstore
from portal.sync import vat
from portal.sync.filters import ImportFilters
from portal.sync.money import in_company_currency, unit_of
from portal.sync.runs import create_run, execute_run
from portal.sync.states import CANCELLED_IN_STORE
from portal.woo.client import WooClient
from tests.conftest import empty_database, make_user

ORDERS = 600
# The kit's rates listed (seven, of which the orders use four), orders in EUR besides USD,
# prices with tax, untaxed products; tax rounded per line, so that refunds of every kind are
# drawn (a store rounding at subtotal refunds its orders in full by amount only). A fixed
# end, so that a failure can be replayed.
STORE_ARGS = ["--real-shapes", "--tax-rates", "kit", "--until", "2026-11-30T00:00:00Z"]
COMPANY = "USD"
# USD per EUR: one rate from before the first order, another from halfway through the year.
EUR_RATES = {date(2025, 1, 1): Decimal("1.0850"), date(2026, 6, 1): Decimal("1.1675")}
# The code of lines the store did not tax, as the demo webstore sets it.
UNTAXED = "NOVAT"


def eur_rate_on(day: date) -> Decimal:
    return EUR_RATES[max(start for start in EUR_RATES if start <= day)]


@dataclass
class Books:
    """The store as read after everything was posted, and what the connector did."""

    orders: dict  # store order id -> WooOrder
    refunds: dict  # store order id -> [WooRefundDetail]
    codes: dict  # store rate id -> VAT code
    rates: dict  # VAT code -> rate
    imported: tuple  # the orders run's (fetched, imported, failed)
    credited: tuple  # the refunds run's (imported, failed)
    refused: set  # store order ids whose sales order posting refused
    user: object
    listed_rates: set  # the rate ids of the store's GET /taxes

    @property
    def posted(self) -> list:
        return [order for order in self.orders.values() if order.id not in self.refused]

    @property
    def period(self) -> Period:
        days = [order.order_date for order in self.orders.values()]
        days += [refund.refund_date for refunds in self.refunds.values() for refund in refunds]
        return Period(min(days), max(days))


@pytest.fixture(scope="module")
def generated_store():
    from sandbox.process import SandboxProcess

    with SandboxProcess(seed=1, orders=ORDERS, extra_args=STORE_ARGS) as store:
        yield store


@pytest.fixture(scope="module")
def books_app(database_url):
    """The portal, its company currency USD, for this module alone (its own app context:
    one import serves every test here)."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, COMPANY_CURRENCY=COMPANY)
    with app.app_context():
        empty_database()
        Redis.from_url(app.config["REDIS_URL"]).flushdb()
        yield app
        db.session.remove()
        empty_database()
        db.engine.dispose()


@pytest.fixture(scope="module")
def books(books_app, generated_store):
    """Every order imported and every refund credited; every sales order posted that may
    be, and every credit memo of a posted order; then the store read again."""
    store = generated_store
    with WooClient(store.base_url, store.consumer_key, store.consumer_secret) as client:
        webstore = set_up_webstore(store, client)
        run = execute_run(create_run(webstore, ImportFilters(), Trigger.MANUAL).id)
        imported = (run.fetched, run.imported, run.failed)
        webstore.refunds_start_date = db.session.scalar(
            sa.select(sa.func.min(SalesOrder.order_date))
        )
        db.session.commit()
        kind = RunKind.REFUNDS
        run = execute_run(create_run(webstore, ImportFilters(), Trigger.MANUAL, kind=kind).id)
        credited = (run.imported, run.failed)
        user = make_user(Role.STAFF, "report-poster")
        refused = post_every_order(user)
        post_every_memo(books_app, user)
        listed_rates = {rate.id for rate in client.tax_rates()}
        orders = {order.id: order for order in client.iter_orders()}
        refunds = {o.id: client.list_refunds(o.id) for o in orders.values() if o.refunds}
    codes = dict(
        db.session.execute(
            sa.select(WebstoreTaxMapping.rate_id, VatCode.code).join(WebstoreTaxMapping.vat_code)
        ).all()
    )
    rates = dict(db.session.execute(sa.select(VatCode.code, VatCode.rate)).all())
    return Books(orders, refunds, codes, rates, imported, credited, refused, user, listed_rates)


def set_up_webstore(store, client):
    """The demo webstore on the store: every gateway and shipping method mapped, mappings
    required, and each of the store's tax rates (``GET /taxes``) on a VAT code; rates of
    the day for EUR."""
    webstore = seed_demo_webstore(store.base_url, store.consumer_key, store.consumer_secret)
    webstore.default_status_filter = ""  # every status
    webstore.require_mappings = True
    mapped = set(
        db.session.scalars(
            sa.select(WebstoreTaxMapping.rate_id).where(
                WebstoreTaxMapping.webstore_id == webstore.id
            )
        )
    )
    for rate in client.tax_rates():
        if rate.id not in mapped:
            code = VatCode(
                code=f"{rate.country}{rate.rate.normalize():f}-{rate.id}", rate=rate.rate
            )
            mapping = WebstoreTaxMapping(webstore_id=webstore.id, rate_id=rate.id, title=rate.name)
            mapping.vat_code = code
            db.session.add_all([code, mapping])
    for starting_date, rate in EUR_RATES.items():
        db.session.add(CurrencyExchangeRate(currency="EUR", starting_date=starting_date, rate=rate))
    db.session.commit()
    return webstore


def post_every_order(user) -> set[int]:
    """Post every sales order as a person does (Post on its page); the store order ids of
    those refused."""
    refused = set()
    post = actions.ACTIONS["post"]
    # One order at a time, as people post them: a session holding every order loaded
    # would expire them all at each commit.
    for order_id in db.session.scalars(sa.select(SalesOrder.id).order_by(SalesOrder.id)).all():
        order = db.session.get(SalesOrder, order_id)
        try:
            actions.perform(order, post, user=user)
        except actions.ActionRefused:
            refused.add(order.woo_order_id)
    return refused


def post_every_memo(app, user) -> None:
    """Post every credit memo of a posted sales order, as its Post button does."""
    with signed_in(app, user):
        for memo in posted_orders_memos():
            assert post_memo(memo) is not None, memo.number


@contextmanager
def signed_in(app, user):
    """A request of ``user``, signed in as the sign-in page signs in."""
    with app.test_request_context():
        start_session(user)
        login_user(user)
        yield


def posted_orders_memos() -> list[SalesCreditMemo]:
    return list(
        db.session.scalars(
            sa.select(SalesCreditMemo)
            .join(SalesOrder, SalesOrder.id == SalesCreditMemo.sales_order_id)
            .where(SalesOrder.status == SalesOrderStatus.POSTED)
            .order_by(SalesCreditMemo.id)
        )
    )


# What the store says, per VAT code


class Figures:
    """Net (base) and VAT per (currency, VAT code): the invoices' and the memos'."""

    def __init__(self):
        self.cells = defaultdict(lambda: [Decimal(0)] * 4)

    def invoice(self, currency: str, code: str, base: Decimal, amount: Decimal):
        cell = self.cells[currency, code]
        cell[0] += base
        cell[1] += amount

    def memo(self, currency: str, code: str, base: Decimal, amount: Decimal):
        cell = self.cells[currency, code]
        cell[2] -= base
        cell[3] -= amount

    def rows(self) -> dict:
        """Codes with anything booked: a code a period left at zero reads as no row."""
        return {key: tuple(cell) for key, cell in self.cells.items() if any(cell)}


def line_rates(line) -> dict[int, Decimal]:
    """A store line's tax per rate id: a rate listed at zero beside a taxed one did not tax
    it; a line the store did not tax has none."""
    taxes = [tax for tax in line.taxes if tax.total] or list(line.taxes)
    found: dict[int, Decimal] = {}
    for tax in taxes:
        found[tax.rate_id] = found.get(tax.rate_id, Decimal(0)) + tax.total
    return found


def lines_tax_by_rate(order) -> dict[int, Decimal]:
    """The tax of an order's lines per rate, where there is any."""
    found: dict[int, Decimal] = defaultdict(Decimal)
    for line in order_lines(order):
        for rate_id, amount in line_rates(line).items():
            found[rate_id] += amount
    return {rate_id: amount for rate_id, amount in found.items() if amount}


def tax_lines_by_rate(order) -> dict[int, Decimal]:
    """An order's VAT per rate, as its tax lines say, where there is any."""
    found = {t.rate_id: t.tax_total + t.shipping_tax_total for t in order.tax_lines}
    return {rate_id: amount for rate_id, amount in found.items() if amount}


def order_lines(order) -> list:
    """The order's lines in the order a sales order keeps them: items, shipping, fees."""
    return [*order.line_items, *order.shipping_lines, *order.fee_lines]


def line_vat(line, codes: dict) -> dict[str, Decimal]:
    """A store line's VAT per code; a line the store did not tax is on the untaxed code."""
    rates = line_rates(line)
    if not rates:
        return {UNTAXED: Decimal(0)}
    vat_by_code: dict[str, Decimal] = {}
    for rate_id, amount in rates.items():
        vat_by_code[codes[rate_id]] = vat_by_code.get(codes[rate_id], Decimal(0)) + amount
    return vat_by_code


def invoiced(order, codes: dict) -> dict[str, tuple[Decimal, Decimal]]:
    """An order's base and VAT per code: its lines' nets, and its tax lines (the truth)."""
    booked = {}
    for line in order_lines(order):
        for code in line_vat(line, codes):
            base, amount = booked.get(code, (Decimal(0), Decimal(0)))
            booked[code] = (base + line.total, amount)
    for tax_line in order.tax_lines:
        code = codes[tax_line.rate_id]
        base, amount = booked.get(code, (Decimal(0), Decimal(0)))
        booked[code] = (base, amount + tax_line.tax_total + tax_line.shipping_tax_total)
    return booked


def refunded(order, refund, codes: dict) -> dict[str, tuple[Decimal, Decimal]]:
    """A refund's base and VAT per code: each refunded line on the codes of the order line
    it refunds, with the tax the store refunded at each rate; what the refund holds beyond
    its lines split over the order's VAT groups by the documented rule."""
    by_id = {line.id: line for line in order_lines(order)}
    booked: dict[str, tuple[Decimal, Decimal]] = {}

    def add(code, base, amount):
        was = booked.get(code, (Decimal(0), Decimal(0)))
        booked[code] = (was[0] + base, was[1] + amount)

    lines = [*refund.line_items, *refund.shipping_lines, *refund.fee_lines]
    for line in lines:
        taxed = line_rates(by_id[line.refunded_item_id])
        back = {tax.rate_id: tax.total for tax in line.taxes}
        for rate_id in taxed or (None,):
            code = codes[rate_id] if rate_id is not None else UNTAXED
            add(code, line.total, back.get(rate_id, Decimal(0)))
    beyond = refund.amount - sum((line.total + line.total_tax for line in lines), Decimal(0))
    if beyond:
        for code, base, amount in split_by_groups(order, beyond, codes):
            add(code, base, amount)
    return booked


def split_by_groups(order, beyond: Decimal, codes: dict):
    """``beyond`` (what a refund holds beyond its lines) split over the order's VAT groups
    (its lines' combinations of codes, in the order they first occur): each group's net,
    and its VAT per code as the tax lines say, as cells, in proportion, to the cent
    (``vat.allocate``). Yields (code, base, VAT) per group and code."""
    nets: dict[tuple, Decimal] = {}
    rates_of: dict[tuple, set] = {}
    for line in order_lines(order):
        group = tuple(line_vat(line, codes))
        nets[group] = nets.get(group, Decimal(0)) + line.total
        rates_of.setdefault(group, set()).update(line_rates(line))
    tax_lines = tax_lines_by_rate(order)
    carried = [rate_id for rates in rates_of.values() for rate_id in rates]
    assert len(carried) == len(set(carried)), f"order {order.id}: a rate in two VAT groups"
    cells = []
    for group, net in nets.items():
        cells.append(net)
        for code in group:
            at_code = [tax_lines.get(r, Decimal(0)) for r in rates_of[group] if codes[r] == code]
            cells.append(sum(at_code, Decimal(0)))
    shares = iter(vat.allocate(cells, sum(cells, Decimal(0)), beyond, unit_of(2)))
    for group in nets:
        net = next(shares)
        for code in group:
            yield code, net, next(shares)


def store_figures(books: Books, in_company: bool = False) -> Figures:
    """What the store says, per currency (or in the company's, each document at its order's
    rate, as the books convert it)."""
    figures = Figures()
    for order in books.posted:
        rate = eur_rate_on(order.order_date) if order.currency == "EUR" else None
        currency = COMPANY if in_company else order.currency

        def convert(amount, rate=rate):
            if in_company and rate is not None:
                return in_company_currency(amount, rate, COMPANY)
            return amount

        for code, (base, amount) in invoiced(order, books.codes).items():
            figures.invoice(currency, code, convert(base), convert(amount))
        for refund in books.refunds.get(order.id, []):
            for code, (base, amount) in refunded(order, refund, books.codes).items():
                figures.memo(currency, code, convert(base), convert(amount))
    return figures


def report_rows(rows) -> dict:
    return {
        (row.currency, row.vat_code): (
            row.invoices_base,
            row.invoices_vat,
            row.memos_base,
            row.memos_vat,
        )
        for row in rows
        if any((row.invoices_base, row.invoices_vat, row.memos_base, row.memos_vat))
    }


def differences(ours: dict, stores: dict) -> list[str]:
    return [
        f"{key}: report {ours.get(key)} != store {stores.get(key)}"
        for key in sorted(ours.keys() | stores.keys())
        if ours.get(key) != stores.get(key)
    ]


# The tests


def test_every_order_is_imported_and_every_refund_credited(books):
    refunds = sum(len(found) for found in books.refunds.values())

    assert books.imported == (ORDERS, ORDERS, 0)
    assert books.credited == (refunds, 0)
    assert len({refund.id for found in books.refunds.values() for refund in found}) == refunds


def test_the_store_has_every_shape_the_report_must_add_up(books):
    orders = books.orders.values()
    refunds = [(books.orders[i], r) for i, found in books.refunds.items() for r in found]
    used = {tax.rate_id for order in orders for tax in order.tax_lines}
    kinds = {
        ("lines" if refund.has_lines else "amount", order.status == "refunded")
        for order, refund in refunds
        if order.id not in books.refused
    }

    assert set(books.codes) == books.listed_rates and len(books.listed_rates) == 7
    assert used == {1, 2, 3, 4}
    assert {order.currency for order in orders} == {"USD", "EUR"}
    assert any(tax.shipping_tax_total for order in orders for tax in order.tax_lines)
    assert any(o.tax_lines and not line_rates(line) for o in orders for line in o.line_items)
    assert kinds == {("lines", True), ("lines", False), ("amount", True), ("amount", False)}
    assert any(refund.shipping_lines for _, refund in refunds)
    # Orders whose lines' taxes miss their tax lines by a cent: the tax lines are the VAT.
    assert any(lines_tax_by_rate(order) != tax_lines_by_rate(order) for order in orders)


def test_posting_refuses_the_orders_cancelled_in_the_store_alone(books):
    cancelled = {o.id for o in books.orders.values() if o.status in CANCELLED_IN_STORE}

    assert cancelled and books.refused == cancelled


def test_each_posted_order_has_one_posted_invoice_and_each_memo_one_posted_memo(books):
    posted = db.session.scalar(
        sa.select(sa.func.count()).where(SalesOrder.status == SalesOrderStatus.POSTED)
    )
    invoices = db.session.scalar(sa.select(sa.func.count(PostedSalesInvoice.id)))
    invoiced_orders = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(PostedSalesInvoice.sales_order_id)))
    )
    memos_of_posted = sum(len(books.refunds.get(o.id, [])) for o in books.posted)

    assert posted == invoices == invoiced_orders == len(books.posted)
    assert db.session.scalar(sa.select(sa.func.count(PostedCreditMemo.id))) == memos_of_posted
    assert len(posted_orders_memos()) == memos_of_posted


def test_the_vat_report_per_currency_is_the_stores_tax_lines_minus_refunds(books):
    report = vat_report(books.period, None, COMPANY)
    ours = report_rows(report.currency_rows)
    stores = store_figures(books).rows()

    assert not differences(ours, stores), "\n".join(differences(ours, stores))
    assert all(row.vat_rate == books.rates[row.vat_code] for row in report.currency_rows)


def test_the_vat_report_in_the_company_currency_converts_each_document_at_its_rate(books):
    report = vat_report(books.period, None, COMPANY)
    ours = report_rows(report.company_rows)
    stores = store_figures(books, in_company=True).rows()

    assert not differences(ours, stores), "\n".join(differences(ours, stores))


def test_posting_twice_makes_no_new_document(books, books_app):
    """A second click on Post, from a page read before the first: the order as that page
    read it (open), the memo as its page did."""
    before = posted_documents()
    post = actions.ACTIONS["post"]
    ids = db.session.scalars(
        sa.select(SalesOrder.id).where(SalesOrder.status == SalesOrderStatus.POSTED)
    ).all()
    for order_id in ids:
        order = db.session.get(SalesOrder, order_id)
        set_committed_value(order, "status", SalesOrderStatus.OPEN)
        with pytest.raises(actions.ActionRefused, match="is posted already"):
            actions.perform(order, post, user=books.user)
    memos = posted_orders_memos()
    with signed_in(books_app, books.user):
        for memo in memos:
            assert post_memo(memo) is None, memo.number

    assert posted_documents() == before
    assert (len(ids), len(memos)) == (len(books.posted), before[1])


def posted_documents() -> tuple[int, int, int]:
    return tuple(
        db.session.scalar(sa.select(sa.func.count()).select_from(model))
        for model in (PostedSalesInvoice, PostedCreditMemo, VatEntry)
    )

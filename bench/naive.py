"""The naive importer the benchmark compares against: what one would write first.

Full pages one after another; per order one query per lookup (link, customer mapping,
customer by email, item by SKU, item mapping, a number from its series) and a commit, in
plain ORM code. It follows the same rules as the engine (``portal.sync``), so that both end
with the same records; it is not used by the application. Its session keeps what it loaded
across commits (``expire_on_commit=False``), so that the webstore and the run are not read
again for every order: the queries it makes are its lookups.
"""

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from portal import db
from portal.models import (
    Customer,
    CustomerHandling,
    CustomerMapping,
    Item,
    ItemMapping,
    LineType,
    NumberSeries,
    OrderLink,
    Outcome,
    RunStatus,
    SalesLine,
    SalesOrder,
    SalesOrderCoupon,
    SalesOrderRefund,
    SyncLogEntry,
    SyncRun,
    Trigger,
    Webstore,
)
from portal.models.base import utcnow
from portal.sync.customers import normalize_email
from portal.sync.failures import OrderFailure
from portal.sync.items import clean_sku
from portal.woo.client import WooClient
from portal.woo.errors import WooNotFound

CUSTOMER_FIELDS = ("phone", "company", "city", "country")


def naive_import(webstore_id: int, client: WooClient) -> SyncRun:
    """Import every order of the store, one page after another, one order at a time."""
    session = Session(db.engine, expire_on_commit=False)
    webstore = session.get(Webstore, webstore_id)
    run = SyncRun(
        webstore=webstore,
        trigger=Trigger.MANUAL,
        filters={},
        status=RunStatus.RUNNING,
        started_at=utcnow(),
    )
    session.add(run)
    session.commit()
    for page in client.iter_order_pages():
        for error in page.invalid:
            order_id = int(error.order_id) if str(error.order_id).isdigit() else 0
            log(session, run, order_id, str(error.order_id), Outcome.FAILED, str(error))
            session.commit()
        for order in page.orders:
            run.fetched += 1
            import_order(session, webstore, client, run, order)
    run.status = RunStatus.PARTIAL if run.failed else RunStatus.SUCCEEDED
    run.finished_at = utcnow()
    session.commit()
    session.close()
    return run


def import_order(session, webstore: Webstore, client: WooClient, run: SyncRun, order) -> None:
    link = session.scalar(
        sa.select(OrderLink).where(
            OrderLink.webstore_id == webstore.id, OrderLink.woo_order_id == order.id
        )
    )
    if link is not None:
        log(session, run, order.id, order.number, Outcome.SKIPPED, "already imported")
        session.commit()
        return
    try:
        customer = find_customer(session, webstore, order)
        sales_order = SalesOrder(
            number=next_number(session, "SO"),
            webstore_id=webstore.id,
            customer=customer,
            order_date=order.date_created.date(),
            ordered_at=order.date_created,
            currency=order.currency[:3],
            external_document_no=order.number[:35],
            woo_order_id=order.id,
            woo_status=order.status[:20],
            woo_modified_at=order.date_modified,
            sell_to_name=(order.billing.full_name or order.billing.company)[:200],
            sell_to_email=order.billing.email.strip()[:254],
            sell_to_phone=order.billing.phone[:50],
            sell_to_company=order.billing.company[:200],
            sell_to_address=order.billing.address_1[:200],
            sell_to_address_2=order.billing.address_2[:200],
            sell_to_city=order.billing.city[:100],
            sell_to_county=order.billing.state[:100],
            sell_to_post_code=order.billing.postcode[:20],
            sell_to_country=order.billing.country[:2],
            ship_to_name=(order.shipping.full_name or order.shipping.company)[:200],
            ship_to_company=order.shipping.company[:200],
            ship_to_address=order.shipping.address_1[:200],
            ship_to_address_2=order.shipping.address_2[:200],
            ship_to_city=order.shipping.city[:100],
            ship_to_county=order.shipping.state[:100],
            ship_to_post_code=order.shipping.postcode[:20],
            ship_to_country=order.shipping.country[:2],
            ship_to_phone=order.shipping.phone[:50],
            payment_method=order.payment_method[:100],
            payment_method_title=order.payment_method_title[:200],
            customer_note=order.customer_note,
            prices_include_tax=order.prices_include_tax,
            amount_including_tax=order.total,
            discount_amount=order.discount_total,
            refunded_amount=order.refunded_total,
            sync_run_id=run.id,
        )
        lines = []
        for line in order.line_items:
            if line.quantity <= 0:
                raise OrderFailure(f"Line '{line.name}' has quantity {line.quantity}.")
            lines.append(
                SalesLine(
                    line_type=LineType.ITEM,
                    item=find_item(session, webstore, client, line),
                    description=line.name[:200],
                    sku=(line.sku or "")[:100],
                    quantity=Decimal(line.quantity),
                    unit_price=(line.subtotal / line.quantity).quantize(Decimal("0.01")),
                    line_discount=line.subtotal - line.total,
                    amount=line.total,
                    tax_amount=line.total_tax,
                    woo_line_id=line.id,
                )
            )
        for shipping in order.shipping_lines:
            item = webstore.shipping_charge_item
            if item is None:
                raise OrderFailure("The webstore has no shipping charge item.")
            lines.append(
                SalesLine(
                    line_type=LineType.SHIPPING,
                    item=item,
                    description=(shipping.method_title or "Shipping")[:200],
                    sku=item.sku or "",
                    quantity=Decimal(1),
                    unit_price=shipping.total,
                    amount=shipping.total,
                    tax_amount=shipping.total_tax,
                    woo_line_id=shipping.id,
                )
            )
        for fee in order.fee_lines:
            lines.append(
                SalesLine(
                    line_type=LineType.FEE,
                    description=(fee.name or "Fee")[:200],
                    sku="",
                    quantity=Decimal(1),
                    unit_price=fee.total,
                    amount=fee.total,
                    tax_amount=fee.total_tax,
                    woo_line_id=fee.id,
                )
            )
        if sum((x.amount + x.tax_amount for x in lines), Decimal(0)) != order.total:
            raise OrderFailure("The order total does not match its lines.")
        for line_no, line in enumerate(lines, start=1):
            line.line_no = line_no * 10000
        sales_order.lines = lines
        sales_order.amount = sum((x.amount for x in lines), Decimal(0))
        sales_order.tax_amount = sum((x.tax_amount for x in lines), Decimal(0))
        sales_order.coupons = [
            SalesOrderCoupon(code=c.code[:100], discount=c.discount, discount_tax=c.discount_tax)
            for c in order.coupon_lines
        ]
        sales_order.refunds = [
            SalesOrderRefund(woo_refund_id=r.id, reason=r.reason or "", amount=-r.total)
            for r in order.refunds
        ]
        session.add(sales_order)
        session.add(
            OrderLink(
                webstore_id=webstore.id,
                woo_order_id=order.id,
                woo_order_number=order.number[:40],
                sales_order=sales_order,
                woo_modified_at=order.date_modified,
            )
        )
        message = f"Imported as {sales_order.number}"
        log(session, run, order.id, order.number, Outcome.IMPORTED, message)
        session.commit()
    except OrderFailure as failure:
        session.rollback()
        log(session, run, order.id, order.number, Outcome.FAILED, str(failure))
        session.commit()


def find_customer(session, webstore: Webstore, order) -> Customer:
    email = normalize_email(order.billing.email)
    if not order.is_guest:
        mapping = session.scalar(
            sa.select(CustomerMapping).where(
                CustomerMapping.webstore_id == webstore.id,
                CustomerMapping.woo_customer_id == order.customer_id,
            )
        )
        if mapping is not None:
            return mapping.customer
    elif webstore.customer_handling == CustomerHandling.DEFAULT_GUEST or email is None:
        if webstore.guest_customer is None:
            raise OrderFailure("Guest order and no default guest customer.")
        return webstore.guest_customer
    customer = None
    if email:
        customer = session.scalar(sa.select(Customer).where(Customer.email == email))
    if customer is None:
        if not webstore.auto_create_customers:
            raise OrderFailure("No customer and 'Create missing customers' is off.")
        billing = order.billing
        template = webstore.customer_template_for(billing.country or "")
        customer = Customer(
            number=next_number(session, "CUST"),
            name=(billing.full_name or billing.company or email or f"Order {order.number}")[:200],
            email=email,
            phone=billing.phone[:50],
            company=billing.company[:200],
            address=billing.address_1[:200],
            address_2=billing.address_2[:200],
            city=billing.city[:100],
            county=billing.state[:100],
            post_code=billing.postcode[:20],
            country=billing.country[:2],
            template_code=template.code if template else "",
            payment_terms=template.payment_terms if template else "",
            customer_posting_group=template.customer_posting_group if template else "",
            tax_area=template.tax_area if template else "",
            currency=(template.currency if template else "") or "",
            created_by_sync=True,
        )
        session.add(customer)
    if not order.is_guest:
        session.add(
            CustomerMapping(
                webstore_id=webstore.id, woo_customer_id=order.customer_id, customer=customer
            )
        )
    session.flush()
    return customer


def find_item(session, webstore: Webstore, client: WooClient, line) -> Item:
    sku = clean_sku(line.sku)
    item = None
    if sku:
        item = session.scalar(sa.select(Item).where(Item.sku == sku))
    mapping = session.scalar(
        sa.select(ItemMapping).where(
            ItemMapping.webstore_id == webstore.id,
            ItemMapping.woo_product_id == line.product_id,
            ItemMapping.woo_variation_id == line.variation_id,
        )
    )
    if item is None and mapping is not None:
        return mapping.item
    if item is None and line.variation_id:
        try:
            parent_sku = clean_sku(client.get_product(line.product_id).get("sku"))
        except WooNotFound:
            parent_sku = None
        if parent_sku:
            item = session.scalar(sa.select(Item).where(Item.sku == parent_sku))
    if item is None:
        if not webstore.auto_create_items:
            raise OrderFailure(f"SKU {sku} has no item and 'Create missing items' is off.")
        template = webstore.default_item_template
        item = Item(
            number=next_number(session, "ITEM"),
            description=line.name[:200] or f"Product {line.product_id}",
            sku=sku,
            unit_price=line.price,
            item_type=template.item_type if template else "inventory",
            base_unit_of_measure=template.base_unit_of_measure if template else "PCS",
            item_category=template.item_category if template else "",
            tax_group=template.tax_group if template else "",
            template_code=template.code if template else "",
            created_by_sync=True,
        )
        session.add(item)
    if mapping is None and line.product_id:
        session.add(
            ItemMapping(
                webstore_id=webstore.id,
                woo_product_id=line.product_id,
                woo_variation_id=line.variation_id,
                item=item,
            )
        )
    session.flush()
    return item


def log(session, run: SyncRun, order_id: int, number: str, outcome: Outcome, message: str) -> None:
    session.add(
        SyncLogEntry(
            run_id=run.id,
            webstore_id=run.webstore_id,
            woo_order_id=order_id,
            woo_order_number=number[:40],
            outcome=outcome,
            message=message,
        )
    )
    setattr(run, str(outcome), getattr(run, str(outcome)) + 1)


def next_number(session, code: str) -> str:
    last_no, prefix, digits = session.execute(
        sa.update(NumberSeries)
        .where(NumberSeries.code == code)
        .values(last_no=NumberSeries.last_no + 1)
        .returning(NumberSeries.last_no, NumberSeries.prefix, NumberSeries.digits)
    ).one()
    return f"{prefix}{last_no:0{digits}d}"

"""Reading credit memos for the pages: the list (searched, filtered, keyset-paged) and one."""

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from portal import db
from portal.models import CreditMemoLine, CreditMemoStatus, Customer, SalesCreditMemo, SalesOrder
from portal.paging import Page, contains, contains_text, keyset_page

PER_PAGE = 50


def conditions(term: str = "", status: str = "") -> list:
    """Memo no., order no. (the store's or the sales order's), or customer name; a status."""
    found = []
    if term:
        orders = sa.select(SalesOrder.id).where(
            sa.or_(
                contains(SalesOrder.number, term),
                contains(SalesOrder.external_document_no, term),
                contains_text(SalesOrder.sell_to_name, term),
            )
        )
        found.append(
            sa.or_(
                contains(SalesCreditMemo.number, term), SalesCreditMemo.sales_order_id.in_(orders)
            )
        )
    if status in set(CreditMemoStatus):
        found.append(SalesCreditMemo.status == status)
    return found


def list_memos(term="", status="", *, after=None, before=None, page=1, per_page=PER_PAGE) -> Page:
    """Newest first, by number (unique, so indexed)."""
    where = conditions(term, status)
    return keyset_page(
        sa.select(SalesCreditMemo)
        .where(*where)
        .options(joinedload(SalesCreditMemo.sales_order).joinedload(SalesOrder.customer)),
        SalesCreditMemo,
        (SalesCreditMemo.number,),
        where,
        descending=True,
        after=after,
        before=before,
        page=page,
        per_page=per_page,
    )


def all_memos(term="", status=""):
    """Every memo the filters match, newest first, streamed (for the CSV export)."""
    return db.session.execute(
        sa.select(
            SalesCreditMemo, SalesOrder.number, SalesOrder.external_document_no, Customer.name
        )
        .join(SalesOrder, SalesOrder.id == SalesCreditMemo.sales_order_id)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(*conditions(term, status))
        .order_by(SalesCreditMemo.number.desc())
        .execution_options(yield_per=1000)
    )


def get_memo(memo_id: int) -> SalesCreditMemo | None:
    return db.session.scalar(
        sa.select(SalesCreditMemo)
        .where(SalesCreditMemo.id == memo_id)
        .options(
            joinedload(SalesCreditMemo.sales_order).joinedload(SalesOrder.customer),
            selectinload(SalesCreditMemo.lines).joinedload(CreditMemoLine.item),
        )
    )


def memos_of(sales_order_id: int) -> list[SalesCreditMemo]:
    return list(
        db.session.scalars(
            sa.select(SalesCreditMemo)
            .where(SalesCreditMemo.sales_order_id == sales_order_id)
            .order_by(SalesCreditMemo.number)
        )
    )

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.auth.access import staff_required
from portal.converters import clean_text
from portal.credit_memos import bp, queries
from portal.csv_export import csv_download, keyset_rows
from portal.documents import queries as documents
from portal.htmx import page_or_fragment
from portal.models import CreditMemoStatus, Customer, SalesCreditMemo, SalesOrder
from portal.sync import posting
from portal.sync.money import plain_amount
from portal.views import page_position, page_url


def filters() -> tuple[str, str]:
    status = request.args.get("status", "")
    return clean_text(request.args.get("q"), 100), status if status in set(CreditMemoStatus) else ""


@bp.get("")
def index():
    term, status = filters()
    page = queries.list_memos(term, status, **page_position())
    return page_or_fragment(
        "credit_memos/index.html",
        "credit_memos/_table.html",
        list_url(keep_page=True),
        page=page,
        term=term,
        status=status,
        statuses=list(CreditMemoStatus),
        list_url=list_url,
    )


def list_url(keep_page: bool = False, **changes) -> str:
    return page_url("credit_memos.index", keep_page, **changes)


@bp.get("/<id:memo_id>")
def show(memo_id: int):
    memo = queries.get_memo(memo_id)
    if memo is None:
        abort(404, f"There is no credit memo {memo_id}.")
    return render_template(
        "credit_memos/show.html",
        memo=memo,
        vat_summary=posting.vat_summary(memo.lines),
        has_vat_codes=posting.carries_vat_codes(memo.lines),
        posted=documents.posted_memo_of(memo.id),
    )


@bp.route("/<id:memo_id>/post", methods=["GET", "POST"])
@staff_required
def post(memo_id: int):
    """GET: the confirmation page (without JavaScript; with it, the memo's page asks in a
    dialog); POST: post an open memo, by one conditional UPDATE, so two people cannot both
    post it."""
    memo = db.get_or_404(
        SalesCreditMemo, memo_id, description=f"There is no credit memo {memo_id}."
    )
    number = memo.number
    if request.method == "GET":
        if memo.status != CreditMemoStatus.OPEN:
            flash(f"Credit memo {number} is posted already.", "info")
            return redirect(url_for("credit_memos.show", memo_id=memo_id), 303)
        return render_template("credit_memos/confirm.html", memo=memo)
    posted = post_memo(memo)
    if posted is None:
        flash(f"Credit memo {number} is posted already.", "info")
    else:
        flash(f"Credit memo {number} posted. Its Posted Credit Memo is {posted}.", "success")
    return redirect(url_for("credit_memos.show", memo_id=memo_id), 303)


def post_memo(memo: SalesCreditMemo) -> str | None:
    """Post an open memo and make its Posted Credit Memo in one transaction; the posted
    memo's number, or None where the memo was posted already (by another click, or tab).
    Only the click whose conditional UPDATE changed the memo makes the document; the unique
    credit memo of posted memos backs that up."""
    result = db.session.execute(
        sa.update(SalesCreditMemo)
        .where(SalesCreditMemo.id == memo.id, SalesCreditMemo.status == CreditMemoStatus.OPEN)
        .values(status=CreditMemoStatus.POSTED)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return None
    try:
        number = posting.post_credit_memo(memo, current_user).number
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        if documents.posted_memo_of(memo.id) is None:
            raise
        return None
    return number


@bp.get("/export.csv")
def export():
    term, status = filters()
    columns = [
        "credit_memo",
        "status",
        "date",
        "sales_order",
        "webstore_order",
        "refund_id",
        "customer",
        "reason",
        "currency",
        "amount",
        "tax_amount",
        "amount_including_tax",
    ]
    memos = keyset_rows(
        sa.select(
            SalesCreditMemo.__table__,
            SalesOrder.number.label("order_number"),
            SalesOrder.external_document_no,
            Customer.name.label("customer"),
        )
        .join(SalesOrder, SalesOrder.id == SalesCreditMemo.sales_order_id)
        .join(Customer, Customer.id == SalesOrder.customer_id)
        .where(*queries.conditions(term, status)),
        SalesCreditMemo.number,
        descending=True,
    )
    rows = (
        [
            memo.number,
            memo.status.value,
            memo.memo_date.isoformat(),
            memo.order_number,
            memo.external_document_no,
            memo.woo_refund_id,
            memo.customer,
            memo.reason,
            memo.currency,
            plain_amount(memo.amount, memo.currency_decimals),
            plain_amount(memo.tax_amount, memo.currency_decimals),
            plain_amount(memo.amount_including_tax, memo.currency_decimals),
        ]
        for memo in memos
    )
    return csv_download("credit-memos.csv", columns, rows)

from datetime import UTC, datetime

from flask import abort, render_template, request

from portal.csv_export import csv_download
from portal.documents import bp, queries
from portal.documents.forms import DocumentFilterForm, VatReportForm
from portal.documents.queries import CREDIT_MEMOS, INVOICES, Kind
from portal.documents.vat_report import CSV_COLUMNS, csv_rows, vat_report
from portal.htmx import page_or_fragment
from portal.sync.exchange_rates import company_currency
from portal.views import page_position, page_url


@bp.get("/posted-invoices")
def invoices():
    return document_list(INVOICES)


@bp.get("/posted-credit-memos")
def credit_memos():
    return document_list(CREDIT_MEMOS)


def document_list(kind: Kind):
    """A kind's list: searched, filtered by webstore and document date, keyset-paged."""
    webstores = queries.webstores()
    form = DocumentFilterForm(request.args, webstores)
    filters = form.filters()
    page = queries.list_documents(kind, filters, **page_position())

    def list_url(keep_page: bool = False, **changes) -> str:
        return page_url(kind.list_endpoint, keep_page, **changes)

    return page_or_fragment(
        "documents/index.html",
        "documents/_table.html",
        list_url(keep_page=True),
        kind=kind,
        form=form,
        filters=filters,
        page=page,
        list_url=list_url,
        webstore_codes={w.id: w.code for w in webstores},
        many_webstores=len(webstores) > 1,
    )


@bp.get("/posted-invoices/<id:invoice_id>")
def invoice(invoice_id: int):
    view = queries.get_invoice(invoice_id)
    if view is None:
        abort(404, f"There is no posted invoice {invoice_id}.")
    return render_template(
        "documents/show.html", view=view, kind=INVOICES, company=queries.company()
    )


@bp.get("/posted-credit-memos/<id:memo_id>")
def credit_memo(memo_id: int):
    view = queries.get_credit_memo(memo_id)
    if view is None:
        abort(404, f"There is no posted credit memo {memo_id}.")
    return render_template(
        "documents/show.html", view=view, kind=CREDIT_MEMOS, company=queries.company()
    )


@bp.get("/vat-report", endpoint="vat_report")
def vat_report_page():
    """The VAT report of a period (a month by default), as a page or (``?format=csv``) CSV."""
    if request.args.get("format") == "csv":
        return vat_report_csv()
    form, report = report_asked()
    return render_template(
        "documents/vat_report.html",
        form=form,
        report=report,
        csv_url=page_url("documents.vat_report_csv"),
    )


@bp.get("/vat-report.csv")
def vat_report_csv():
    _, report = report_asked()
    period = report.period
    filename = f"vat-report-{period.date_from.isoformat()}-{period.date_to.isoformat()}.csv"
    return csv_download(filename, CSV_COLUMNS, list(csv_rows(report)))


def report_asked():
    form = VatReportForm(request.args, queries.webstores(), datetime.now(UTC).date())
    period = form.period()
    return form, vat_report(period, form.webstore_id(), company_currency())

"""The accounting pages. Everyone signed in reads them; staff and admins change them.

The five setup tables share their views (a list, a form for a new or an existing record,
a delete), one of each per table; the exchange rates have their own, with the CSV import.
"""

from flask import abort, current_app, flash, redirect, request, url_for
from flask.views import View
from flask_login import current_user

from portal import db
from portal.accounting import actions, bp, queries, rates
from portal.accounting.forms import ExchangeRateForm, RateFilterForm, RateImportForm, SearchForm
from portal.accounting.tables import TABLES, SetupTable
from portal.actions import Refused
from portal.auth.access import staff_required
from portal.htmx import form_errors, form_page, page_or_fragment
from portal.models import CurrencyExchangeRate
from portal.sync.exchange_rates import company_currency
from portal.views import page_position, page_url


def list_url_of(endpoint: str):
    """The list's URL builder for its templates: the current search, changed as given."""
    return lambda keep_page=False, **changes: page_url(endpoint, keep_page, **changes)


class TableView(View):
    init_every_request = False

    def __init__(self, table: SetupTable):
        self.table = table

    def record_or_404(self, record_id: int):
        description = (
            f"There is no {self.table.noun} with id {record_id}: it may have been deleted."
        )
        return db.get_or_404(self.table.model, record_id, description=description)

    def back_to_list(self):
        return redirect(url_for(self.table.endpoint), 303)


class ListPage(TableView):
    def dispatch_request(self):
        form = SearchForm(request.args)
        term = form.search()
        page = queries.list_records(self.table, term, **page_position(), per_page=queries.PER_PAGE)
        list_url = list_url_of(self.table.endpoint)
        return page_or_fragment(
            "accounting/list.html",
            "accounting/_list_table.html",
            list_url(keep_page=True),
            table=self.table,
            form=form,
            term=term,
            page=page,
            list_url=list_url,
        )


class EditPage(TableView):
    """A new record (no id) or an existing one; a record in use keeps its key."""

    methods = ["GET", "POST"]
    decorators = [staff_required]

    def dispatch_request(self, record_id: int | None):
        table = self.table
        record = self.record_or_404(record_id) if record_id else table.model()
        form = table.form(obj=record if record_id else None)
        uses = table.uses(record) if record_id else []
        if form.validate_on_submit():
            try:
                actions.save_record(table, record, form.values())
            except Refused as refused:
                form[refused.field].errors.append(str(refused))
            else:
                flash(f"{table.label(record)} saved.", "success")
                return self.back_to_list()
        # Here a POST has failed: its errors are beside their fields.
        return form_page("accounting/form.html", table=table, form=form, record=record, uses=uses)


class DeleteRecord(TableView):
    methods = ["POST"]
    decorators = [staff_required]

    def dispatch_request(self, record_id: int):
        record = self.record_or_404(record_id)
        try:
            flash(actions.delete_record(self.table, record), "success")
        except Refused as refused:
            flash(str(refused), "error")
            return redirect(url_for(f"accounting.{self.table.singular}", record_id=record_id), 303)
        return self.back_to_list()


def register(table: SetupTable) -> None:
    """The table's list, its form for a new and an existing record, and its delete."""
    edit = EditPage.as_view(table.singular, table)
    bp.add_url_rule(f"/{table.slug}", view_func=ListPage.as_view(table.name, table))
    bp.add_url_rule(f"/{table.slug}/new", view_func=edit, defaults={"record_id": None})
    bp.add_url_rule(f"/{table.slug}/<id:record_id>/edit", view_func=edit)
    delete = DeleteRecord.as_view(f"delete_{table.singular}", table)
    bp.add_url_rule(f"/{table.slug}/<id:record_id>/delete", view_func=delete)


for setup_table in TABLES:
    register(setup_table)


# Currency exchange rates

RATES_URL = list_url_of("accounting.exchange_rates")


def rates_page(import_form: RateImportForm | None, problems: list[rates.RowProblem] = ()):
    """The rates (of the chosen currency, or all), the company's currency and the CSV
    import; ``problems`` are the bad rows of a file just refused."""
    currencies = queries.rate_currencies()
    filter_form = RateFilterForm(request.args, currencies)
    currency = filter_form.chosen()
    page = queries.list_rates(currency, **page_position(), per_page=queries.PER_PAGE)
    context = {
        "filter_form": filter_form,
        "currency": currency,
        "page": page,
        "list_url": RATES_URL,
        "company_currency": company_currency(),
        "import_form": import_form,
        "problems": problems[: rates.SHOWN_PROBLEMS],
        "more_problems": max(0, len(problems) - rates.SHOWN_PROBLEMS),
    }
    if request.method == "POST":
        return form_errors("accounting/rates.html", **context)
    push_url = RATES_URL(keep_page=True)
    return page_or_fragment(
        "accounting/rates.html", "accounting/_rates_table.html", push_url, **context
    )


@bp.get("/exchange-rates")
def exchange_rates():
    return rates_page(RateImportForm() if current_user.has_role("staff") else None)


@bp.post("/exchange-rates/import")
@staff_required
def import_exchange_rates():
    form = RateImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            imported = rates.import_rates(upload.read())
        except rates.BadFile as bad:
            if not bad.rows:
                form.file.errors.append(str(bad))
            return rates_page(form, bad.rows)
        flash(imported.message(upload.filename or "the file"), "success")
        return redirect(url_for("accounting.exchange_rates"), 303)
    return rates_page(form)


@bp.route("/exchange-rates/new", methods=["GET", "POST"], defaults={"rate_id": None})
@bp.route("/exchange-rates/<id:rate_id>/edit", methods=["GET", "POST"])
@staff_required
def exchange_rate(rate_id: int | None):
    rate = (
        db.get_or_404(CurrencyExchangeRate, rate_id, description=f"There is no rate {rate_id}.")
        if rate_id
        else CurrencyExchangeRate()
    )
    # A new rate of the currency the list shows, if it shows one.
    defaults = {} if rate_id else {"currency": request.args.get("currency", "")[:3]}
    form = ExchangeRateForm(obj=rate if rate_id else None, data=defaults or None)
    if form.validate_on_submit():
        try:
            rates.save_rate(rate, form.values())
        except Refused as refused:
            form[refused.field].errors.append(str(refused))
        else:
            flash(f"The rate of {rates.describe(rate)} saved.", "success")
            return redirect(url_for("accounting.exchange_rates", currency=rate.currency), 303)
    context = {"form": form, "rate": rate, "company_currency": company_currency()}
    return form_page("accounting/rate_form.html", **context)


@bp.post("/exchange-rates/<id:rate_id>/delete")
@staff_required
def delete_exchange_rate(rate_id: int):
    rate = db.session.get(CurrencyExchangeRate, rate_id)
    if rate is None:
        abort(404, f"There is no rate {rate_id}: it may have been deleted already.")
    currency = rate.currency
    flash(rates.delete_rate(rate), "success")
    return redirect(url_for("accounting.exchange_rates", currency=currency), 303)


@bp.context_processor
def accounting_pages():
    """The accounting pages, for the links between them."""
    pages = [(table.endpoint, table.title) for table in TABLES]
    pages.append(("accounting.exchange_rates", "Currency Exchange Rates"))
    upload_limit = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    return {"accounting_pages": pages, "upload_limit_mb": f"{upload_limit:g}"}

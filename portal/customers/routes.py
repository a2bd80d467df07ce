from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import db, views
from portal.auth.access import admin_required, staff_required
from portal.customers import actions, bp, queries
from portal.customers import prefill as prefilled
from portal.customers.forms import CustomerForm, CustomerSearchForm, MappingForm, MergeForm
from portal.htmx import form_errors, form_page, page_or_fragment
from portal.models import Customer
from portal.views import MappingPages, mapping_page, page_position, page_url


def list_url(keep_page: bool = False, **changes) -> str:
    """The list's URL with the current search, changed as given, on its first page."""
    return page_url("customers.index", keep_page, **changes)


@bp.get("")
def index():
    form = CustomerSearchForm(request.args)
    search = form.search()
    page = queries.list_customers(search, **page_position(), per_page=queries.PER_PAGE)
    return page_or_fragment(
        "customers/index.html",
        "customers/_table.html",
        list_url(keep_page=True),
        form=form,
        search=search,
        page=page,
        list_url=list_url,
    )


@bp.get("/<id:customer_id>")
def show(customer_id: int):
    view = queries.get_customer(customer_id)
    if view is None:
        abort(404, f"There is no customer {customer_id}.")
    merge_form = MergeForm() if current_user.has_role("admin") else None
    return render_template("customers/show.html", view=view, merge_form=merge_form)


@bp.route("/new", methods=["GET", "POST"], defaults={"customer_id": None})
@bp.route("/<id:customer_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(customer_id: int | None):
    customer = (
        db.get_or_404(Customer, customer_id, description=f"There is no customer {customer_id}.")
        if customer_id
        else Customer()
    )
    # A failed order's "create the customer" link: filled from that order, as the import
    # would have created it.
    prefill = prefilled.from_args(request.args) if customer_id is None else None
    if prefill and prefill.values and request.method == "GET":
        form = CustomerForm(data=prefill.values)
    else:
        form = CustomerForm(obj=customer)
    if form.validate_on_submit():
        try:
            actions.save_customer(customer, form.values())
        except actions.Refused as refused:
            if refused.field:
                form[refused.field].errors.append(str(refused))
            else:
                flash(str(refused), "error")
        else:
            flash(f"Customer {customer.number} saved.", "success")
            return redirect(url_for("customers.show", customer_id=customer.id), 303)
    # Here a POST has failed: its errors are beside their fields.
    return form_page("customers/form.html", form=form, customer=customer, prefill=prefill)


@bp.post("/<id:customer_id>/merge")
@admin_required
def merge(customer_id: int):
    duplicate = db.get_or_404(
        Customer, customer_id, description=f"There is no customer {customer_id}."
    )
    form = MergeForm()
    if form.validate_on_submit():
        try:
            result = actions.merge_customers(duplicate.id, form.target.data)
        except actions.Refused as refused:
            if not refused.field:
                flash(str(refused), "error")
                return redirect(url_for("customers.show", customer_id=customer_id), 303)
            form[refused.field].errors.append(str(refused))
        else:
            flash(result.message(), "success")
            return redirect(url_for("customers.show", customer_id=result.target_id), 303)
    view = queries.get_customer(customer_id)
    if view is None:
        abort(404, f"There is no customer {customer_id}.")
    return form_errors("customers/show.html", view=view, merge_form=form)


CUSTOMER_MAPPINGS = MappingPages(
    endpoint="customers.mappings",
    template="customers/mappings.html",
    what="customer",
    form=MappingForm,
    list_page=queries.list_mappings,
    map=lambda webstore, form: actions.map_customer(
        webstore, form.woo_customer_id.data, form.customer_number.data
    ),
    unmap=actions.unmap_customer,
)


@bp.route("/mappings", methods=["GET", "POST"])
def mappings():
    """A webstore's customer mappings; staff map a webstore customer to a customer here."""
    return mapping_page(CUSTOMER_MAPPINGS)


@bp.post("/mappings/<id:mapping_id>/delete")
@staff_required
def unmap(mapping_id: int):
    return views.unmap(CUSTOMER_MAPPINGS, mapping_id)

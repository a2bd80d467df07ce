import sqlalchemy as sa
from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal import db
from portal.auth.access import staff_required
from portal.documents import queries as documents
from portal.htmx import is_htmx, page_or_fragment
from portal.models import SalesOrder, StoreWriteback
from portal.orders import actions, bp, queries
from portal.orders import trace as order_trace
from portal.orders.forms import OrderFilterForm, ShippingForm
from portal.sync import writeback
from portal.sync.health import webstore_health
from portal.views import list_args, page_position


def list_url(keep_page: bool = False, **changes) -> str:
    """The list's URL with the current filters, changed as given, on its first page.

    Empty fields and the default sort are left out, so that a search pushed into the
    address bar reads ``/?q=hopper``.
    """
    args = list_args(keep_page, **changes)
    if args.get("sort") == str(queries.Sort()):
        del args["sort"]
    return url_for("orders.index", **{k: v for k, v in args.items() if v not in (None, "")})


@bp.get("/")
def index():
    webstores = queries.webstores()
    form = OrderFilterForm(request.args, webstores)
    filters = form.filters()
    sort = queries.Sort.parse(request.args.get("sort"))
    form.sort.data = str(sort)
    page = queries.list_orders(filters, sort, **page_position(), per_page=queries.PER_PAGE)
    context = {
        "form": form,
        "filters": filters,
        "sort": sort,
        "page": page,
        "list_url": list_url,
        "customer_name": queries.customer_name(filters.customer_id)
        if filters.customer_id
        else None,
        "many_webstores": len(webstores) > 1,
        "no_webstores": not webstores,
    }
    if not is_htmx():
        # The whole page opens with each webstore's sync health; a search swaps the table.
        context["health"] = webstore_health()
    return page_or_fragment(
        "orders/index.html", "orders/_table.html", list_url(keep_page=True), **context
    )


def trace_url(webstore_code: str, woo_order_id: int, **args) -> str:
    return url_for("orders.trace", code=webstore_code, woo_order_id=woo_order_id, **args)


@bp.get("/orders/trace/<code>/<id:woo_order_id>")
def trace(code: str, woo_order_id: int):
    """Everything the connector did with one webstore order, oldest first (as it happened,
    read down like a story); ``?order=newest`` turns it round for a long history."""
    webstore = order_trace.find_webstore(code)
    if webstore is None:
        abort(404, "There is no webstore with this code.")
    found = order_trace.load_trace(webstore, woo_order_id)
    newest_first = request.args.get("order") == "newest"
    return render_template(
        "orders/trace.html",
        trace=found,
        events=list(reversed(found.events)) if newest_first else found.events,
        newest_first=newest_first,
        trace_url=trace_url,
        credit_memo_url=credit_memo_url,
    )


def credit_memo_url(memo_id: int) -> str | None:
    # The credit memo pages are their own blueprint: linked where the portal has them.
    if "credit_memos.show" in current_app.view_functions:
        return url_for("credit_memos.show", memo_id=memo_id)
    return None


def load_order(order_id: int) -> SalesOrder:
    return db.get_or_404(SalesOrder, order_id, description=f"There is no sales order {order_id}.")


def run_url(run_id: int) -> str:
    # The run's page belongs to Import Results, built beside this blueprint: link to its
    # endpoint, or to the URL it is agreed to have where that blueprint lacks it.
    if "imports.run" in current_app.view_functions:
        return url_for("imports.run", run_id=run_id)
    return f"/imports/runs/{run_id}"


@bp.get("/orders/<id:order_id>")
def show(order_id: int):
    view = queries.get_order(order_id)
    if view is None:
        abort(404, f"There is no sales order {order_id}.")
    can_act = current_user.has_role("staff")
    return render_template(
        "orders/show.html",
        view=view,
        order=view.order,
        actions=actions.available_actions(view.order) if can_act else [],
        can_act=can_act,
        run_url=run_url(view.run.id) if view.run else None,
        shipping_form=ShippingForm.for_order(view.order, view.agent_name) if can_act else None,
        waiting={a.name: actions.must_wait(view.order, a) for a in actions.ACTIONS.values()},
        shown_warning=actions.warning_digest(view.order.change_warning),
        company=documents.company(),
    )


# A post refused takes nothing typed into its dialog with it: the person is told so.
NOT_SAVED = " The carrier and tracking number typed were not saved: enter them again when you post."


@bp.route("/orders/<id:order_id>/<name>", methods=["GET", "POST"])
@staff_required
def act(order_id: int, name: str):
    """GET: the confirmation page (without JavaScript); POST: do it."""
    action = actions.ACTIONS.get(name)
    if action is None:
        abort(404)
    order = load_order(order_id)
    if request.method == "GET":
        if not action.allows(order.status):
            flash(action.refusal(order.number, order.status), "error")
            return redirect(url_for("orders.show", order_id=order.id), 303)
        return render_template(
            "orders/confirm.html",
            order=order,
            action=action,
            waiting=actions.must_wait(order, action),
            shipping_form=ShippingForm.for_order(order, queries.shipping_agent_name(order)),
        )
    shipping = None
    if action.name == "post" and "tracking_number" in request.form:
        form = ShippingForm()
        if not form.validate():
            flash(f"{order.number} was not posted: {form_errors(form)}", "error")
            return redirect(url_for("orders.show", order_id=order_id), 303)
        shipping = form.values()
    saved = (order.shipping_carrier, order.tracking_number)
    try:
        message = actions.perform(order, action, shipping, current_user)
    except actions.ActionRefused as refused:
        lost = shipping is not None and shipping != saved
        flash(f"{refused}{NOT_SAVED if lost else ''}", "error")
        return redirect(url_for("orders.show", order_id=order_id), 303)
    flash(message, "success")
    if action.to is None:
        return redirect(url_for("orders.index"), 303)
    return redirect(url_for("orders.show", order_id=order_id), 303)


@bp.post("/orders/<id:order_id>/shipping")
@staff_required
def shipping(order_id: int):
    """Keep the carrier and tracking number, which the store hears when the order is posted."""
    order = load_order(order_id)
    form = ShippingForm()
    if not form.validate_on_submit():
        flash(f"Not saved: {form_errors(form)}", "error")
    else:
        try:
            message = actions.set_shipping(order, *form.values())
            flash(message, "success")
        except actions.ActionRefused as refused:
            flash(str(refused), "error")
    return redirect(url_for("orders.show", order_id=order_id), 303)


@bp.post("/orders/<id:order_id>/writebacks/<id:writeback_id>/send")
@staff_required
def send_again(order_id: int, writeback_id: int):
    """Send a failed or waiting update of the store order now."""
    store_update = db.session.scalar(
        sa.select(StoreWriteback).where(
            StoreWriteback.id == writeback_id, StoreWriteback.sales_order_id == order_id
        )
    )
    if store_update is None:
        abort(404, "There is no such update of this order's webstore order.")
    writeback.send_again(store_update, current_user.id)
    if writeback.enqueue(store_update.id):
        flash("The update of the webstore order is being sent again.", "success")
    else:
        flash(
            "The job queue (Redis) is not answering: the update is sent once it answers.",
            "error",
        )
    return redirect(url_for("orders.show", order_id=order_id), 303)


@bp.post("/orders/<id:order_id>/review")
@staff_required
def review(order_id: int):
    order = load_order(order_id)
    try:
        flash(actions.mark_reviewed(order, current_user.id, request.form.get("shown")), "success")
    except actions.ActionRefused as refused:
        flash(str(refused), "error")
    return redirect(url_for("orders.show", order_id=order_id), 303)


@bp.post("/orders/<id:order_id>/update-from-store")
@staff_required
def update_from_store(order_id: int):
    """Rebuild the sales order from the store's order now, or cancel it with a cancelled one."""
    order = load_order(order_id)
    try:
        flash(actions.update_from_store(order, current_user.id), "success")
    except actions.ActionRefused as refused:
        flash(str(refused), "error")
    return redirect(url_for("orders.show", order_id=order_id), 303)


def form_errors(form) -> str:
    return " ".join(error for errors in form.errors.values() for error in errors)

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from portal import db
from portal.auth.access import staff_required
from portal.items import actions, bp, queries
from portal.items.forms import ItemForm, ItemSearchForm, MappingForm
from portal.models import Item, Webstore
from portal.views import int_arg, page_url, wants_fragment


def list_url(keep_page: bool = False, **changes) -> str:
    return page_url("items.index", keep_page, **changes)


def mappings_url(keep_page: bool = False, **changes) -> str:
    return page_url("items.mappings", keep_page, **changes)


@bp.get("")
def index():
    form = ItemSearchForm(request.args)
    term = form.search()
    page = queries.list_items(
        term,
        after=int_arg("after"),
        before=int_arg("before"),
        page=int_arg("page") or 1,
        per_page=queries.PER_PAGE,
    )
    context = {"form": form, "term": term, "page": page, "list_url": list_url}
    if not wants_fragment():
        return render_template("items/index.html", **context)
    response = make_response(render_template("items/_table.html", **context))
    response.headers["HX-Push-Url"] = list_url(keep_page=True)
    return response


@bp.get("/<int:item_id>")
def show(item_id: int):
    view = queries.get_item(item_id)
    if view is None:
        abort(404, f"There is no item {item_id}.")
    return render_template("items/show.html", view=view, item=view.item)


@bp.route("/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(item_id: int | None):
    item = (
        db.get_or_404(Item, item_id, description=f"There is no item {item_id}.")
        if item_id
        else Item()
    )
    form = ItemForm(obj=item)
    if form.validate_on_submit():
        try:
            actions.save_item(item, form.values())
        except actions.Refused as refused:
            form[refused.field].errors.append(str(refused))
        else:
            flash(f"Item {item.number} saved.", "success")
            return redirect(url_for("items.show", item_id=item.id), 303)
    # Here a POST has failed: its errors are beside their fields.
    status = 422 if request.method == "POST" else 200
    return render_template("items/form.html", form=form, item=item), status


def chosen_webstore(stores: list[Webstore]) -> Webstore | None:
    """The webstore of ``?webstore=CODE``; the only one where there is one and none is named."""
    code = request.args.get("webstore", "").strip().upper()
    if not code:
        return stores[0] if len(stores) == 1 else None
    for store in stores:
        if store.code == code:
            return store
    abort(404, f"There is no webstore with code {code}.")


@bp.route("/mappings", methods=["GET", "POST"])
def mappings():
    """GET: the webstore's product mappings; POST (staff): map a product to an item."""
    stores = queries.webstores()
    webstore = chosen_webstore(stores)
    can_edit = current_user.has_role("staff")
    form = MappingForm() if can_edit else None
    status = 200
    if request.method == "POST":
        if not can_edit:
            abort(403, f"This needs the staff role; you are signed in as {current_user.role}.")
        if webstore is None:
            abort(404, "Choose the webstore whose product to map.")
        if form.validate_on_submit():
            try:
                message = actions.map_product(
                    webstore, form.product_id.data, form.variation_id.data, form.item_number.data
                )
            except actions.Refused as refused:
                form[refused.field].errors.append(str(refused))
            else:
                flash(message, "success")
                return redirect(url_for("items.mappings", webstore=webstore.code), 303)
        status = 422
    page = None
    if webstore is not None:
        page = queries.list_mappings(
            webstore,
            after=int_arg("after"),
            before=int_arg("before"),
            page=int_arg("page") or 1,
            per_page=queries.PER_PAGE,
        )
    context = {
        "webstores": stores,
        "webstore": webstore,
        "page": page,
        "form": form,
        "mappings_url": mappings_url,
    }
    if request.method == "GET" and wants_fragment() and webstore is not None:
        response = make_response(render_template("items/_mappings_table.html", **context))
        response.headers["HX-Push-Url"] = mappings_url(keep_page=True)
        return response
    return render_template("items/mappings.html", **context), status


@bp.post("/mappings/<int:mapping_id>/delete")
@staff_required
def unmap(mapping_id: int):
    webstore = chosen_webstore(queries.webstores())
    if webstore is None:
        abort(404, "Choose the webstore whose product to unmap.")
    flash(actions.unmap(webstore, mapping_id), "success")
    return redirect(url_for("items.mappings", webstore=webstore.code), 303)

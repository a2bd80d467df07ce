from flask import abort, flash, redirect, render_template, request, url_for

from portal import db, views
from portal.auth.access import staff_required
from portal.htmx import form_page, page_or_fragment
from portal.items import actions, bp, queries
from portal.items.forms import ItemForm, ItemSearchForm, MappingForm
from portal.models import Item
from portal.views import MappingPages, mapping_page, page_position, page_url


def list_url(keep_page: bool = False, **changes) -> str:
    return page_url("items.index", keep_page, **changes)


@bp.get("")
def index():
    form = ItemSearchForm(request.args)
    term = form.search()
    page = queries.list_items(term, **page_position(), per_page=queries.PER_PAGE)
    return page_or_fragment(
        "items/index.html",
        "items/_table.html",
        list_url(keep_page=True),
        form=form,
        term=term,
        page=page,
        list_url=list_url,
    )


@bp.get("/<id:item_id>")
def show(item_id: int):
    view = queries.get_item(item_id)
    if view is None:
        abort(404, f"There is no item {item_id}.")
    return render_template("items/show.html", view=view, item=view.item)


@bp.route("/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route("/<id:item_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(item_id: int | None):
    item = (
        db.get_or_404(Item, item_id, description=f"There is no item {item_id}.")
        if item_id
        else Item()
    )
    # A new item starts from the form's defaults (PCS, 0.00), not an empty Item's None.
    form = ItemForm(obj=item if item_id else None)
    if form.validate_on_submit():
        try:
            actions.save_item(item, form.values())
        except actions.Refused as refused:
            form[refused.field].errors.append(str(refused))
        else:
            flash(f"Item {item.number} saved.", "success")
            return redirect(url_for("items.show", item_id=item.id), 303)
    # Here a POST has failed: its errors are beside their fields.
    return form_page("items/form.html", form=form, item=item)


PRODUCT_MAPPINGS = MappingPages(
    endpoint="items.mappings",
    template="items/mappings.html",
    what="product",
    form=MappingForm,
    list_page=queries.list_mappings,
    map=lambda webstore, form: actions.map_product(
        webstore, form.product_id.data, form.variation_id.data, form.item_number.data
    ),
    unmap=actions.unmap,
)


@bp.route("/mappings", methods=["GET", "POST"])
def mappings():
    """A webstore's product mappings; staff map a product to an item here."""
    return mapping_page(PRODUCT_MAPPINGS)


@bp.post("/mappings/<id:mapping_id>/delete")
@staff_required
def unmap(mapping_id: int):
    return views.unmap(PRODUCT_MAPPINGS, mapping_id)

import sqlalchemy as sa
from flask import (
    abort,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal import alerts, db
from portal import store_webhooks as webhooks
from portal.auth import sessions
from portal.auth.access import admin_required, staff_required
from portal.crypto import SecretUnreadable
from portal.htmx import FORM_ERRORS, form_errors, form_page, is_htmx
from portal.models import CustomerTemplate, ItemTemplate, Role, User, Webstore
from portal.setup import bp, readiness, store_mappings, webstores
from portal.setup.forms import (
    CHARGE_ITEM_FIELDS,
    CustomerTemplateForm,
    ItemTemplateForm,
    UserForm,
    WebstoreForm,
)
from portal.standard_items import STANDARD_ITEMS, create_standard_item
from portal.sync import health, schedule
from portal.sync.runs import QueueUnavailable
from portal.woo.errors import WooError


@bp.get("/")
def index():
    stores = webstores.list_webstores()
    return render_template(
        "setup/index.html",
        webstores=stores,
        sync=schedule.sync_states(stores),
        missing={w.id: readiness.missing_for_import(w) for w in stores},
    )


@bp.post("/webstores/<id:webstore_id>/sync-now")
@staff_required
def sync_now(webstore_id: int):
    webstore = db.get_or_404(Webstore, webstore_id)
    try:
        run = schedule.sync_now(webstore, current_user)
    except IntegrityError:
        db.session.rollback()
        flash(f"An automatic run of {webstore.code} is already queued or running.", "info")
        return redirect(url_for("setup.index"))
    except QueueUnavailable as error:
        flash(str(error), "error")
        return redirect(url_for("setup.index"))
    return redirect(url_for("imports.run", run_id=run.id))


@bp.route("/webstores/new", methods=["GET", "POST"])
@admin_required
def create_webstore():
    form = WebstoreForm(
        data=webstores.new_webstore_data(), **webstores.form_choices(), creating=True
    )
    return save_webstore(Webstore(), form)


@bp.route("/webstores/<id:webstore_id>", methods=["GET", "POST"])
@admin_required
def edit_webstore(webstore_id: int):
    webstore = db.get_or_404(Webstore, webstore_id)
    form = WebstoreForm(
        data=webstores.form_data(webstore),
        **webstores.form_choices(),
        creating=False,
        secret_url=webstore.base_url,
    )
    return save_webstore(webstore, form)


def save_webstore(webstore: Webstore, form: WebstoreForm):
    if form.validate_on_submit():
        try:
            webstores.apply_form(webstore, form)
        except webstores.SetupError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(str(error))
        else:
            flash(f"Webstore {webstore.code} saved.", "success")
            return redirect(url_for("setup.index"))
    return form_page("setup/webstore_form.html", **form_context(webstore, form))


def form_context(webstore: Webstore, form: WebstoreForm) -> dict:
    """What the webstore's edit page shows beside its form."""
    return {
        "form": form,
        "webstore": webstore,
        "missing": readiness.missing_for_import(webstore) if webstore.id else [],
        "charge_items": webstores.charge_item_choices(),
        "open_alerts": alerts.open_alerts(webstore).values() if webstore.id else (),
    }


def render_form(webstore: Webstore, form: WebstoreForm, **context):
    return render_template("setup/webstore_form.html", **form_context(webstore, form), **context)


@bp.post("/charge-items/<kind>")
@admin_required
def create_charge_item(kind: str):
    """Create the standard shipping item or item for lines without a product in place,
    from the webstore form; answers its field, filled with the item's number."""
    if kind not in STANDARD_ITEMS:
        abort(404, f"There is no standard item {kind!r}.")
    item = create_standard_item(kind)
    name = CHARGE_ITEM_FIELDS[kind]
    form = WebstoreForm(formdata=None, data={name: item.number}, **webstores.form_choices())
    return render_template("setup/_charge_item.html", input=form[name], kind=kind, created=item)


@bp.post("/webstores/<id:webstore_id>/test-connection")
@admin_required
def test_connection(webstore_id: int):
    """Ask the store who it is. The HTMX button sends the settings as typed and gets a
    fragment; a plain form sends none, tests the saved ones and gets the whole edit page."""
    webstore = db.get_or_404(Webstore, webstore_id)
    typed = "base_url" in request.form
    form = WebstoreForm(
        formdata=request.form if typed else None,
        data=webstores.form_data(webstore),
        **webstores.form_choices(),
        creating=False,
        secret_url=webstore.base_url,
    )
    status = error = None
    if typed and (errors := webstores.connection_errors(form)):
        error = "Correct the connection settings first. " + " ".join(errors)
    else:
        try:
            status = webstores.check_connection(webstore, form if typed else None)
        except (WooError, SecretUnreadable) as exc:
            error = str(exc)
    result = {
        "status": status,
        "error": error,
        "unsaved": typed and webstores.connection_changed(webstore, form),
    }
    if is_htmx():
        return render_template("setup/_connection_result.html", **result)
    return render_form(webstore, form, connection=result)


@bp.post("/webstores/new/test-connection")
@admin_required
def test_new_connection():
    """Test connection before the first save: the settings as typed, secret included."""
    form = WebstoreForm(formdata=request.form, **webstores.form_choices(), creating=True)
    status = error = None
    if errors := webstores.connection_errors(form):
        error = "Correct the connection settings first. " + " ".join(errors)
    else:
        try:
            status = webstores.check_connection(Webstore(), form)
        except WooError as exc:
            error = str(exc)
    return render_template(
        "setup/_connection_result.html", status=status, error=error, unsaved=True
    )


@bp.post("/webstores/<id:webstore_id>/test-alert")
@admin_required
def test_alert(webstore_id: int):
    """Send a test message every way the webstore's saved alert settings say. HTMX gets the
    answer alone, a plain form the whole edit page with it."""
    webstore = db.get_or_404(Webstore, webstore_id)
    results = alerts.send_test(webstore, current_user.username)
    if is_htmx():
        return render_template("setup/_alert_test.html", webstore=webstore, results=results)
    form = WebstoreForm(
        data=webstores.form_data(webstore),
        **webstores.form_choices(),
        creating=False,
        secret_url=webstore.base_url,
    )
    return render_form(webstore, form, alert_test=results)


@bp.context_processor
def alert_recipients():
    return {"recipients": alerts.recipients}


@bp.context_processor
def webhook_target():
    # The edit page says where webhooks will deliver, and why that may fail, before any try.
    return {"webhook_target": webhooks.target}


@bp.route("/webstores/<id:webstore_id>/webhooks", methods=["GET", "POST"])
@admin_required
def store_webhooks(webstore_id: int):
    """The portal's webhooks as the store reports them; POST registers or repairs them.
    HTMX gets the section, a plain request the whole edit page."""
    webstore = db.get_or_404(Webstore, webstore_id)
    target = webhooks.target(webstore)
    registering = request.method == "POST"
    rows = error = None
    try:
        if registering:
            rows = webhooks.register(webstore, target.url)
        else:
            rows = webhooks.store_webhooks(webstore, target.url)
    except (WooError, SecretUnreadable) as exc:
        error = str(exc)
    else:
        # What the store just said is the sync health's too: the panel shows it at once.
        health.keep_webhook_rows(webstore, rows)
    result = {"target": target, "rows": rows, "error": error, "registered": registering}
    if is_htmx():
        section = get_template_attribute("setup/_webhooks.html", "store_webhooks")
        return section(webstore, **result)
    form = WebstoreForm(
        data=webstores.form_data(webstore), **webstores.form_choices(), creating=False
    )
    return render_template(
        "setup/webstore_form.html", form=form, webstore=webstore, webhooks=result
    )


@bp.context_processor
def mapping_links():
    pages = [(kind.endpoint, kind.title) for kind in store_mappings.KINDS]
    return {"mapping_pages": pages}


@bp.route("/webstores/<id:webstore_id>/mappings/payments", methods=["GET", "POST"])
@admin_required
def payment_mappings(webstore_id: int):
    """The store's payment gateways, each mapped to an ERP payment method."""
    return mapping_page(store_mappings.PAYMENTS, webstore_id)


@bp.route("/webstores/<id:webstore_id>/mappings/shipping", methods=["GET", "POST"])
@admin_required
def shipping_mappings(webstore_id: int):
    """The store's shipping methods, each mapped to a shipment method and shipping agent."""
    return mapping_page(store_mappings.SHIPPING, webstore_id)


@bp.route("/webstores/<id:webstore_id>/mappings/taxes", methods=["GET", "POST"])
@admin_required
def tax_mappings(webstore_id: int):
    """The store's tax rates, each mapped to a VAT code."""
    return mapping_page(store_mappings.TAXES, webstore_id)


def mapping_page(kind: store_mappings.Kind, webstore_id: int):
    """GET lists what there is to map; POST saves one mapping (none chosen: removes it).
    HTMX gets the row's mapping cell back, a plain form the page again."""
    webstore = db.get_or_404(Webstore, webstore_id)
    records = kind.records()
    posted = None
    if request.method == "POST":
        posted = kind.form(records=records)
        saved = posted.validate_on_submit()
        if saved:
            mapping = store_mappings.save(kind, webstore, posted)
            message = store_mappings.saved_message(kind, posted, mapping)
        if is_htmx():
            cell = get_template_attribute("setup/_mappings.html", "mapping_cell")
            html = cell(kind, webstore, posted, message=message if saved else None)
            return html, 200 if saved else FORM_ERRORS
        if saved:
            flash(message, "success")
            anchor = kind.row_id(posted.shown_key)
            return redirect(url_for(kind.endpoint, webstore_id=webstore.id, _anchor=anchor), 303)
    listing = store_mappings.listing(kind, webstore)
    forms = [store_mappings.form_for(kind, row, records) for row in listing.rows]
    adding = posted or kind.form(formdata=None, records=records)
    return form_page(
        "setup/mappings.html",
        kind=kind,
        webstore=webstore,
        listing=listing,
        rows=zip(listing.rows, forms, strict=True),
        records=records,
        adding=adding,
    )


@bp.post("/webstores/<id:webstore_id>/delete")
@admin_required
def delete_webstore(webstore_id: int):
    webstore = db.get_or_404(Webstore, webstore_id)
    try:
        webstores.delete_webstore(webstore)
    except webstores.SetupError as error:
        flash(str(error), "error")
    else:
        flash(f"Webstore {webstore.code} deleted.", "success")
    return redirect(url_for("setup.index"))


@bp.get("/templates")
def templates():
    return render_template(
        "setup/templates.html",
        customer_templates=db.session.scalars(
            sa.select(CustomerTemplate).order_by(CustomerTemplate.code)
        ),
        item_templates=db.session.scalars(sa.select(ItemTemplate).order_by(ItemTemplate.code)),
    )


TEMPLATE_KINDS = {
    "customer": (CustomerTemplate, CustomerTemplateForm, "Customer template"),
    "item": (ItemTemplate, ItemTemplateForm, "Item template"),
}


@bp.route("/templates/<kind>/new", methods=["GET", "POST"], defaults={"template_id": None})
@bp.route("/templates/<kind>/<id:template_id>", methods=["GET", "POST"])
@admin_required
def edit_template(kind: str, template_id: int | None):
    if kind not in TEMPLATE_KINDS:
        return render_template("error.html", status=404, title="Not Found", message=""), 404
    model, form_class, title = TEMPLATE_KINDS[kind]
    template = db.get_or_404(model, template_id) if template_id else model()
    form = form_class(obj=template)
    if form.validate_on_submit():
        taken = db.session.scalar(
            sa.select(model.id).where(model.code == form.code.data, model.id != template.id)
        )
        if taken:
            form.code.errors.append(f"A template with code {form.code.data} exists already.")
        else:
            form.populate_obj(template)
            db.session.add(template)
            db.session.commit()
            flash(f"{title} {template.code} saved.", "success")
            return redirect(url_for("setup.templates"))
    return form_page("setup/template_form.html", form=form, title=title, template=template)


@bp.get("/users")
@admin_required
def users():
    return render_template(
        "setup/users.html", users=db.session.scalars(sa.select(User).order_by(User.username))
    )


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<id:user_id>", methods=["GET", "POST"])
@admin_required
def edit_user(user_id: int | None):
    """A user's name, role and password. Whether the user may sign in is changed by the
    page's own Deactivate and Activate buttons, never by this form."""
    user = db.get_or_404(User, user_id) if user_id else User(active=True)
    form = UserForm(obj=user)
    if form.validate_on_submit():
        taken = db.session.scalar(
            sa.select(User.id).where(User.username == form.username.data, User.id != user.id)
        )
        if taken:
            form.username.errors.append("That username is taken.")
        elif user.id is None and not form.password.data:
            form.password.errors.append("A new user needs a password.")
        elif is_last_admin(user, Role(form.role.data), user.active):
            form.role.errors.append(last_admin(user, "change this role"))
        else:
            user.username = form.username.data
            user.role = Role(form.role.data)
            if form.password.data:
                user.set_password(form.password.data)
            if user.id is not None and form.password.data:
                # Whoever knew the old password is signed out; an admin who changes their
                # own password stays signed in where they are.
                keep = current_user.session_token if user.id == current_user.id else None
                sessions.end_sessions(user, keep=keep)
            db.session.add(user)
            db.session.commit()
            flash(f"User {user.username} saved.", "success")
            return redirect(url_for("setup.users"))
    return form_page("setup/user_form.html", form=form, user=user)


@bp.post("/users/<id:user_id>/deactivate")
@admin_required
def deactivate_user(user_id: int):
    """The user can no longer sign in, and is signed out everywhere."""
    user = db.get_or_404(User, user_id)
    if is_last_admin(user, user.role, active=False):
        form = UserForm(formdata=None, obj=user)
        refusal = last_admin(user, "deactivate")
        return form_errors("setup/user_form.html", form=form, user=user, refusal=refusal)
    user.active = False
    sessions.end_sessions(user)
    db.session.commit()
    flash(
        f"User {user.username} deactivated: signed out everywhere, and cannot sign in.", "success"
    )
    return redirect(url_for("setup.users"), 303)


@bp.post("/users/<id:user_id>/activate")
@admin_required
def activate_user(user_id: int):
    user = db.get_or_404(User, user_id)
    user.active = True
    db.session.commit()
    flash(f"User {user.username} activated: they can sign in again.", "success")
    return redirect(url_for("setup.users"), 303)


def is_last_admin(user: User, role: Role, active: bool) -> bool:
    """Would saving ``user`` with ``role`` and ``active`` leave no active admin?

    The active admins' rows stay locked until the save commits: two admins demoting each
    other at once cannot both pass."""
    if user.id is None or not (user.active and user.role == Role.ADMIN):
        return False
    if active and role == Role.ADMIN:
        return False
    admins = db.session.scalars(
        sa.select(User.id).where(User.role == Role.ADMIN, User.active).with_for_update()
    ).all()
    return set(admins) <= {user.id}


def last_admin(user: User, then: str) -> str:
    who = "You are" if user.id == current_user.id else f"{user.username} is"
    return f"{who} the only active admin: make another user an active admin first, then {then}."

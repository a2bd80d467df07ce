from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import db
from portal.audits import bp, queries
from portal.audits.forms import RunAuditForm
from portal.auth.access import staff_required
from portal.converters import clean_text
from portal.htmx import is_htmx, page_or_fragment
from portal.models.health import Audit, AuditStatus, StoreOrderState
from portal.setup.readiness import missing_for_import
from portal.sync import audit as audits
from portal.sync.filters import FilterError, find_webstore
from portal.sync.runs import QueueUnavailable
from portal.views import chosen_webstore, page_position, page_url

# htmx stops polling on this status (htmx 2).
STOP_POLLING = 286


@bp.get("/audits")
def index():
    """Each webstore's latest audit, with "Run audit now"; the audits of late."""
    audits.reap_stale_audits()
    return render_template(
        "audits/index.html",
        webstores=queries.webstores(),
        latest=audits.latest_audits(),
        recent=audits.recent_audits(),
        form=RunAuditForm(),
    )


@bp.post("/audits")
@staff_required
def run():
    form = RunAuditForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "error")
        return redirect(url_for("audits.index"), 303)
    try:
        webstore = find_webstore(form.webstore.data)
        audit = audits.start_audit(webstore, since=form.since.data, user=current_user)
    except FilterError as error:
        abort(404, str(error))
    except (audits.AuditError, QueueUnavailable) as error:
        flash(str(error), "error")
        return redirect(url_for("audits.index"), 303)
    return redirect(url_for("audits.show", code=webstore.code, audit_id=audit.id), 303)


@bp.get("/audits/<code>", defaults={"audit_id": None})
@bp.get("/audits/<code>/<id:audit_id>")
def show(code: str, audit_id: int | None):
    """An audit (the webstore's latest without ``audit_id``): its counts per day and status,
    the orders missing and failed now; to HTMX, while it runs, its panel."""
    webstore = webstore_or_404(code)
    audit = find_audit(webstore, audit_id)
    if audit is not None:
        audits.reap_stale_audits()
        db.session.refresh(audit)
    context = {
        "webstore": webstore,
        "audit": audit,
        "earlier": queries.audits_of(webstore),
        "form": RunAuditForm(webstore=webstore.code),
    }
    if audit is not None:
        context.update(
            statuses=sorted({status for day in audit.by_day.values() for status in day}),
            left_to_sync=audits.left_to_sync(audit),
        )
    if audit is not None and audit.status != AuditStatus.RUNNING:
        context["missing"] = audits.missing_orders(audit)
        context["failed"] = audits.failed_orders(audit)
    if is_htmx() and audit is not None:
        status = 200 if audit.status == AuditStatus.RUNNING else STOP_POLLING
        return render_template("audits/_audit.html", **context), status
    return render_template("audits/show.html", **context)


@bp.post("/audits/<code>/<id:audit_id>/import-missing")
@staff_required
def import_missing(code: str, audit_id: int):
    """Import the orders of the audit's window that are missing now, by id."""
    webstore = webstore_or_404(code)
    audit = find_audit(webstore, audit_id)
    here = url_for("audits.show", code=webstore.code, audit_id=audit_id)
    if lacking := missing_for_import(webstore):
        flash(
            f"Webstore {webstore.code} cannot import yet: "
            + " ".join(m.message for m in lacking)
            + f" Complete it in Setup > Webstores > {webstore.code}; nothing was started.",
            "error",
        )
        return redirect(here, 303)
    try:
        run = audits.import_missing(audit, current_user)
    except LookupError as nothing:
        flash(str(nothing), "info")
        return redirect(here, 303)
    except QueueUnavailable as error:
        flash(str(error), "error")
        return redirect(here, 303)
    flash(
        f"Importing the {run_size(run)} missing order(s) in run {run.id}. Once it has ended, run "
        "the audit again to see every order accounted for.",
        "success",
    )
    return redirect(url_for("imports.run", run_id=run.id), 303)


@bp.get("/webstore-orders")
def store_orders():
    """Every store order of a webstore (the first, unless one is named) the connector has
    seen, with its state, newest first."""
    stores = queries.webstores()
    # One webstore at a time: its orders come in the order of its unique key's index.
    webstore = chosen_webstore(stores) or (stores[0] if stores else None)
    state = request.args.get("state", "")
    state = state if state in set(StoreOrderState) else ""
    number = clean_text(request.args.get("number"), 40)
    page = queries.list_store_orders(webstore, state, number, **page_position())
    return page_or_fragment(
        "audits/store_orders.html",
        "audits/_store_orders_table.html",
        store_orders_url(keep_page=True),
        page=page,
        webstores=stores,
        webstore=webstore,
        state=state,
        states=list(StoreOrderState),
        number=number,
        list_url=store_orders_url,
    )


def store_orders_url(keep_page: bool = False, **changes) -> str:
    return page_url("audits.store_orders", keep_page, **changes)


def webstore_or_404(code: str):
    try:
        return find_webstore(code)
    except FilterError as error:
        abort(404, str(error))


def find_audit(webstore, audit_id: int | None) -> Audit | None:
    """The webstore's audit ``audit_id`` (404 if it has none such), else its latest."""
    if audit_id is None:
        latest = queries.audits_of(webstore, limit=1)
        return latest[0] if latest else None
    audit = db.session.get(Audit, audit_id)
    if audit is None or audit.webstore_id != webstore.id:
        abort(404, f"Webstore {webstore.code} has no audit {audit_id}.")
    return audit


def run_size(run) -> int:
    return len(run.filters.get("order_ids") or ())

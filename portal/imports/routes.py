import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup, escape

from portal import db
from portal.auth.access import staff_required
from portal.csv_export import csv_download, keyset_rows
from portal.htmx import form_errors, form_page, is_htmx, page_or_fragment
from portal.imports import bp, queries
from portal.imports.chart import bar_chart
from portal.imports.forms import ImportForm, RefundImportForm
from portal.imports.preview import nothing_to_import, preview, status_counts
from portal.models import Outcome, RunKind, RunStatus, SyncLogEntry, SyncRun, Trigger
from portal.queue import queue_available
from portal.setup.readiness import missing_for_import
from portal.sync.filters import (
    FilterError,
    ImportFilters,
    find_webstore,
    merge_filters,
    parse_order_id,
)
from portal.sync.health import webstore_health
from portal.sync.log import skip_kind_label
from portal.sync.runs import (
    NothingToRetry,
    QueueUnavailable,
    anything_left_to_retry,
    reap_if_dead,
    retry_failed,
    skip_summary,
    start_import,
)
from portal.sync.schedule import refund_filters
from portal.views import int_arg


def import_form(formdata=None) -> ImportForm:
    form = ImportForm(formdata=formdata, webstores=queries.webstores())
    return form


@bp.get("/new")
@staff_required
def new():
    form = import_form(formdata=None)
    context = choose_webstore(form, request.args.get("webstore") or form.webstore.data)
    return render_template("imports/new.html", **context, queue_down=not queue_available())


@bp.get("/new/filters")
@staff_required
def filters():
    """The filter fields, pre-filled from the chosen webstore's setup."""
    form = import_form(formdata=None)
    return render_template(
        "imports/_filters.html", **choose_webstore(form, request.args.get("webstore"))
    )


def choose_webstore(form: ImportForm, code: str | None) -> dict:
    """The form for the webstore of ``code`` (if there is one): its setup's filters, its
    store's count of orders per status, and what its setup still lacks."""
    try:
        webstore = find_webstore(code) if code else None
    except FilterError:
        webstore = None
    counts, missing = {}, []
    if webstore:
        form.webstore.data = webstore.code
        prefill(form, webstore)
        missing = missing_for_import(webstore)
        counts = {} if missing else status_counts(webstore)
    return {"form": form, "counts": counts, "missing": missing, "chosen": webstore}


def not_ready(webstore) -> str:
    return (
        f"Webstore {webstore.code} cannot import yet: its setup lacks what is listed below. "
        "Nothing was started."
    )


def prefill(form: ImportForm, webstore) -> None:
    form.statuses.data = list(webstore.status_filter)
    form.start_date.data = webstore.order_start_date


@bp.route("/refunds", methods=["GET", "POST"])
@staff_required
def refunds():
    """Import Webstore Refunds: refunds of imported orders become sales credit memos."""
    form = RefundImportForm(webstores=queries.webstores())
    if form.validate_on_submit():
        try:
            webstore = find_webstore(form.webstore.data)
            order_id = parse_order_id(form.order_id.data)
            wanted = refund_filters(webstore, form.start_date.data, (order_id,) if order_id else ())
            run = start_import(webstore, wanted, Trigger.MANUAL, current_user, kind=RunKind.REFUNDS)
        except FilterError as error:
            getattr(form, error.field if error.field in form else "webstore").errors.append(
                str(error)
            )
        except QueueUnavailable as error:
            flash(str(error), "error")
        else:
            return redirect(url_for("imports.run", run_id=run.id), 303)
    return form_page("imports/refunds.html", form=form)


@bp.get("/preview")
@staff_required
def preview_import():
    if not request.args.get("webstore"):
        return ""  # nothing chosen yet: nothing to say, and no error before a first try
    try:
        webstore = find_webstore(request.args.get("webstore"))
        wanted = merge_filters(
            webstore,
            order_id=request.args.get("order_id"),
            statuses=request.args.getlist("statuses") or None,
            start_date=request.args.get("start_date") or None,
        )
    except FilterError as error:
        return render_template("imports/_preview.html", problem=str(error))
    if missing_for_import(webstore):
        # The filters say what is missing; asking the store would count what cannot import.
        return ""
    return render_template(
        "imports/_preview.html", result=preview(webstore, wanted), filters=wanted
    )


@bp.post("/")
@staff_required
def start():
    form = import_form(formdata=request.form)
    problem, missing, webstore = None, [], None
    if form.validate():
        try:
            webstore = find_webstore(form.webstore.data)
            if missing := missing_for_import(webstore):
                raise FilterError("webstore", not_ready(webstore))
            wanted = merge_filters(
                webstore,
                order_id=form.order_id.data,
                statuses=form.statuses.data or None,
                start_date=form.start_date.data,
            )
            if reason := nothing_to_import(webstore, wanted):
                raise FilterError("order_id" if wanted.order_ids else "statuses", reason)
            run = start_import(webstore, wanted, Trigger.MANUAL, current_user)
        except FilterError as error:
            field = {"webstore": "webstore", "order_id": "order_id", "statuses": "statuses"}
            getattr(form, field.get(error.field, "start_date")).errors.append(str(error))
        except QueueUnavailable as error:
            problem = str(error)
        else:
            if is_htmx():
                return render_panel(run)
            return redirect(url_for("imports.run", run_id=run.id))
    context = {
        "form": form,
        "counts": {},
        "problem": problem,
        "missing": missing,
        "chosen": webstore,
    }
    if problem:
        # The form was good but the queue is down: the form again, saying so.
        return page_or_fragment(
            "imports/new.html", "imports/_form.html", status_code=503, **context
        )
    return form_errors("imports/new.html", "imports/_form.html", **context)


def render_panel(run: SyncRun):
    entries = queries.new_entries(run.id, 0)
    return render_template(
        "imports/_panel.html",
        run=run,
        entries=entries,
        last_id=last_entry_id(entries, 0),
        beside=queries.busy_runs_beside(run),
        left_to_retry=left_to_retry(run),
    )


def last_entry_id(rows, default: int) -> int:
    return rows[-1][0].id if rows else default


def left_to_retry(run: SyncRun) -> bool:
    """Whether a retry of an ended run would take any order (one not imported since)."""
    return RunStatus(run.status).finished and anything_left_to_retry(run)


@bp.app_template_global("on_run_page")
def on_run_page(run: SyncRun) -> bool:
    """Whether the page shown is ``run``'s own page: this request's, or for an htmx request
    (a poll, a retry) the page it was made from."""
    page = request.headers.get("HX-Current-URL", "") if is_htmx() else request.url
    return urlsplit(page).path == url_for("imports.run", run_id=run.id)


@bp.app_template_global("status_shown")
def status_shown(run: SyncRun, beside) -> str:
    """A short token of what a run's status shows: its status (queued, running), progress,
    counts, reason and the runs beside it. The poll answers 204 only while the page's token
    is the run's, so that a run that starts shows "running" at the next poll, not when its
    first order is settled."""
    shown = (
        run.status,
        run.store_total,
        run.settled,
        run.failed,
        run.changed,
        run.imported,
        run.skipped,
        run.reason,
        tuple((other.id, other.status) for other in beside or ()),
    )
    return hashlib.blake2s(repr(shown).encode(), digest_size=8).hexdigest()


@bp.get("/runs/<id:run_id>/poll")
def poll(run_id: int):
    """The run's new entries and its status: 204 while neither has changed since the page's
    (``seen``), HTTP 286 once the run has ended, to stop the polling."""
    run = db.get_or_404(SyncRun, run_id)
    after = int_arg("after") or 0
    reap_if_dead(run)
    entries = queries.new_entries(run.id, after)
    finished = RunStatus(run.status).finished
    beside = queries.busy_runs_beside(run)
    if not entries and not finished and request.args.get("seen") == status_shown(run, beside):
        return "", 204
    body = render_template(
        "imports/_poll.html",
        run=run,
        entries=entries,
        last_id=last_entry_id(entries, after),
        beside=beside,
        left_to_retry=left_to_retry(run),
    )
    # More entries than one answer holds: keep polling even if the run has ended.
    done = finished and len(entries) < queries.ENTRIES_PER_POLL
    return body, 286 if done else 200


@bp.get("/")
def results():
    wanted = queries.RunFilter.from_args(request.args)
    rows, has_next = queries.list_runs(wanted)
    context = {
        "rows": rows,
        "has_next": has_next,
        "wanted": wanted,
        "webstores": queries.webstores(),
        "triggers": TRIGGER_FILTER,
        "statuses": list(RunStatus),
    }
    if is_htmx() and request.headers.get("HX-Target") == "runs-table":
        return render_template("imports/_runs_table.html", **context)
    context["health"] = webstore_health()
    context["chart"] = bar_chart(queries.daily_totals())
    context["writebacks"] = queries.recent_writebacks()
    return render_template("imports/results.html", **context)


@bp.get("/runs/<id:run_id>")
def run(run_id: int):
    """A run's page: what needs a person first (failures, then changes), then what was
    imported; skipped orders counted by reason, listed on demand. ``?outcome=`` lists one
    outcome, paged."""
    run = db.get_or_404(SyncRun, run_id)
    reap_if_dead(run)
    outcome = request.args.get("outcome", "")
    outcome = outcome if outcome in set(Outcome) else ""
    context = {
        "run": run,
        "filters": ImportFilters.from_json(run.filters),
        "outcome": outcome,
        "left_to_retry": left_to_retry(run),
        "beside": [],
        "last_id": 0,
    }
    if not RunStatus(run.status).finished:
        context["panel"] = True
        context["entries"] = queries.new_entries(run.id, 0)
        context["last_id"] = last_entry_id(context["entries"], 0)
        context["beside"] = queries.busy_runs_beside(run)
        return render_template("imports/run.html", **context)
    if outcome:
        rows, has_next = queries.run_entries(run.id, outcome, int_arg("after") or 0)
        sections = [Section(Outcome(outcome), rows, has_next, queries.imported_since(run, rows))]
    else:
        sections = lead_sections(run)
    context["sections"] = sections
    context["skips"] = skip_summary(run) if outcome in ("", Outcome.SKIPPED) else {}
    return render_template("imports/run.html", **context)


@dataclass
class Section:
    """One outcome's entries on a run's page: a page of them, and whether more follow."""

    outcome: Outcome
    rows: list
    has_next: bool
    imported_since: dict[int, int]


# What needs a person comes first; skipped orders are only counted, by reason.
LEAD_OUTCOMES = (Outcome.FAILED, Outcome.CHANGED, Outcome.IMPORTED)
LEAD_ROWS = 50


def lead_sections(run: SyncRun) -> list[Section]:
    sections = []
    for outcome in LEAD_OUTCOMES:
        if getattr(run, outcome.value):
            rows, has_next = queries.run_entries(run.id, outcome, limit=LEAD_ROWS)
            sections.append(Section(outcome, rows, has_next, queries.imported_since(run, rows)))
    return sections


@bp.post("/runs/<id:run_id>/retry")
@staff_required
def retry(run_id: int):
    run = db.get_or_404(SyncRun, run_id)
    try:
        retry_run = retry_failed(run, current_user)
    except (NothingToRetry, QueueUnavailable) as error:
        if is_htmx():
            return render_template("imports/_notice.html", message=str(error))
        flash(str(error), "error")
        return redirect(url_for("imports.run", run_id=run.id))
    if is_htmx():
        return render_panel(retry_run)
    return redirect(url_for("imports.run", run_id=retry_run.id))


@bp.get("/runs/<id:run_id>/entries.csv")
def export(run_id: int):
    run = db.get_or_404(SyncRun, run_id)
    columns = [
        "entry",
        "webstore_order_id",
        "webstore_order_number",
        "outcome",
        "message",
        "sales_order",
        "customers_created",
        "items_created",
        "logged_at",
    ]
    entries = keyset_rows(
        sa.select(SyncLogEntry.__table__).where(SyncLogEntry.run_id == run.id), SyncLogEntry.id
    )
    rows = (
        [
            entry.id,
            entry.woo_order_id,
            entry.woo_order_number,
            entry.outcome.value,
            entry.message,
            entry.sales_order_number or "",
            entry.customers_created,
            entry.items_created,
            entry.created_at.isoformat(),
        ]
        for entry in entries
    )
    return csv_download(f"import-run-{run.id}-{run.webstore.code}.csv", columns, rows)


@bp.app_template_filter("duration")
def duration(value) -> str:
    if value is None:
        return ""
    seconds = int(value.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"


@bp.app_template_filter("skip_kind")
def skip_kind_filter(kind: str) -> str:
    return skip_kind_label(kind)


# Import Results' filter of runs by what started them.
TRIGGER_FILTER = [
    (Trigger.MANUAL, "Manual import"),
    (Trigger.AUTOMATIC, "Automatic sync"),
    (Trigger.WEBHOOK, "Webhook"),
    (Trigger.COMMAND, "Command line"),
    (Trigger.RETRY, "Retry of failed orders"),
]


@bp.app_template_filter("trigger")
def describe_trigger(run: SyncRun) -> Markup:
    """What started a run, in words: who, which command, or which run it follows."""
    by = f" by {run.requested_by.username}" if run.requested_by else ""
    if run.trigger == Trigger.RETRY:
        # The run retried may have been deleted since.
        text = (
            f"Retry of the failed orders of {{run}}{by}"
            if run.retry_of_id
            else f"Retry of failed orders{by}"
        )
    elif run.trigger == Trigger.MANUAL:
        text = f"Manual import{by}"
    elif run.trigger == Trigger.WEBHOOK:
        text = "Webhook from the store"
    elif run.trigger == Trigger.COMMAND:
        synced = ImportFilters.from_json(run.filters).incremental
        text = f"Command line: flask {'sync-webstore' if synced else 'import-orders'}"
    elif run.requested_by:
        text = f"Automatic sync, started with Sync now{by}"
    else:
        text = "Automatic sync, by the scheduler"
    if run.trigger != Trigger.RETRY and run.retry_of_id:
        text += f"; attempt {run.attempt}, going on where {{run}} stopped"
    if "{run}" not in text:
        return Markup(escape(text))
    link = Markup('<a href="{}">run {}</a>').format(
        url_for("imports.run", run_id=run.retry_of_id), run.retry_of_id
    )
    return escape(text).replace("{run}", link)


@bp.app_template_global("filters_of")
def filters_of(run: SyncRun) -> str:
    return ImportFilters.from_json(run.filters).describe()

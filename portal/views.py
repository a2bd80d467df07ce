"""What the list pages' views share: the arguments that place a page, and the pages of a
webstore's mappings."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import mappings
from portal.actions import Refused
from portal.converters import MAX_BIGINT, page_number, whole_number
from portal.htmx import form_errors, page_or_fragment
from portal.models import Webstore

# Query parameters that place a page of a list, dropped when anything else changes.
PAGING = ("after", "before", "page")


def int_arg(name: str, high: int = MAX_BIGINT) -> int | None:
    """A whole-number query argument (an id or a keyset position), or None if it is not one."""
    return whole_number(request.args.get(name), 0, high)


def page_arg() -> int:
    return page_number(request.args.get("page"))


def page_position() -> dict:
    """Where the request places a keyset-paged list: ``after``, ``before`` and ``page``."""
    return {"after": int_arg("after"), "before": int_arg("before"), "page": page_arg()}


def list_args(keep_page: bool = False, **changes) -> dict:
    """The request's arguments, changed as given, without those placing the page unless
    ``keep_page``."""
    args = {k: v for k, v in request.args.items() if keep_page or k not in PAGING}
    args.update(changes)
    return args


def page_url(endpoint: str, keep_page: bool = False, **changes) -> str:
    """A list's URL with the current arguments, changed as given; empty ones left out."""
    args = list_args(keep_page, **changes)
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})


def chosen_webstore(stores: list[Webstore]) -> Webstore | None:
    """The webstore of ``?webstore=CODE``; the only one where there is one and none is named."""
    code = request.args.get("webstore", "").strip().upper()
    if not code:
        return stores[0] if len(stores) == 1 else None
    for store in stores:
        if store.code == code:
            return store
    abort(404, f"There is no webstore with code {code}.")


@dataclass(frozen=True)
class MappingPages:
    """A kind of webstore mapping (customers, products) as its pages show it."""

    endpoint: str  # of the page, e.g. "items.mappings"
    template: str  # the page; the table is its "_mappings_table.html" beside it
    what: str  # "product", "customer"
    form: type
    list_page: Callable  # (webstore, after=, before=, page=) -> Page
    map: Callable  # (webstore, form) -> message; raises Refused naming a field
    unmap: Callable  # (webstore, mapping_id) -> message

    def table_template(self) -> str:
        return self.template.rsplit("/", 1)[0] + "/_mappings_table.html"


def mapping_page(kind: MappingPages):
    """GET: a webstore's mappings of one kind; POST (staff): map one."""
    stores = mappings.webstores()
    webstore = chosen_webstore(stores)
    can_edit = current_user.has_role("staff")
    form = kind.form() if can_edit else None
    if request.method == "POST":
        if not can_edit:
            abort(403, f"This needs the staff role; you are signed in as {current_user.role}.")
        if webstore is None:
            abort(404, f"Choose the webstore whose {kind.what} to map.")
        if form.validate_on_submit():
            try:
                message = kind.map(webstore, form)
            except Refused as refused:
                form[refused.field].errors.append(str(refused))
            else:
                flash(message, "success")
                return redirect(url_for(kind.endpoint, webstore=webstore.code), 303)
    page = None
    if webstore is not None:
        page = kind.list_page(webstore, **page_position())
    context = {
        "webstores": stores,
        "webstore": webstore,
        "page": page,
        "form": form,
        "mappings_url": lambda keep_page=False, **changes: page_url(
            kind.endpoint, keep_page, **changes
        ),
    }
    if request.method == "POST":
        return form_errors(kind.template, **context)
    if webstore is None:
        return render_template(kind.template, **context)
    # The tidy URL for the address bar, rather than every empty field of the form.
    push_url = context["mappings_url"](keep_page=True)
    return page_or_fragment(kind.template, kind.table_template(), push_url, **context)


def unmap(kind: MappingPages, mapping_id: int):
    """POST (staff): remove one of a webstore's mappings."""
    webstore = chosen_webstore(mappings.webstores())
    if webstore is None:
        abort(404, f"Choose the webstore whose {kind.what} to unmap.")
    flash(kind.unmap(webstore, mapping_id), "success")
    return redirect(url_for(kind.endpoint, webstore=webstore.code), 303)

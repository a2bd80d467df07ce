"""Import Webstore Orders and Import Results."""

import re

from flask import Blueprint, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from portal.models import Role

bp = Blueprint("imports", __name__, url_prefix="/imports")

# Messages name the setting to change as "Setup > Webstores > CODE", and the pages where
# staff fix a missing record by their paths in brackets.
SETUP_PLACE = re.compile(r"Setup &gt; Webstores &gt; [A-Z0-9_-]+")
STAFF_PAGE = re.compile(
    r"\((/(?:(?:items|customers)/mappings\?webstore=[A-Z0-9_-]+|customers/new))\)"
)


@bp.app_template_filter("entry_message")
def entry_message(entry) -> Markup:
    """A log entry's message, escaped; the places it names are links for those who may
    act there."""
    message = str(escape(entry.message or ""))
    if current_user.has_role(Role.STAFF):
        message = STAFF_PAGE.sub(
            lambda m: f'(<a href="{staff_href(entry, m[1])}">{m[1]}</a>)', message
        )
    if entry.webstore_id is not None and current_user.has_role(Role.ADMIN):
        href = escape(url_for("setup.edit_webstore", webstore_id=entry.webstore_id))
        message = SETUP_PLACE.sub(lambda m: f'<a href="{href}">{m[0]}</a>', message)
    return Markup(message)


def staff_href(entry, path: str) -> str:
    """Where a page named in a message links: a new customer's form is filled from the
    order the entry is about (portal/customers/prefill.py)."""
    if path == "/customers/new" and entry.woo_order_id:
        path = url_for("customers.edit", webstore_id=entry.webstore_id, order_id=entry.woo_order_id)
    return str(escape(path))


from portal.imports import routes  # noqa: E402, F401

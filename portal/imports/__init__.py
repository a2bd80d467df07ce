"""Import Webstore Orders and Import Results."""

import re

from flask import Blueprint, url_for
from flask_login import current_user
from markupsafe import Markup, escape

from portal.models import Role

bp = Blueprint("imports", __name__, url_prefix="/imports")

# Messages name the setting to change as "Setup > Webstores > CODE".
SETUP_PLACE = re.compile(r"Setup &gt; Webstores &gt; [A-Z0-9_-]+")


@bp.app_template_filter("entry_message")
def entry_message(entry) -> Markup:
    """A log entry's message, escaped; where it names its webstore's setup, a link there
    for those who may change it."""
    message = escape(entry.message or "")
    if entry.webstore_id is None or not current_user.has_role(Role.ADMIN):
        return message
    href = escape(url_for("setup.edit_webstore", webstore_id=entry.webstore_id))
    return Markup(SETUP_PLACE.sub(lambda m: f'<a href="{href}">{m[0]}</a>', str(message)))


from portal.imports import routes  # noqa: E402, F401

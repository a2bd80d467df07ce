"""Import Webstore Orders and Import Results."""

from flask import Blueprint

bp = Blueprint("imports", __name__, url_prefix="/imports")

from portal.imports import routes  # noqa: E402, F401

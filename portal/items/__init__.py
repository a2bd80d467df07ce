"""Items: the ERP items, their webstore product mappings and sales lines."""

from flask import Blueprint

bp = Blueprint("items", __name__, url_prefix="/items")

from portal.items import routes  # noqa: E402, F401

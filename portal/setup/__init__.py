"""Setup (admin): webstores, customer and item templates, users."""

from flask import Blueprint

bp = Blueprint("setup", __name__, url_prefix="/setup")

from portal.setup import routes  # noqa: E402, F401

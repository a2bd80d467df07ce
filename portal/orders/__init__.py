"""Webstore Sales Orders: the sales orders that imports created."""

from flask import Blueprint

bp = Blueprint("orders", __name__)

from portal.orders import routes  # noqa: E402, F401

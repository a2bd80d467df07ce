"""Customers: the ERP customers, their webstore mappings and sales orders."""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from portal.customers import routes  # noqa: E402, F401

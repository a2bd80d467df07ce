"""Accounting setup: the ERP's payment and shipment methods, shipping agents, VAT codes,
G/L accounts and currency exchange rates, which webstore mappings and documents name."""

from flask import Blueprint

bp = Blueprint("accounting", __name__, url_prefix="/accounting")

from portal.accounting import routes  # noqa: E402, F401

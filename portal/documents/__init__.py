"""Posted documents: Posted Sales Invoices and Posted Credit Memos (lists and pages), and the
VAT report their VAT entries add up to."""

from flask import Blueprint

bp = Blueprint("documents", __name__)

from portal.documents import routes  # noqa: E402, F401

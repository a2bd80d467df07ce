"""Sales credit memos: the list, a memo's page, posting, the CSV export."""

from flask import Blueprint

bp = Blueprint("credit_memos", __name__, url_prefix="/credit-memos")

from portal.credit_memos import routes  # noqa: E402, F401

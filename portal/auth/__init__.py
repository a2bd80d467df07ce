"""Sign-in, sign-out, and the rule that every page but a few needs a signed-in user."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from portal.auth import routes  # noqa: E402, F401
from portal.auth.login import dummy_hash  # noqa: E402

# Made once when the app is built, so that not even the first unknown name takes longer.
bp.record_once(lambda state: dummy_hash())

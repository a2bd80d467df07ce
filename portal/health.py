"""``/healthz``: is the database answering, is Redis answering.

Anyone may ask (a load balancer or a monitor has no session), so the answer names only
what fails; hosts, ports and driver errors are for signed-in admins and the log.
"""

import logging

import sqlalchemy as sa
from flask import Blueprint, g, jsonify
from flask_login import current_user
from redis.exceptions import RedisError

from portal import db, login_manager
from portal.models import Role
from portal.queue import redis_connection

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def database_health() -> str:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return "ok"
    except sa.exc.SQLAlchemyError as error:
        db.session.rollback()
        return f"error: {error.__class__.__name__}: {getattr(error, 'orig', error)}"


def redis_health() -> str:
    try:
        redis_connection().ping()
        return "ok"
    except RedisError as error:
        return f"error: {error.__class__.__name__}: {error}"


@bp.get("/healthz")
def healthz():
    checks = {"database": database_health(), "redis": redis_health()}
    failing = [name for name, result in checks.items() if result != "ok"]
    for name in failing:
        log.warning("healthz: %s is failing: %s", name, checks[name])
    answer = {"status": "failing", "failing": failing} if failing else {"status": "ok"}
    if checks["database"] != "ok":
        # Who asks is known only from the database: while it is down, everyone is anonymous
        # (set here, so that nothing later in the request tries to load the user).
        g._login_user = login_manager.anonymous_user()
    elif asked_by_an_admin():
        answer.update(checks)
    return jsonify(answer), 503 if failing else 200


def asked_by_an_admin() -> bool:
    return current_user.is_authenticated and current_user.has_role(Role.ADMIN)

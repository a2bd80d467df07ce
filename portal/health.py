"""``/healthz``: is the database answering, is Redis answering."""

import sqlalchemy as sa
from flask import Blueprint, jsonify
from redis.exceptions import RedisError

from portal import db
from portal.queue import redis_connection

bp = Blueprint("health", __name__)


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
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503

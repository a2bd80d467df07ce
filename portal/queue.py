"""The Redis connection and the RQ queues that import jobs go through: webhook runs on a
queue of their own, which workers take from first, so that a webhook's order does not wait
behind bulk work (automatic syncs, audits, write-backs)."""

from flask import current_app, g
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue


def redis_connection() -> Redis:
    if "redis" not in g:
        g.redis = Redis.from_url(
            current_app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2
        )
    return g.redis


def import_queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=redis_connection())


def webhook_queue() -> Queue:
    return Queue(current_app.config["RQ_WEBHOOK_QUEUE"], connection=redis_connection())


def worker_queues() -> list[Queue]:
    """What a worker takes from, first to last."""
    return [webhook_queue(), import_queue()]


def queue_available() -> bool:
    """Whether Redis answers, so that pages can say imports cannot be queued right now."""
    try:
        return bool(redis_connection().ping())
    except RedisError:
        return False

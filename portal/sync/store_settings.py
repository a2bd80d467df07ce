"""What a run must know of the store before it reads orders, from its system status: how it
keeps them (HPOS or legacy posts) and its money (currency, decimals, separators). Asked once
a day and by Test connection, kept on the webstore. Beside them, how many requests at once
the store takes best, as the last run found out (``portal.woo.limit``)."""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from portal import db
from portal.models import Webstore
from portal.models.base import utcnow
from portal.woo.client import StoreMoney, WooClient
from portal.woo.errors import WooError
from portal.woo.limit import AdaptiveLimit, FixedLimit

log = logging.getLogger(__name__)

# How often the store's system status (order storage, decimals) is asked again.
STORE_SETTINGS_EVERY = timedelta(days=1)


def store_settings(webstore: Webstore, client: WooClient) -> str | None:
    """How the store keeps its orders ("hpos" or "posts"), as its system status says; asked
    once a day, kept on the webstore together with its currency and decimals."""
    checked = webstore.order_storage_checked_at
    if checked is not None and utcnow() - checked <= STORE_SETTINGS_EVERY:
        return webstore.order_storage
    try:
        settings = client.store_settings()
    except WooError:
        # Asked again next run; the listing itself will say what is wrong.
        return webstore.order_storage
    keep_store_settings(webstore, settings.order_storage, settings.money)
    db.session.commit()
    return settings.order_storage


def keep_store_settings(webstore: Webstore, storage: str | None, money: StoreMoney | None):
    """Keep what the store said of itself; a change of its decimals is noted with its time.
    What it did not say is kept as it was. The caller commits."""
    values = {"order_storage_checked_at": utcnow()}
    if storage is not None:
        values["order_storage"] = storage
    if money is not None:
        values.update(
            (name, value)
            for name, value in (
                ("currency", money.currency),
                ("price_decimals", money.decimals),
                ("thousand_separator", money.thousand_separator),
                ("decimal_separator", money.decimal_separator),
            )
            if value is not None
        )
        was = webstore.price_decimals
        if money.decimals is not None and was is not None and money.decimals != was:
            values["previous_price_decimals"] = was
            values["price_decimals_changed_at"] = values["order_storage_checked_at"]
    db.session.execute(sa.update(Webstore).where(Webstore.id == webstore.id).values(values))


def store_limit(webstore: Webstore) -> AdaptiveLimit:
    """A run's limit of store requests at once: adaptive from what the last run learnt
    (else ``IMPORT_CONCURRENCY``), up to ``IMPORT_CONCURRENCY_MAX``; fixed at
    ``IMPORT_CONCURRENCY`` where ``IMPORT_CONCURRENCY_ADAPTIVE`` is off."""
    config = current_app.config
    start = max(1, config.get("IMPORT_CONCURRENCY", 2))
    if not config.get("IMPORT_CONCURRENCY_ADAPTIVE", True):
        return FixedLimit(start)
    highest = max(1, config.get("IMPORT_CONCURRENCY_MAX", 8))
    return AdaptiveLimit(start=webstore.store_concurrency or start, highest=highest)


def keep_store_limit(webstore_id: int, limit: AdaptiveLimit) -> None:
    """Keep what the run learnt, where it learnt anything, for the next to start from."""
    if isinstance(limit, FixedLimit) or not limit.history:
        return
    # Each window's decision, for whoever wonders why a run asked the store what it did.
    log.info("webstore %s: requests at once, window by window: %s", webstore_id, limit.history)
    db.session.execute(
        sa.update(Webstore)
        .where(Webstore.id == webstore_id)
        .values(store_concurrency=limit.current)
    )
    db.session.commit()

"""The DEMO webstore: the sandbox store, set up so that a new user can import at once."""

import sqlalchemy as sa

from portal import db
from portal.models import CustomerTemplate, ItemTemplate, Webstore
from portal.setup.items import no_product_item, shipping_item


def seed_demo_webstore(base_url: str, consumer_key: str, consumer_secret: str) -> Webstore:
    """Create or refresh the DEMO webstore and the items its setup charges to."""
    webstore = db.session.scalar(sa.select(Webstore).where(Webstore.code == "DEMO"))
    if webstore is None:
        # Write-back off: the sandbox forgets what was written to it when it restarts, and
        # posted orders would then warn of changes nobody made (README: The store hears back).
        webstore = Webstore(code="DEMO", name="Demo store (sandbox)", writeback_enabled=False)
        db.session.add(webstore)
    webstore.base_url = base_url.rstrip("/")
    webstore.consumer_key = consumer_key
    webstore.consumer_secret = consumer_secret
    webstore.verify_tls = True
    webstore.default_customer_template = db.session.scalar(
        sa.select(CustomerTemplate).where(CustomerTemplate.code == "DEFAULT")
    )
    webstore.default_item_template = db.session.scalar(
        sa.select(ItemTemplate).where(ItemTemplate.code == "DEFAULT")
    )
    if webstore.shipping_charge_item is None:
        webstore.shipping_charge_item = shipping_item()
    if webstore.no_product_item is None:
        webstore.no_product_item = no_product_item()
    db.session.commit()
    return webstore


def demo_state() -> str | None:
    """The DEMO webstore in a sentence for the start-up box; None where there is none."""
    webstore = db.session.scalar(sa.select(Webstore).where(Webstore.code == "DEMO"))
    if webstore is None:
        return None
    if webstore.auto_sync:
        return f"DEMO syncs automatically every {webstore.sync_interval_minutes} min"
    return "DEMO: import by hand, or turn automatic sync on in Setup > Webstores > DEMO"

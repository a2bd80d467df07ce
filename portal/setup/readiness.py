"""What a webstore's setup still lacks before its orders can be imported.

The setup page lists it, the setup list marks the webstore, and the import page says the
same and starts nothing: without these, every order (or every order with shipping) would
fail for the same reason, one log entry each.
"""

from dataclasses import dataclass

from portal.crypto import SecretUnreadable
from portal.models import CustomerHandling, Webstore


@dataclass(frozen=True)
class Missing:
    """One thing the setup lacks: ``field`` is the setup form's field that fixes it."""

    field: str
    message: str


def missing_for_import(webstore: Webstore) -> list[Missing]:
    missing = []
    if not _secret_readable(webstore):
        missing.append(
            Missing(
                "consumer_secret",
                "The consumer secret cannot be read (the portal's secrets key changed, or it "
                "was never saved): enter it again.",
            )
        )
    if webstore.shipping_charge_item_id is None:
        missing.append(
            Missing(
                "shipping_charge_item_no",
                "No shipping charge item: every order with shipping would fail. Choose an "
                "item, or create the standard shipping item.",
            )
        )
    if webstore.no_product_item_id is None:
        missing.append(
            Missing(
                "no_product_item_no",
                "No item for lines without a product: orders with a deleted product or a "
                "line added by hand would fail. Choose an item, or create the standard one.",
            )
        )
    if (
        webstore.customer_handling == CustomerHandling.DEFAULT_GUEST
        and webstore.guest_customer_id is None
    ):
        missing.append(
            Missing(
                "customer_handling",
                "Guest orders go to a default guest customer, but there is none yet: save "
                "the setup again to create it.",
            )
        )
    return missing


def _secret_readable(webstore: Webstore) -> bool:
    try:
        return bool(webstore.consumer_secret)
    except SecretUnreadable:
        return False

"""What an import would do, asked of the store before it starts: cheap, one attempt each."""

from dataclasses import dataclass

from portal.crypto import SecretUnreadable
from portal.imports.queries import already_imported
from portal.models import Webstore
from portal.sync.filters import ImportFilters
from portal.sync.runs import client_for
from portal.woo.errors import WooError

QUICK = {"timeout": 5, "max_retries": 0}


@dataclass
class Preview:
    matching: int | None = None
    imported: int | None = None
    error: str | None = None


def preview(webstore: Webstore, filters: ImportFilters) -> Preview:
    """How many orders match the filters in the store, and how many of them are imported."""
    try:
        with client_for(webstore, **QUICK) as client:
            matching = client.count_orders(filters.order_query())
    except (WooError, SecretUnreadable) as error:
        return Preview(error=str(error))
    return Preview(matching=matching, imported=min(matching, already_imported(webstore, filters)))


def status_counts(webstore: Webstore) -> dict[str, int]:
    """The store's own count of orders per status; empty where the store will not say."""
    try:
        with client_for(webstore, **QUICK) as client:
            return {total.slug: total.total for total in client.order_status_totals()}
    except (WooError, SecretUnreadable):
        return {}


def nothing_to_import(webstore: Webstore, filters: ImportFilters) -> str | None:
    """Why an import with these filters would import nothing, where the store says no order
    matches; None where some do, or where the store cannot say now (the run will ask again,
    with retries)."""
    result = preview(webstore, filters)
    if result.matching != 0:
        return None
    if filters.order_ids:
        ids = ", ".join(map(str, filters.order_ids))
        return (
            f"The store has no order {ids} of the statuses chosen ({filters.describe()}). "
            "Check the Order ID, or check more statuses. Nothing was started."
        )
    return (
        f"No order in the store matches these filters ({filters.describe()}). Check more "
        "statuses or choose an earlier start date. Nothing was started."
    )

"""A new customer filled in from the webstore order that failed for want of one.

A failure "Customer ... has no ERP customer" links to the customer form with the failed
order's webstore and id; the form reads that order from the store and is filled with what
the import would have created (name, email, phone, billing address, and the template values
for its country), for a person to check and save before retrying the order.
"""

from dataclasses import dataclass, field

from portal import db
from portal.converters import MAX_BIGINT, positive_id, whole_number
from portal.crypto import SecretUnreadable
from portal.customers.forms import EDITABLE
from portal.models import Webstore
from portal.sync.customers import CustomerBook, normalize_email
from portal.sync.runs import client_for
from portal.woo.errors import WooError

# A person waits for the form: one try, soon given up.
QUICK = {"timeout": 10, "max_retries": 0}


@dataclass
class Prefill:
    webstore: Webstore
    woo_order_id: int
    # The form's values, empty where the order could not be read.
    values: dict = field(default_factory=dict)
    # Why the order could not be read, in the store's words.
    error: str | None = None


def from_args(args) -> Prefill | None:
    """The prefill that ``?webstore_id=&order_id=`` asks for; None where they name no
    webstore or no order id."""
    webstore_id = positive_id(args.get("webstore_id"))
    order_id = whole_number(args.get("order_id"), 1, MAX_BIGINT)
    if webstore_id is None or order_id is None:
        return None
    webstore = db.session.get(Webstore, webstore_id)
    if webstore is None:
        return None
    return from_store_order(webstore, order_id)


def from_store_order(webstore: Webstore, woo_order_id: int) -> Prefill:
    try:
        with client_for(webstore, **QUICK) as client:
            order = client.get_order(woo_order_id)
    except (WooError, SecretUnreadable) as error:
        return Prefill(webstore, woo_order_id, error=str(error))
    values = CustomerBook(webstore).new_customer_values(order, normalize_email(order.billing.email))
    return Prefill(webstore, woo_order_id, {k: v for k, v in values.items() if k in EDITABLE})

"""The store's records. Orders are compact and immutable: a change swaps in a new one.

An order keeps only what decides its JSON (lines, quantities, coupon, shipping method,
dates, who bought); amounts, taxes, notes and item metadata are worked out when it is
rendered, so that 100,000 orders stay cheap to make and to hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from .catalog import Coupon
from .taxes import TaxRate

STATUSES = {
    "pending": "Pending payment",
    "processing": "Processing",
    "on-hold": "On hold",
    "completed": "Completed",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
    "failed": "Failed",
    "checkout-draft": "Draft",
}
PAID_STATUSES = ("processing", "completed", "refunded")
# Stock is taken when an order is paid or put on hold, and given back when it is cancelled.
STOCK_REDUCED_STATUSES = ("processing", "on-hold", "completed", "refunded")

PAYMENT_METHODS = {
    "bacs": "Direct bank transfer",
    "cod": "Cash on delivery",
    "cheque": "Check payments",
    "stripe": "Credit Card (Stripe)",
    "ppcp-gateway": "PayPal",
}
SHIPPING_METHODS = {
    "flat_rate": ("Flat rate", 500),
    "free_shipping": ("Free shipping", 0),
    "local_pickup": ("Local pickup", 0),
}

# Each order owns a block of item ids: up to 8 lines, then shipping, fee, coupon and tax.
ITEM_BLOCK = 16
MAX_LINES = 8
SHIPPING_ITEM, FEE_ITEM, COUPON_ITEM, TAX_ITEM = 9, 10, 11, 12
# A refund's items take a block of ids from its own id, far past any order's items.
REFUND_ITEMS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class Contact:
    first_name: str
    last_name: str
    company: str
    address_1: str
    address_2: str
    city: str
    state: str
    postcode: str
    country: str
    email: str
    phone: str


@dataclass(frozen=True, slots=True)
class Customer:
    """A registered WordPress user with the customer role."""

    id: int
    username: str
    created: int
    contact: Contact


class Line(NamedTuple):
    item_id: int
    product_id: int  # a simple product or a variation; 0 for a line without a product
    quantity: int
    # A line without a product (deleted since, or added by hand) keeps its own name and
    # unit price (in the units of the catalog's money), as WooCommerce keeps them on the item.
    name: str = ""
    price: int = 0
    # The quantity the line's amounts were worked out for, when the REST API changed the
    # quantity alone: WooCommerce then keeps the line's subtotal and total (0: ``quantity``).
    billed: int = 0
    # The line's subtotal and total without tax, in millionths, where the REST API set them.
    amounts: tuple[int, int] | None = None

    @property
    def billed_quantity(self) -> int:
        return self.billed or self.quantity


class Trash(NamedTuple):
    """What the trash keeps of an order to restore it, shown in its ``meta_data``."""

    status: str  # before the trash: ``_wp_trash_meta_status``
    moment: int  # ``_wp_trash_meta_time``
    # On posts storage WordPress trashes the post: its slug waits in ``_wp_desired_post_slug``
    # until it leaves the trash, and its notes (comments) go to the trash with it, their ids
    # in ``_wp_trash_meta_comments_status``; they stay there when a PUT takes the order out.
    slug: str = ""
    notes: tuple[int, ...] = ()


class Fee(NamedTuple):
    name: str
    total: int  # in the order's units (cents, yen, fils), before tax; negative: a discount
    amount: str  # WooCommerce's raw "amount" meta: "" for fees added through the API


class Note(NamedTuple):
    """An order note: WooCommerce's own (status changes, stock) or one added through the API."""

    id: int
    created: int  # a Unix time
    text: str
    customer_note: bool = False


class RefundLine(NamedTuple):
    """An order item a refund gives back: a product line, the shipping or the fee.

    Amounts are in the order's units (cents, yen, fils) and positive, as the refund form
    takes them; the refund's JSON shows them negative, as WooCommerce stores them.
    """

    refunded_item_id: int  # the order's item
    quantity: int  # 0 for shipping and fees, or an amount refunded on a line
    total: int  # without tax
    tax: int  # at the order's rate
    restocked: int = 0  # how many went back into stock with this refund


class Refund(NamedTuple):
    id: int
    amount: int  # the order's units, with tax: the refund's truth
    reason: str
    created: int
    lines: tuple[RefundLine, ...] = ()  # none for a refund by amount
    refunded_payment: bool = False  # given back through the payment gateway

    def item_id(self, position: int) -> int:
        """The refund's own item ids (its lines, then its tax line), from its id: out of the
        range of orders' items, as WooCommerce gives a refund's items later ids."""
        return REFUND_ITEMS + self.id * ITEM_BLOCK + position


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    slot: int  # its place in the store; item, meta and note ids derive from it
    status: str
    created: int  # Unix times, UTC
    modified: int
    paid: int | None
    completed: int | None
    customer_id: int  # 0 for a guest
    contact: Contact
    lines: tuple[Line, ...]
    shipping: str | None  # a SHIPPING_METHODS key
    fee: Fee | None
    coupon: Coupon | None
    prices_include_tax: bool
    payment_method: str
    created_via: str
    customer_note: str
    order_key: str
    gift_message: str
    refunds: tuple[Refund, ...]
    stock_reduced: bool
    version: str
    transaction_id: str = ""
    currency: str = "USD"
    tax_rate: TaxRate | None = None  # the rate of the billing country when it was made
    at_subtotal: bool = False  # made while the store rounded tax at subtotal level
    # Set when the order went to the trash, and kept when a PUT takes it out.
    trashed: Trash | None = None
    # Where the order goes, once a shipping address of its own was set through the REST
    # API; until then the billing address, without its phone.
    ship_to: Contact | None = None
    # The store's number of decimals when the order was made: its amounts were rounded to
    # that unit (and its fee and refunds are counted in it), whatever the store says now.
    decimals: int = 2

    @property
    def first_item_id(self) -> int:
        return self.slot * ITEM_BLOCK + 1


@dataclass(frozen=True, slots=True)
class Webhook:
    id: int
    name: str
    topic: str  # "order.created", "order.updated", ...
    delivery_url: str
    secret: str
    created: int
    modified: int | None = None
    status: str = "active"  # "active", "paused" or "disabled"
    #: Failed deliveries in a row; WooCommerce keeps it but the REST API does not show it.
    failures: int = 0
    #: Set through the control API: delivered to any URL, loopback and odd ports included.
    any_url: bool = False


class WooError(Exception):
    """A refusal in WooCommerce's words: ``{"code", "message", "data": {"status"}}``."""

    def __init__(self, code: str, message: str, status: int = 400, **data: object) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.data},
        }

"""A store order's state as the connector keeps it: what a change is measured against.

A sales order keeps three of them (``SalesOrder.imported_state``, ``store_state``,
``reviewed_state``, as JSON): what it was built from, the store's latest as read, and the
last one a person reviewed. ``portal.sync.changes`` says what a difference between two of
them means.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from portal.sync.money import round_to_unit, unit_written
from portal.woo.orders import WooAddress, WooOrder

# The status of an order the store no longer has (deleted for good): no store status.
DELETED = "deleted"
# Store statuses that mean the order will not be shipped: its sales order is cancelled.
CANCELLED_IN_STORE = frozenset({"cancelled", "trash", DELETED})
# Store statuses a write-back never overwrites: the store decided otherwise.
CLOSED_IN_STORE = CANCELLED_IN_STORE | {"refunded", "failed"}
# The sales order's columns that hold the shipping address, in ``ship_to``'s order.
SHIP_TO = (
    "ship_to_name",
    "ship_to_company",
    "ship_to_address",
    "ship_to_address_2",
    "ship_to_city",
    "ship_to_county",
    "ship_to_post_code",
    "ship_to_country",
)


@dataclass(frozen=True)
class LineState:
    id: int
    name: str
    sku: str
    quantity: Decimal
    # (product id, variation id) and the unit price after discounts: None where not known
    # (orders imported before states were kept have only what their sales lines say).
    product: tuple[int, int] | None = None
    price: Decimal | None = None

    def as_json(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "sku": self.sku,
            "quantity": str(self.quantity),
            "product": None if self.product is None else list(self.product),
            "price": None if self.price is None else str(self.price),
        }


@dataclass(frozen=True)
class OrderState:
    status: str
    total: Decimal
    refunded: Decimal
    ship_to: tuple[str, ...]
    customer_note: str
    lines: tuple[LineState, ...] = ()
    # When the store last changed it: said in warnings, never compared.
    modified_at: datetime | None = field(default=None, compare=False)

    @classmethod
    def of(cls, order: WooOrder) -> "OrderState":
        unit = unit_written(order.total)
        return cls(
            status=order.status[:20],
            total=order.total,
            refunded=round_to_unit(order.refunded_total, unit),
            ship_to=ship_to(order.shipping),
            customer_note=order.customer_note,
            lines=tuple(
                LineState(
                    id=line.id,
                    name=line.name[:200],
                    sku=line.sku[:100],
                    quantity=Decimal(line.quantity),
                    product=(line.product_id, line.variation_id) if line.has_product else (0, 0),
                    # In the store's unit: a REST edit of a quantity leaves an unrounded
                    # unit price (its total over the new quantity).
                    price=round_to_unit(line.price, unit),
                )
                for line in order.line_items
            ),
            modified_at=order.date_modified,
        )

    def gone(self, noticed_at: datetime) -> "OrderState":
        """This order once the store has deleted it for good."""
        return replace(self, status=DELETED, modified_at=noticed_at)

    def with_status(self, status: str, modified_at: datetime | None) -> "OrderState":
        return replace(self, status=status[:20], modified_at=modified_at)

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED_IN_STORE

    def as_json(self) -> dict:
        # Field by field: ``dataclasses.asdict`` deep-copies, and an import writes two
        # states for every order.
        return {
            "status": self.status,
            "total": str(self.total),
            "refunded": str(self.refunded),
            "ship_to": list(self.ship_to),
            "customer_note": self.customer_note,
            "lines": [line.as_json() for line in self.lines],
            "modified_at": self.modified_at.isoformat() if self.modified_at else None,
        }

    @classmethod
    def from_json(cls, data: dict) -> "OrderState":
        return cls(
            status=data["status"],
            total=Decimal(data["total"]),
            refunded=Decimal(data["refunded"]),
            ship_to=tuple(data["ship_to"]),
            customer_note=data["customer_note"],
            lines=tuple(
                LineState(
                    id=line["id"],
                    name=line["name"],
                    sku=line["sku"],
                    quantity=Decimal(line["quantity"]),
                    product=tuple(line["product"]) if line["product"] is not None else None,
                    price=None if line["price"] is None else Decimal(line["price"]),
                )
                for line in data["lines"]
            ),
            modified_at=datetime.fromisoformat(data["modified_at"])
            if data.get("modified_at")
            else None,
        )


def ship_to(address: WooAddress) -> tuple[str, ...]:
    """An address as the sales order keeps it (its ship_to_* columns)."""
    return (
        (address.full_name or address.company)[:200],
        address.company[:200],
        address.address_1[:200],
        address.address_2[:200],
        address.city[:100],
        address.state[:100],
        address.postcode[:20],
        address.country[:2],
    )


def describe_address(address: tuple[str, ...]) -> str:
    name, _, street, _, city, _, post_code, country = address
    return ", ".join(part for part in (name, street, post_code, city, country) if part)

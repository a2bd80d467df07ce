"""What an import reads of its webstore, taken once when the run starts."""

from dataclasses import dataclass
from types import SimpleNamespace

from portal.models import CustomerHandling, Webstore
from portal.sync.accounting import AccountingSetup


def plain(record, *names: str) -> SimpleNamespace | None:
    """A record's values as a plain object: reading it never asks the database again."""
    if record is None:
        return None
    return SimpleNamespace(**{name: getattr(record, name) for name in names})


TEMPLATE_FIELDS = {
    "customer": ("code", "payment_terms", "customer_posting_group", "tax_area", "currency"),
    "item": ("code", "item_type", "base_unit_of_measure", "item_category", "tax_group"),
}


@dataclass(frozen=True)
class WebstoreSetup:
    """What an import reads of its webstore, taken once when the run starts.

    Every commit expires the session's records, and reading an expired webstore, its
    templates and its shipping item again costs a few queries per batch; a run keeps the
    setup it started with instead.
    """

    id: int
    code: str
    #: The store's currency and decimals, as it last said (None: not known).
    currency: str | None
    price_decimals: int | None
    customer_handling: CustomerHandling
    guest_customer_id: int | None
    auto_create_customers: bool
    auto_create_items: bool
    shipping_charge_item: SimpleNamespace | None
    no_product_item: SimpleNamespace | None
    default_customer_template: SimpleNamespace | None
    default_item_template: SimpleNamespace | None
    country_templates: dict[str, SimpleNamespace]
    #: Its mappings and charge setup, and the company's currency.
    accounting: AccountingSetup

    @classmethod
    def of(cls, webstore: Webstore) -> "WebstoreSetup":
        customer_fields = TEMPLATE_FIELDS["customer"]
        return cls(
            id=webstore.id,
            code=webstore.code,
            currency=webstore.currency,
            price_decimals=webstore.price_decimals,
            customer_handling=webstore.customer_handling,
            guest_customer_id=webstore.guest_customer_id,
            auto_create_customers=webstore.auto_create_customers,
            auto_create_items=webstore.auto_create_items,
            shipping_charge_item=plain(webstore.shipping_charge_item, "id", "sku"),
            no_product_item=plain(webstore.no_product_item, "id", "number"),
            default_customer_template=plain(webstore.default_customer_template, *customer_fields),
            default_item_template=plain(webstore.default_item_template, *TEMPLATE_FIELDS["item"]),
            country_templates={
                row.country: plain(row.customer_template, *customer_fields)
                for row in webstore.country_templates
            },
            accounting=AccountingSetup.of(webstore),
        )

    def customer_template_for(self, country: str) -> SimpleNamespace | None:
        """As ``Webstore.customer_template_for``."""
        return self.country_templates.get(country.upper(), self.default_customer_template)

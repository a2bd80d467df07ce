"""Finding the ERP customer of a webstore order, and planning the ones to create.

Registered customers are found by their webstore customer id mapping, else by email;
guests by email, or all go to the webstore's default guest customer, as the setup says. A
guest without an email (phone and POS orders) is never matched by that empty email: it
gets a customer of its own, or the default guest customer where customers are not created.
Lookups are cached for the whole run; new customers are only planned here and created by
the batch writer, so that an order that fails creates no customer.
"""

from dataclasses import dataclass, field

from portal.models import CustomerHandling, Webstore
from portal.sync.failures import OrderFailure
from portal.sync.lookups import CUSTOMER_MAPPINGS, CUSTOMERS_BY_EMAIL
from portal.woo.orders import WooOrder


def normalize_email(email: str | None) -> str | None:
    email = (email or "").strip().lower()
    return email or None


@dataclass(eq=False)
class NewCustomer:
    """A customer to create for an order of this batch."""

    email: str | None
    values: dict
    number: str | None = None
    id: int | None = None


@dataclass(eq=False)
class CustomerChoice:
    """The customer an order gets: an existing id or a new one, and a mapping to add."""

    customer_id: int | None = None
    new: NewCustomer | None = None
    map_woo_customer_id: int | None = None

    def resolved_id(self) -> int:
        return self.customer_id if self.customer_id is not None else self.new.id


@dataclass
class CustomerBook:
    # The webstore's setup as the run started (``WebstoreSetup``), or the webstore.
    webstore: Webstore
    by_woo_id: dict[int, int] = field(default_factory=dict)
    by_email: dict[str, int] = field(default_factory=dict)

    def lookups(self, orders: list[WooOrder]) -> list[tuple]:
        """The statements finding the customers these orders need that the cache lacks: by
        the webstore's mappings, and by email (their rows go to ``found``)."""
        woo_ids, emails = self.missing(orders)
        return [
            (CUSTOMER_MAPPINGS, {"webstore": self.webstore.id, "ids": sorted(woo_ids)}),
            (CUSTOMERS_BY_EMAIL, {"emails": sorted(emails)}),
        ]

    def missing(self, orders: list[WooOrder]) -> tuple[set[int], set[str]]:
        """The webstore customer ids and emails of these orders that the cache lacks."""
        woo_ids = {o.customer_id for o in orders if o.customer_id} - self.by_woo_id.keys()
        emails = {normalize_email(o.billing.email) for o in orders} - {None}
        return woo_ids, emails - self.by_email.keys()

    def found(self, by_woo_id, by_email) -> None:
        """Cache what ``lookups`` found: (webstore customer id, customer id) and (email,
        customer id) rows."""
        self.by_woo_id.update(dict(by_woo_id))
        self.by_email.update(dict(by_email))

    def choose(self, order: WooOrder, planned: dict[str, NewCustomer]) -> CustomerChoice:
        """The customer for ``order``; raises OrderFailure saying what to set up."""
        email = normalize_email(order.billing.email)
        if not order.is_guest:
            if order.customer_id in self.by_woo_id:
                return CustomerChoice(customer_id=self.by_woo_id[order.customer_id])
            choice = self._by_email(order, email, planned)
            choice.map_woo_customer_id = order.customer_id
            return choice
        if self.webstore.customer_handling == CustomerHandling.DEFAULT_GUEST:
            return self._guest_customer()
        if email is None:
            return self._without_email(order)
        return self._by_email(order, email, planned)

    def _guest_customer(self) -> CustomerChoice:
        if self.webstore.guest_customer_id is None:
            raise OrderFailure(
                f"Webstore {self.webstore.code} sends guest orders to a default guest customer, "
                f"but none is set up: save its setup (Setup > Webstores > {self.webstore.code}) "
                "again to create one, then retry."
            )
        return CustomerChoice(customer_id=self.webstore.guest_customer_id)

    def _without_email(self, order: WooOrder) -> CustomerChoice:
        """A guest without an email (a phone or POS order) gets a customer of its own from
        its name and address: an empty email matches nobody."""
        if self.webstore.auto_create_customers:
            return CustomerChoice(new=NewCustomer(None, self.new_customer_values(order, None)))
        if self.webstore.guest_customer_id is not None:
            return CustomerChoice(customer_id=self.webstore.guest_customer_id)
        raise OrderFailure(
            f"Guest order {order.number} ({describe_customer(order)}) has no email, and "
            f"webstore {self.webstore.code} neither creates missing customers nor has a "
            f"default guest customer: in its setup (Setup > Webstores > {self.webstore.code}), "
            "turn 'Create missing customers' on, or choose 'Use one default guest customer' "
            "for guest orders, then retry."
        )

    def _by_email(self, order: WooOrder, email, planned) -> CustomerChoice:
        if email and email in self.by_email:
            return CustomerChoice(customer_id=self.by_email[email])
        if email and email in planned:
            return CustomerChoice(new=planned[email])
        if not self.webstore.auto_create_customers:
            raise OrderFailure(self._no_customer(order))
        new = NewCustomer(email=email, values=self.new_customer_values(order, email))
        if email:
            planned[email] = new
        return CustomerChoice(new=new)

    def _no_customer(self, order: WooOrder) -> str:
        code = self.webstore.code
        fix = "create the customer with that email on Customers (/customers/new)"
        if not order.is_guest:
            fix = (
                f"map webstore customer {order.customer_id} to an existing customer on "
                f"Customers > Mappings (/customers/mappings?webstore={code}), or {fix}"
            )
        return (
            f"Customer {describe_customer(order)} has no ERP customer and 'Create missing "
            f"customers' is off in the setup of {code}: {fix}, or turn 'Create missing "
            "customers' on; then retry."
        )

    def new_customer_values(self, order: WooOrder, email: str | None) -> dict:
        billing = order.billing
        template = self.webstore.customer_template_for(billing.country or "")
        return {
            "name": (billing.full_name or billing.company or email or f"Order {order.number}")[
                :200
            ],
            "email": email,
            "phone": billing.phone[:50],
            "company": billing.company[:200],
            "address": billing.address_1[:200],
            "address_2": billing.address_2[:200],
            "city": billing.city[:100],
            "county": billing.state[:100],
            "post_code": billing.postcode[:20],
            "country": billing.country[:2],
            "template_code": template.code if template else "",
            "payment_terms": template.payment_terms if template else "",
            "customer_posting_group": template.customer_posting_group if template else "",
            "tax_area": template.tax_area if template else "",
            "currency": (template.currency if template else "") or "",
            "vat_number": order.vat_number,
            "created_by_sync": True,
        }

    def remember(self, choices: list[CustomerChoice]) -> None:
        """After a commit: cache what the batch created and mapped."""
        for choice in choices:
            customer_id = choice.resolved_id()
            if choice.new and choice.new.email:
                self.by_email[choice.new.email] = customer_id
            if choice.map_woo_customer_id:
                self.by_woo_id[choice.map_woo_customer_id] = customer_id


def describe_customer(order: WooOrder) -> str:
    billing = order.billing
    who = billing.full_name or billing.company or "(no name)"
    if billing.email:
        who += f" <{billing.email.strip()}>"
    if not order.is_guest:
        who += f" (webstore customer {order.customer_id})"
    else:
        who += " (guest)"
    return who

"""The ERP setup tables the accounting pages list and edit, each described once: its model,
the column people know a record by, its form, what its list shows and searches, and where
its records are used. The pages, views and actions are the same for all five."""

from collections.abc import Callable
from dataclasses import dataclass

from portal.accounting import forms, usage
from portal.accounting.values import plain
from portal.models import GLAccount, PaymentMethod, ShipmentMethod, ShippingAgent, VatCode


@dataclass(frozen=True)
class Column:
    label: str
    text: Callable  # (record) -> str
    numeric: bool = False


@dataclass(frozen=True)
class SetupTable:
    name: str  # the list's endpoint: "payment_methods"
    singular: str  # the form's endpoint: "payment_method"
    title: str  # "Payment Methods"
    noun: str  # "payment method"
    intro: str
    model: type
    key: str  # the column people know a record by, unique: "code" or "number"
    form: type
    columns: tuple[Column, ...]
    # Searched by part: the key, and these columns of text (in any case, with or without
    # accents).
    search_text: tuple[str, ...]
    uses: Callable  # (record) -> [where it is used, in words]

    @property
    def slug(self) -> str:
        return self.name.replace("_", "-")

    @property
    def endpoint(self) -> str:
        return f"accounting.{self.name}"

    def key_of(self, record) -> str:
        return getattr(record, self.key)

    def label(self, record) -> str:
        """The record as messages name it: "VAT code DE19"."""
        return f"{self.noun[0].upper()}{self.noun[1:]} {self.key_of(record)}"


def attribute(name: str) -> Callable:
    return lambda record: getattr(record, name)


CODE = Column("Code", attribute("code"))
DESCRIPTION = Column("Description", attribute("description"))

PAYMENT_METHODS = SetupTable(
    name="payment_methods",
    singular="payment_method",
    title="Payment Methods",
    noun="payment method",
    intro="How customers pay. Each webstore maps its payment gateways to these "
    "(Setup > Webstores > CODE > Payment methods); a sales order carries the code.",
    model=PaymentMethod,
    key="code",
    form=forms.PaymentMethodForm,
    columns=(CODE, DESCRIPTION),
    search_text=("description",),
    uses=usage.payment_method_uses,
)

SHIPMENT_METHODS = SetupTable(
    name="shipment_methods",
    singular="shipment_method",
    title="Shipment Methods",
    noun="shipment method",
    intro="The terms goods travel on (EXW, DAP…). Each webstore maps its shipping methods "
    "to one (Setup > Webstores > CODE > Shipping methods); a sales order carries the code.",
    model=ShipmentMethod,
    key="code",
    form=forms.ShipmentMethodForm,
    columns=(CODE, DESCRIPTION),
    search_text=("description",),
    uses=usage.shipment_method_uses,
)

SHIPPING_AGENTS = SetupTable(
    name="shipping_agents",
    singular="shipping_agent",
    title="Shipping Agents",
    noun="shipping agent",
    intro="Who carries the goods. Each webstore maps its shipping methods to one (Setup > "
    "Webstores > CODE > Shipping methods); the carrier offered when posting is its name.",
    model=ShippingAgent,
    key="code",
    form=forms.ShippingAgentForm,
    columns=(
        CODE,
        Column("Name", attribute("name")),
        Column("Tracking URL", attribute("tracking_url")),
    ),
    search_text=("name",),
    uses=usage.shipping_agent_uses,
)

VAT_CODES = SetupTable(
    name="vat_codes",
    singular="vat_code",
    title="VAT Codes",
    noun="VAT code",
    intro="The VAT codes sales lines carry, with their rates. Each webstore maps its tax rates "
    "to these (Setup > Webstores > CODE > Tax rates); the VAT report adds up per code.",
    model=VatCode,
    key="code",
    form=forms.VatCodeForm,
    columns=(CODE, Column("Rate %", lambda vat: plain(vat.rate), numeric=True), DESCRIPTION),
    search_text=("description",),
    uses=usage.vat_code_uses,
)

GL_ACCOUNTS = SetupTable(
    name="gl_accounts",
    singular="gl_account",
    title="G/L Accounts",
    noun="G/L account",
    intro="The chart of accounts that a webstore may book shipping and fees on instead of "
    "an item (Setup > Webstores > CODE).",
    model=GLAccount,
    key="number",
    form=forms.GLAccountForm,
    columns=(
        Column("No.", attribute("number")),
        Column("Name", attribute("name")),
        Column("Type", lambda account: forms.ACCOUNT_TYPE_LABELS[account.account_type]),
    ),
    search_text=("name",),
    uses=usage.gl_account_uses,
)

TABLES = (PAYMENT_METHODS, SHIPMENT_METHODS, SHIPPING_AGENTS, VAT_CODES, GL_ACCOUNTS)

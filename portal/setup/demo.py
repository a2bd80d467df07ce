"""The DEMO webstore: the sandbox store, set up so that a new user can import at once, with
every order booked: its gateways, shipping methods and tax rates mapped to the ERP's codes.

Safe to run again (``flask seed-demo`` runs at every ``make run``): what exists is kept as
it is, so a code or mapping someone changed stays changed; only what is missing is made.
"""

from decimal import Decimal

import sqlalchemy as sa

from portal import db
from portal.models import (
    AccountType,
    CustomerTemplate,
    GLAccount,
    ItemTemplate,
    PaymentMethod,
    ShipmentMethod,
    ShippingAgent,
    VatCode,
    Webstore,
    WebstorePaymentMapping,
    WebstoreShippingMapping,
    WebstoreTaxMapping,
)
from portal.standard_items import no_product_item, shipping_item

# The sandbox's payment gateways (sandbox/checkout.py), each with its ERP payment method.
PAYMENTS = {
    "bacs": ("Direct bank transfer", "BANK", "Bank transfer"),
    "cod": ("Cash on delivery", "COD", "Cash on delivery"),
    "cheque": ("Check payments", "CHEQUE", "Cheque"),
    "stripe": ("Credit Card (Stripe)", "CARD", "Credit card"),
    "ppcp-gateway": ("PayPal", "PAYPAL", "PayPal"),
}
SHIPMENT_METHODS = {"DELIVERY": "Delivered to the customer", "PICKUP": "Collected by the customer"}
SHIPPING_AGENTS = {
    "DHL": ("DHL Express", "https://www.dhl.com/en/express/tracking.html?AWB=%s"),
    "UPS": ("UPS", "https://www.ups.com/track?tracknum=%s"),
}
# Its shipping method types, each mapped in every zone (instance ""): shipment method, agent.
SHIPPING = {
    "flat_rate": ("Flat rate", "DELIVERY", "DHL"),
    "free_shipping": ("Free shipping", "DELIVERY", "UPS"),
    "local_pickup": ("Local pickup", "PICKUP", None),
    "pickup_location": ("Local pickup", "PICKUP", None),
}
# VAT codes: one for each of the sandbox's tax rates (sandbox/taxes.py, REAL), untaxed
# lines and EU reverse charge.
VAT_CODES = {
    "US10": ("10", "US sales tax 10 %"),
    "DE19": ("19", "Germany, VAT 19 %"),
    "GB20": ("20", "United Kingdom, VAT 20 %"),
    "NL21": ("21", "Netherlands, VAT 21 %"),
    "NOVAT": ("0", "No VAT (untaxed)"),
    "RC": ("0", "EU reverse charge: the customer accounts for the VAT"),
}
# The sandbox's tax rates by id, each with its VAT code.
TAXES = {1: ("US Tax", "US10"), 2: ("MwSt", "DE19"), 3: ("VAT", "GB20"), 4: ("BTW", "NL21")}
GL_ACCOUNTS = {
    "4400": "Shipping charges",
    "4500": "Fees and surcharges",
    "4900": "Sales discounts",
}


def seed_demo_webstore(base_url: str, consumer_key: str, consumer_secret: str) -> Webstore:
    """Create or refresh the DEMO webstore, the items its setup charges to, and the ERP
    codes and mappings its orders are booked with."""
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
    db.session.flush()
    seed_demo_accounting(webstore)
    db.session.commit()
    return webstore


def seed_demo_accounting(webstore: Webstore) -> None:
    """The ERP's codes and the webstore's mappings of every gateway, shipping method and
    tax rate of the sandbox; the untaxed and reverse-charge codes; accounts to book on."""
    methods = {
        code: kept(PaymentMethod, code=code, description=description)
        for _, code, description in PAYMENTS.values()
    }
    shipments = {
        code: kept(ShipmentMethod, code=code, description=description)
        for code, description in SHIPMENT_METHODS.items()
    }
    agents = {
        code: kept(ShippingAgent, code=code, name=name, tracking_url=url)
        for code, (name, url) in SHIPPING_AGENTS.items()
    }
    vat_codes = {
        code: kept(VatCode, code=code, rate=Decimal(rate), description=description)
        for code, (rate, description) in VAT_CODES.items()
    }
    for number, name in GL_ACCOUNTS.items():
        kept(GLAccount, number=number, name=name, account_type=AccountType.INCOME_STATEMENT)
    mapped = {"webstore_id": webstore.id}
    for gateway, (title, code, _) in PAYMENTS.items():
        kept(
            WebstorePaymentMapping,
            **mapped,
            gateway_id=gateway,
            title=title,
            payment_method=methods[code],
        )
    for method, (title, shipment, agent) in SHIPPING.items():
        kept(
            WebstoreShippingMapping,
            **mapped,
            method_id=method,
            instance_id="",
            title=title,
            shipment_method=shipments[shipment],
            shipping_agent=agents.get(agent),
        )
    for rate_id, (title, code) in TAXES.items():
        kept(WebstoreTaxMapping, **mapped, rate_id=rate_id, title=title, vat_code=vat_codes[code])
    if webstore.untaxed_vat_code is None:
        webstore.untaxed_vat_code = vat_codes["NOVAT"]
    if webstore.reverse_charge_vat_code is None:
        webstore.reverse_charge_vat_code = vat_codes["RC"]


# The columns that identify a row of each model seeded; the rest are the row's values.
KEYS = {
    PaymentMethod: ("code",),
    ShipmentMethod: ("code",),
    ShippingAgent: ("code",),
    VatCode: ("code",),
    GLAccount: ("number",),
    WebstorePaymentMapping: ("webstore_id", "gateway_id"),
    WebstoreShippingMapping: ("webstore_id", "method_id", "instance_id"),
    WebstoreTaxMapping: ("webstore_id", "rate_id"),
}


def kept(model, **values):
    """The row of ``model`` with the key among ``values``, as it is; made from ``values``
    where there is none."""
    key = {name: values[name] for name in KEYS[model]}
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        row = model(**values)
        db.session.add(row)
        db.session.flush()
    return row


def demo_state() -> str | None:
    """The DEMO webstore in a sentence for the start-up box; None where there is none."""
    webstore = db.session.scalar(sa.select(Webstore).where(Webstore.code == "DEMO"))
    if webstore is None:
        return None
    if webstore.auto_sync:
        return f"DEMO syncs automatically every {webstore.sync_interval_minutes} min"
    return "DEMO: import by hand, or turn automatic sync on in Setup > Webstores > DEMO"

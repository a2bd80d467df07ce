"""Creating and changing webstores from the setup form."""

import sqlalchemy as sa

from portal import db
from portal.alerts import alert_addresses
from portal.crypto import SecretUnreadable
from portal.models import (
    Customer,
    CustomerHandling,
    CustomerTemplate,
    GLAccount,
    Item,
    ItemTemplate,
    ItemType,
    PaymentMethod,
    VatCode,
    Webstore,
    WebstoreCountryTemplate,
)
from portal.setup.forms import WebstoreForm, parse_country_templates
from portal.standard_items import SHIPPING_SKU, no_product_item
from portal.sync.numbers import next_number
from portal.sync.runs import client_for
from portal.sync.store_settings import keep_store_settings
from portal.woo.client import StoreStatus


class SetupError(ValueError):
    """A value the form accepted but the data refuses; names the field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def list_webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


def apply_form(webstore: Webstore, form: WebstoreForm) -> None:
    """Copy the form onto the webstore and commit, or raise SetupError."""
    code_taken = db.session.scalar(
        sa.select(Webstore.id).where(Webstore.code == form.code.data, Webstore.id != webstore.id)
    )
    if code_taken:
        raise SetupError("code", f"A webstore with code {form.code.data} exists already.")
    start_date_changed = webstore.order_start_date != form.order_start_date.data
    refunds_start_changed = webstore.refunds_start_date != form.refunds_start_date.data
    for name in (
        "code",
        "name",
        "base_url",
        "consumer_key",
        "api_version",
        "timeout_seconds",
        "verify_tls",
        "auto_sync",
        "sync_interval_minutes",
        "order_start_date",
        "refunds_start_date",
        "default_customer_template_id",
        "default_item_template_id",
        "auto_create_customers",
        "auto_create_items",
        "apply_store_changes",
        "writeback_enabled",
        "status_on_post",
        "status_on_release",
        "status_on_archive",
        "alert_failed_runs",
        "alert_lag_minutes",
        *ACCOUNTING_FIELDS,
    ):
        setattr(webstore, name, getattr(form, name).data)
    webstore.alert_emails = "\n".join(alert_addresses(form.alert_emails.data))
    webstore.alert_webhook_url = form.alert_webhook_url.data or ""
    webstore.notes_to_customer = form.notes_to_customer.data == "customer"
    webstore.base_url = webstore.base_url.rstrip("/")
    webstore.customer_handling = CustomerHandling(form.customer_handling.data)
    webstore.default_status_filter = ",".join(form.default_status_filter.data)
    if form.consumer_secret.data:
        webstore.consumer_secret = form.consumer_secret.data
    if form.webhook_secret.data:
        webstore.webhook_secret = form.webhook_secret.data
    if start_date_changed:
        # A new start date means a new starting point for automatic sync.
        webstore.watermark = None
    if refunds_start_changed:
        # The refunds' own starting point, reset apart from the orders'.
        webstore.refunds_watermark = None
    webstore.shipping_charge_item = find_item(
        form.shipping_charge_item_no.data, "shipping_charge_item_no"
    )
    webstore.no_product_item = (
        find_item(form.no_product_item_no.data, "no_product_item_no") or no_product_item()
    )
    webstore.fee_item = find_item(form.fee_item_no.data, "fee_item_no")
    set_country_templates(webstore, parse_country_templates(form.country_templates.data))
    if webstore.customer_handling == CustomerHandling.DEFAULT_GUEST:
        ensure_guest_customer(webstore)
    db.session.add(webstore)
    db.session.commit()


# The accounting section's fields that are the webstore's columns as they stand.
ACCOUNTING_FIELDS = (
    "require_mappings",
    "default_payment_method_id",
    "untaxed_vat_code_id",
    "reverse_charge_vat_code_id",
    "shipping_booking",
    "shipping_account_id",
    "fee_booking",
    "fee_account_id",
    "negative_fee_booking",
    "negative_fee_account_id",
)


def find_item(number: str | None, field: str) -> Item | None:
    if not number:
        return None
    item = db.session.scalar(sa.select(Item).where(Item.number == number))
    if item is None:
        raise SetupError(field, f"There is no item {number}.")
    return item


def set_country_templates(webstore: Webstore, wanted: dict[str, str]) -> None:
    templates = {
        t.code: t
        for t in db.session.scalars(
            sa.select(CustomerTemplate).where(CustomerTemplate.code.in_(wanted.values()))
        )
    }
    rows = []
    for country, code in wanted.items():
        if code not in templates:
            raise SetupError("country_templates", f"There is no customer template {code}.")
        rows.append(WebstoreCountryTemplate(country=country, customer_template=templates[code]))
    webstore.country_templates = rows


def ensure_guest_customer(webstore: Webstore) -> None:
    """Give the webstore its default guest customer, made once."""
    if webstore.guest_customer is not None:
        return
    template = webstore.default_customer_template
    webstore.guest_customer = Customer(
        number=next_number("CUST"),
        name=f"{webstore.name} guest customer",
        template_code=template.code if template else "",
        payment_terms=template.payment_terms if template else "",
        customer_posting_group=template.customer_posting_group if template else "",
        tax_area=template.tax_area if template else "",
        currency=template.currency if template else "",
    )


def form_data(webstore: Webstore) -> dict:
    """What the edit form shows of a webstore: everything but its secrets."""
    return {
        "code": webstore.code,
        "name": webstore.name,
        "base_url": webstore.base_url,
        "consumer_key": webstore.consumer_key,
        "api_version": webstore.api_version,
        "timeout_seconds": webstore.timeout_seconds,
        "verify_tls": webstore.verify_tls,
        "auto_sync": webstore.auto_sync,
        "sync_interval_minutes": webstore.sync_interval_minutes,
        "default_status_filter": list(webstore.status_filter),
        "order_start_date": webstore.order_start_date,
        "refunds_start_date": webstore.refunds_start_date,
        "customer_handling": webstore.customer_handling.value,
        "default_customer_template_id": webstore.default_customer_template_id,
        "country_templates": "\n".join(
            f"{row.country} = {row.customer_template.code}" for row in webstore.country_templates
        ),
        "default_item_template_id": webstore.default_item_template_id,
        "auto_create_customers": webstore.auto_create_customers,
        "auto_create_items": webstore.auto_create_items,
        "shipping_charge_item_no": webstore.shipping_charge_item.number
        if webstore.shipping_charge_item
        else "",
        "no_product_item_no": webstore.no_product_item.number if webstore.no_product_item else "",
        "apply_store_changes": webstore.apply_store_changes,
        "writeback_enabled": webstore.writeback_enabled,
        "status_on_post": webstore.status_on_post,
        "status_on_release": webstore.status_on_release,
        "status_on_archive": webstore.status_on_archive,
        "notes_to_customer": "customer" if webstore.notes_to_customer else "private",
        "alert_emails": webstore.alert_emails,
        "alert_webhook_url": webstore.alert_webhook_url,
        "alert_failed_runs": webstore.alert_failed_runs,
        "alert_lag_minutes": webstore.alert_lag_minutes,
        "fee_item_no": webstore.fee_item.number if webstore.fee_item else "",
        **{name: getattr(webstore, name) for name in ACCOUNTING_FIELDS},
    }


def new_webstore_data() -> dict:
    """What a new webstore's form starts with beyond the form's defaults: the standard
    shipping item, where there is one."""
    shipping = db.session.scalar(sa.select(Item.number).where(Item.sku == SHIPPING_SKU))
    return {"shipping_charge_item_no": shipping or ""}


# The charge items the setup page offers to choose from: items that are not stock.
CHARGE_ITEMS_OFFERED = 200


def charge_item_choices() -> list[Item]:
    return list(
        db.session.scalars(
            sa.select(Item)
            .where(Item.item_type != ItemType.INVENTORY)
            .order_by(Item.number)
            .limit(CHARGE_ITEMS_OFFERED)
        )
    )


def form_choices() -> dict:
    """The records the webstore form's selects offer, as keyword arguments of the form."""
    return {
        "customer_templates": ordered(CustomerTemplate, CustomerTemplate.code),
        "item_templates": ordered(ItemTemplate, ItemTemplate.code),
        "payment_methods": ordered(PaymentMethod, PaymentMethod.code),
        "vat_codes": ordered(VatCode, VatCode.code),
        "gl_accounts": ordered(GLAccount, GLAccount.number),
    }


def ordered(model, key) -> list:
    return list(db.session.scalars(sa.select(model).order_by(key)))


def delete_webstore(webstore: Webstore) -> None:
    """Delete a webstore that has imported nothing; its sales orders would lose their source."""
    from portal.models import SalesOrder

    has_orders = db.session.scalar(
        sa.select(SalesOrder.id).where(SalesOrder.webstore_id == webstore.id).limit(1)
    )
    if has_orders:
        raise SetupError(
            "code",
            f"Webstore {webstore.code} has imported sales orders; turn its automatic sync "
            "off instead of deleting it.",
        )
    db.session.delete(webstore)
    db.session.commit()


# The fields of the webstore form that say how to reach the store (besides the secret).
CONNECTION_FIELDS = ("base_url", "consumer_key", "api_version", "timeout_seconds", "verify_tls")


def check_connection(webstore: Webstore, typed: WebstoreForm | None = None) -> StoreStatus:
    """Ask the store who it is, once: a person waits for the answer, so there are no retries.

    With ``typed``, the connection settings typed in the form are tried before they are saved
    (a blank secret there means the stored one, which the form allows only for the store URL
    it was entered for); the webstore itself is left untouched.
    Raises the client's :class:`~portal.woo.errors.WooError`, whose message names the reason,
    or :class:`~portal.crypto.SecretUnreadable`.
    """
    settings = webstore if typed is None else typed_connection(webstore, typed)
    with client_for(settings) as client:
        status = client.test_connection()
    if webstore.id is not None and (typed is None or not connection_changed(webstore, typed)):
        # The saved store answered: keep its currency and decimals (imports use them).
        keep_store_settings(webstore, status.order_storage, status.money)
        db.session.commit()
    return status


def typed_connection(webstore: Webstore, form: WebstoreForm) -> Webstore:
    """An unsaved webstore holding the connection settings typed in ``form``."""
    trial = Webstore(**{name: getattr(form, name).data for name in CONNECTION_FIELDS})
    trial.base_url = trial.base_url.rstrip("/")
    # A new webstore has no stored secret: the form demands one (creating=True).
    trial.consumer_secret = form.consumer_secret.data or webstore.consumer_secret
    return trial


def connection_errors(form: WebstoreForm) -> list[str]:
    """Validate only the connection fields of ``form``; each error names its field."""
    errors = []
    for name in (*CONNECTION_FIELDS, "consumer_secret"):
        field = form[name]
        # The form's own validate_<name> rules run only with the whole form: add them here.
        inline = getattr(type(form), f"validate_{name}", None)
        if not field.validate(form, extra_validators=[inline] if inline else ()):
            errors += [f"{field.label.text}: {error}" for error in field.errors]
    return errors


def connection_changed(webstore: Webstore, form: WebstoreForm) -> bool:
    """Whether the connection settings typed in ``form`` differ from the saved ones."""
    typed = {name: getattr(form, name).data for name in CONNECTION_FIELDS}
    typed["base_url"] = (typed["base_url"] or "").rstrip("/")
    if any(typed[name] != getattr(webstore, name) for name in CONNECTION_FIELDS):
        return True
    return bool(form.consumer_secret.data) and form.consumer_secret.data != _stored_secret(webstore)


def _stored_secret(webstore: Webstore) -> str | None:
    try:
        return webstore.consumer_secret
    except SecretUnreadable:
        return None

import re
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    URL,
    DataRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.alerts import bad_addresses, webhook_refusal
from portal.auth.login import MIN_PASSWORD_LENGTH
from portal.models import ChargeBooking, CustomerHandling, ItemType, Role
from portal.models.webstores import DEFAULT_STATUS_FILTER
from portal.standard_items import NO_PRODUCT_SKU
from portal.woo.orders import ORDER_STATUSES


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def strip(value):
    return value.strip() if isinstance(value, str) else value


def choices(values):
    return [SelectChoice(str(value), label) for value, label in values]


def optional_id(value):
    """A select's record id, or None for its blank choice ("None")."""
    return None if value in (None, "") else int(value)


def record_choices(records, blank: str = "None") -> list[SelectChoice]:
    """A blank choice, then each record by its id, as the record names itself."""
    return [SelectChoice("", blank)] + choices((r.id, str(r)) for r in records)


STATUS_CHOICES = choices((s, s.replace("-", " ").capitalize()) for s in ORDER_STATUSES)
HANDLING_CHOICES = choices(
    [
        (CustomerHandling.MAP_BY_EMAIL, "Map guests by email; create a customer per email"),
        (CustomerHandling.DEFAULT_GUEST, "Use one default guest customer for all guest orders"),
    ]
)
# What a sales order event may set its store order to: nothing, or a store status.
WRITEBACK_STATUS_CHOICES = choices(
    [("", "Nothing")]
    + [(s, s.replace("-", " ").capitalize()) for s in ("processing", "on-hold", "completed")]
)
SHIPPING_BOOKING_CHOICES = choices(
    [
        (ChargeBooking.ITEM, "On the shipping charge item"),
        (ChargeBooking.ACCOUNT, "On a G/L account"),
    ]
)
FEE_BOOKING_CHOICES = choices(
    [(ChargeBooking.ITEM, "On the fee item"), (ChargeBooking.ACCOUNT, "On a G/L account")]
)
NEGATIVE_FEE_BOOKING_CHOICES = choices(
    [
        (ChargeBooking.DISCOUNT, "As a discount line (no item, no account)"),
        (ChargeBooking.ACCOUNT, "On a G/L account"),
    ]
)
# Each charge's account field: its booking field, which needs the account when it says
# "account", what the account is for, and the other way to book the charge.
CHARGE_ACCOUNTS = {
    "shipping_account_id": (
        "shipping_booking",
        "shipping is booked on",
        "book shipping on the shipping charge item",
    ),
    "fee_account_id": ("fee_booking", "fees are booked on", "book fees on the fee item"),
    "negative_fee_account_id": (
        "negative_fee_booking",
        "negative fees are booked on",
        "book negative fees as a discount",
    ),
}
COUNTRY_LINE = re.compile(r"^([A-Za-z]{2})\s*[=:]\s*(\S+)$")


def parse_country_templates(text: str) -> dict[str, str]:
    """``DE = EU-B2C`` lines into {"DE": "EU-B2C"}; raises ValueError naming a bad line."""
    result = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = COUNTRY_LINE.match(line)
        if not match:
            raise ValueError(f"Line {number} ({line!r}) is not of the form 'DE = TEMPLATE'.")
        result[match[1].upper()] = match[2].upper()
    return result


def site(url: str | None) -> str:
    """Where a URL's requests go: its scheme, host and port (the default port if none)."""
    parts = urlsplit(url or "")
    try:
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:  # a port that is not a number: the URL validator says so
        port = None
    return f"{parts.scheme}://{parts.hostname}:{port}"


def same_site(url: str | None, other: str | None) -> bool:
    return site(url) == site(other)


# The webstore form's field for each standard item the setup page creates in place.
CHARGE_ITEM_FIELDS = {"shipping": "shipping_charge_item_no", "no-product": "no_product_item_no"}


class WebstoreForm(FlaskForm):
    code = StringField(
        "Code",
        filters=[upper],
        validators=[
            DataRequired(),
            Regexp(
                r"^[A-Z0-9_-]{1,20}$",
                message="Use 1 to 20 of the characters A-Z, 0-9, - and _.",
            ),
        ],
    )
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=100)])
    base_url = StringField(
        "Store URL",
        filters=[strip],
        validators=[
            DataRequired(),
            URL(
                require_tld=False,
                message="Enter the store's address, e.g. https://shop.example.com",
            ),
            Regexp(r"^https?://", message="The address must start with http:// or https://"),
            Length(max=300),
        ],
    )
    consumer_key = StringField(
        "Consumer key", filters=[strip], validators=[DataRequired(), Length(max=200)]
    )
    consumer_secret = PasswordField(
        "Consumer secret",
        filters=[strip],
        description="Stored encrypted and never shown again. Leave blank to keep the current "
        "one; a store URL on another host, port or scheme needs it entered again.",
    )
    api_version = SelectField("API version", choices=choices([("wc/v3", "wc/v3")]))
    timeout_seconds = IntegerField(
        "Request timeout (seconds)", default=30, validators=[NumberRange(1, 300)]
    )
    verify_tls = BooleanField("Verify the store's TLS certificate", default=True)

    auto_sync = BooleanField("Synchronize orders automatically")
    sync_interval_minutes = IntegerField(
        "Sync interval (minutes)", default=15, validators=[NumberRange(1, 1440)]
    )
    default_status_filter = SelectMultipleField(
        "Default order status filter",
        choices=STATUS_CHOICES,
        default=DEFAULT_STATUS_FILTER.split(","),
        description="Processing and Completed are the paid orders. None selected: orders of "
        "any status (cancelled, failed and pending ones too).",
    )
    order_start_date = DateField("Order start date", validators=[Optional()])
    refunds_start_date = DateField(
        "Refunds start date",
        validators=[Optional()],
        description="Refunds made on or after this day become credit memos, after every "
        "automatic sync; apart from the orders' start date. Blank: refunds are imported by "
        "hand only (Import Webstore Refunds).",
    )
    customer_handling = SelectField("Guest orders", choices=HANDLING_CHOICES)
    default_customer_template_id = SelectField("Default customer template", coerce=int)
    country_templates = TextAreaField(
        "Customer template per billing country",
        description="One per line, e.g. DE = EU. Other countries take the default template.",
    )
    default_item_template_id = SelectField("Default item template", coerce=int)
    auto_create_customers = BooleanField("Create missing customers", default=True)
    auto_create_items = BooleanField("Create missing items", default=True)
    shipping_charge_item_no = StringField(
        "Shipping charge item no.",
        filters=[upper],
        validators=[Optional(), Length(max=20)],
        description="The item that shipping lines are charged to: a service item, e.g. "
        "the standard shipping item.",
    )
    no_product_item_no = StringField(
        "Item for lines without a product",
        filters=[upper],
        validators=[Optional(), Length(max=20)],
        description="Lines whose product was deleted, or that were added by hand in the "
        "store, are booked on this item with the store's name and prices. Leave blank for "
        f"the standard non-inventory item ({NO_PRODUCT_SKU}).",
    )
    apply_store_changes = BooleanField(
        "Apply store changes to open orders",
        description="A change the store makes to an imported order (a quantity, an "
        "address, a cancellation) updates its sales order at once while that is open, not "
        "released; otherwise the sales order shows a warning until someone reviews it.",
    )
    writeback_enabled = BooleanField("Update the webstore order", default=True)
    status_on_post = SelectField(
        "When a sales order is posted, set the store order to",
        choices=WRITEBACK_STATUS_CHOICES,
        default="completed",
    )
    status_on_release = SelectField(
        "When it is released, set it to", choices=WRITEBACK_STATUS_CHOICES, default=""
    )
    status_on_archive = SelectField(
        "When it is archived, set it to", choices=WRITEBACK_STATUS_CHOICES, default=""
    )
    notes_to_customer = SelectField(
        "Order note with the sales order number and tracking",
        choices=choices(
            [
                ("customer", "To the customer (emailed by the store)"),
                ("private", "Private (seen in the store's admin only)"),
            ]
        ),
        default="customer",
    )
    webhook_secret = PasswordField(
        "Webhook secret",
        filters=[strip],
        description="Stored encrypted and never shown again. Leave blank to keep the current one.",
    )
    require_mappings = BooleanField(
        "Fail orders whose payment gateway, shipping method or tax rate is not mapped",
        description="Off: such an order is imported all the same, and what is not mapped "
        "carries no code on it (no payment method, no shipment method or agent, no VAT "
        "code), for someone to put right by hand. On: it fails, naming the mapping page to "
        "fill in, and imports once mapped (retry it). A gateway with no mapping takes the "
        "default payment method either way, where one is chosen.",
    )
    default_payment_method_id = SelectField(
        "Default payment method",
        coerce=optional_id,
        description="For orders paid through a gateway that is not mapped.",
    )
    untaxed_vat_code_id = SelectField(
        "VAT for untaxed lines",
        coerce=optional_id,
        description="Lines the store charged no tax on carry this VAT code. None: they "
        "carry no VAT code.",
    )
    reverse_charge_vat_code_id = SelectField(
        "VAT for EU reverse charge",
        coerce=optional_id,
        description="An order from a business in the EU with a VAT number, and no tax, is "
        "booked on this VAT code, every line. None: it is booked as untaxed.",
    )
    shipping_booking = SelectField(
        "Book shipping", choices=SHIPPING_BOOKING_CHOICES, default=ChargeBooking.ITEM.value
    )
    shipping_account_id = SelectField("Shipping G/L account", coerce=optional_id)
    fee_booking = SelectField(
        "Book fees", choices=FEE_BOOKING_CHOICES, default=ChargeBooking.ITEM.value
    )
    fee_item_no = StringField(
        "Fee item no.",
        filters=[upper],
        validators=[Optional(), Length(max=20)],
        description="The item fees are booked on when booked on an item. Blank: fee lines "
        "carry no item, only the store's name and amount.",
    )
    fee_account_id = SelectField("Fee G/L account", coerce=optional_id)
    negative_fee_booking = SelectField(
        "Book negative fees",
        choices=NEGATIVE_FEE_BOOKING_CHOICES,
        default=ChargeBooking.DISCOUNT.value,
        description="A fee below zero is a discount the store gave (a loyalty discount, a "
        "plugin's rebate).",
    )
    negative_fee_account_id = SelectField("Negative fee G/L account", coerce=optional_id)
    alert_emails = TextAreaField(
        "Alert addresses",
        filters=[strip],
        validators=[Length(max=2000)],
        description="Who hears by e-mail when this webstore turns failing, and when it "
        "recovers: one address per line, or separated by commas.",
    )
    alert_webhook_url = StringField(
        "Alert webhook URL",
        filters=[strip],
        validators=[
            Optional(),
            URL(require_tld=False, message="Enter the webhook's address, e.g. https://hooks..."),
            Regexp(r"^https?://", message="The address must start with http:// or https://"),
            Length(max=500),
        ],
        description="A Slack or Microsoft Teams incoming webhook, or any address that takes a "
        'JSON POST of {"text": "..."}. Blank: none.',
    )
    alert_failed_runs = IntegerField(
        "Automatic runs failed in a row before alerting",
        default=3,
        validators=[NumberRange(1, 50, message="Between 1 and 50.")],
    )
    alert_lag_minutes = IntegerField(
        "Minutes behind before alerting",
        default=120,
        validators=[NumberRange(1, 10080, message="Between 1 and 10080 (a week).")],
        description="An order left waiting (failed, or missing by the audit), or automatic "
        "sync behind, this long makes the webstore failing.",
    )

    def __init__(
        self,
        *args,
        customer_templates=(),
        item_templates=(),
        payment_methods=(),
        vat_codes=(),
        gl_accounts=(),
        creating=True,
        secret_url: str | None = None,
        **kw,
    ):
        super().__init__(*args, **kw)
        self.creating = creating
        # The store URL the stored consumer secret was entered for: the only place it goes.
        self.secret_url = secret_url
        if creating:
            self.consumer_secret.description = "Stored encrypted and never shown again."
        self.default_customer_template_id.choices = choices(
            (t.id, str(t)) for t in customer_templates
        )
        self.default_item_template_id.choices = choices((t.id, str(t)) for t in item_templates)
        self.default_payment_method_id.choices = record_choices(payment_methods)
        self.untaxed_vat_code_id.choices = record_choices(vat_codes)
        self.reverse_charge_vat_code_id.choices = record_choices(vat_codes)
        for name in CHARGE_ACCOUNTS:
            self[name].choices = record_choices(gl_accounts)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        return self._charge_accounts_chosen() and valid

    def _charge_accounts_chosen(self) -> bool:
        """A charge booked on a G/L account needs the account: say so beside its field."""
        chosen = True
        for name, (booking, purpose, otherwise) in CHARGE_ACCOUNTS.items():
            field = self[name]
            if self[booking].data != ChargeBooking.ACCOUNT or field.data is not None:
                continue
            if field.errors:  # said already (not a valid choice)
                chosen = False
                continue
            chosen = False
            if len(field.choices) > 1:
                field.errors.append(f"Choose the G/L account {purpose}, or {otherwise}.")
            else:
                field.errors.append(
                    "There are no G/L accounts yet: add them under Accounting > G/L Accounts, "
                    f"or {otherwise}."
                )
        return chosen

    def validate_consumer_secret(self, field):
        if self.creating and not field.data:
            raise ValidationError("Enter the consumer secret the store gave you.")
        if (
            self.secret_url
            and not field.data
            and not same_site(self.base_url.data, self.secret_url)
        ):
            raise ValidationError(
                "The store URL has changed host, port or scheme: enter the consumer secret "
                f"again. The stored one is only sent to {site(self.secret_url)}."
            )

    def validate_alert_emails(self, field):
        if bad := bad_addresses(field.data):
            raise ValidationError(
                f"Not an e-mail address: {', '.join(bad)}. Write one address per line, or "
                "separate them by commas, e.g. orders@example.com."
            )

    def validate_alert_webhook_url(self, field):
        if field.data and not field.errors and (refusal := webhook_refusal(field.data)):
            raise ValidationError(refusal)

    def validate_country_templates(self, field):
        try:
            parse_country_templates(field.data)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class CustomerTemplateForm(FlaskForm):
    code = StringField(
        "Code",
        filters=[upper],
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9_-]{1,20}$", message="Use 1 to 20 of A-Z 0-9 - _."),
        ],
    )
    description = StringField("Description", filters=[strip], validators=[Length(max=100)])
    payment_terms = StringField("Payment terms", filters=[upper], validators=[Length(max=20)])
    customer_posting_group = StringField(
        "Customer posting group", filters=[upper], validators=[Length(max=20)]
    )
    tax_area = StringField("Tax area", filters=[upper], validators=[Length(max=20)])
    currency = StringField(
        "Currency",
        filters=[upper],
        validators=[Optional(), Regexp(r"^[A-Z]{3}$", message="A three-letter code, e.g. EUR.")],
    )


class ItemTemplateForm(FlaskForm):
    code = StringField(
        "Code",
        filters=[upper],
        validators=[
            DataRequired(),
            Regexp(r"^[A-Z0-9_-]{1,20}$", message="Use 1 to 20 of A-Z 0-9 - _."),
        ],
    )
    description = StringField("Description", filters=[strip], validators=[Length(max=100)])
    item_type = SelectField(
        "Type",
        choices=choices((t, t.replace("_", "-").capitalize()) for t in ItemType),
        default=ItemType.INVENTORY,
    )
    base_unit_of_measure = StringField(
        "Base unit of measure",
        filters=[upper],
        default="PCS",
        validators=[DataRequired(), Length(max=10)],
    )
    item_category = StringField("Item category", filters=[upper], validators=[Length(max=20)])
    tax_group = StringField("Tax group", filters=[upper], validators=[Length(max=20)])


class UserForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[strip],
        validators=[
            DataRequired(),
            Regexp(r"^[\w.@-]{1,64}$", message="Letters, digits, . @ - _ only."),
        ],
    )
    role = SelectField("Role", choices=choices((r, r.capitalize()) for r in Role))
    password = PasswordField(
        "Password",
        description=f"At least {MIN_PASSWORD_LENGTH} characters. Leave blank to keep the "
        "current one.",
        validators=[
            Optional(),
            Length(
                min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
            ),
        ],
    )

"""The customer form that staff fill in, the admins' merge form, the mapping form, and the
list's search."""

from flask_wtf import FlaskForm
from wtforms import Form, IntegerField, SearchField, StringField
from wtforms.fields import EmailField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from portal.sync.customers import normalize_email


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def email_filter(value):
    # Trimmed and lower-cased, as the import keeps it; empty means none.
    return normalize_email(value) if isinstance(value, str) else value


class CustomerSearchForm(Form):
    """A GET form: no CSRF token; a term too long is shown and left out."""

    q = SearchField(
        "Search",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="Customer no., name or email",
    )

    def search(self) -> str:
        self.validate()
        return "" if self.q.errors else (self.q.data or "")


# The fields a person edits, in the order the form shows them.
ADDRESS_FIELDS = ("company", "address", "address_2", "post_code", "city", "county", "country")
TEMPLATE_FIELDS = (
    "template_code",
    "payment_terms",
    "customer_posting_group",
    "tax_area",
    "currency",
)
EDITABLE = ("name", "email", "phone", *ADDRESS_FIELDS, *TEMPLATE_FIELDS)


def text(label, length, **kw):
    return StringField(label, filters=[strip], validators=[Optional(), Length(max=length)], **kw)


def code(label, length, **kw):
    return StringField(label, filters=[upper], validators=[Optional(), Length(max=length)], **kw)


class CustomerForm(FlaskForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        "Email",
        filters=[email_filter],
        validators=[
            Optional(),
            Length(max=254),
            Regexp(r"^[^@\s]+@[^@\s]+$", message="This is not an email address."),
        ],
        description="Unique: imports map guest orders to customers by email.",
    )
    phone = text("Phone", 50)
    company = text("Company", 200)
    address = text("Address", 200)
    address_2 = text("Address 2", 200)
    post_code = text("Post code", 20)
    city = text("City", 100)
    county = text("County", 100)
    country = StringField(
        "Country",
        filters=[upper],
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{2}$", message="Use the two-letter country code (DE, US…)."),
        ],
    )
    template_code = code("Template", 20)
    payment_terms = code("Payment terms", 20)
    customer_posting_group = code("Customer posting group", 20)
    tax_area = code("Tax area", 20)
    currency = StringField(
        "Currency",
        filters=[upper],
        validators=[
            Optional(),
            Regexp(r"^[A-Z]{3}$", message="Use the three-letter currency code (EUR, USD…)."),
        ],
    )

    def values(self) -> dict:
        """The model's values from the form; empty text is "" and no email is None."""
        values = {name: self[name].data or "" for name in EDITABLE}
        values["email"] = self.email.data or None
        return values


class MergeForm(FlaskForm):
    target = StringField(
        "Merge into customer no.",
        filters=[upper],
        validators=[DataRequired(message="Give the number of the customer to keep.")],
    )


class MappingForm(FlaskForm):
    woo_customer_id = IntegerField(
        "Webstore customer ID",
        validators=[
            InputRequired(message="Give the store's customer ID."),
            NumberRange(min=1, max=2**62, message="A customer ID is a whole number from 1."),
        ],
        description="As WooCommerce shows it under Customers, or in an order's customer_id",
    )
    customer_number = StringField(
        "Customer no.",
        filters=[upper],
        validators=[
            DataRequired(message="Give the number of an existing customer."),
            Length(max=20),
        ],
    )

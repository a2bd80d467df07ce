"""The list's search and filters: a GET form, so no CSRF token; bad values are shown and
ignored rather than refused."""

import re

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from portal.converters import positive_id
from portal.filter_forms import WebstoreDates, strip
from portal.models import SalesOrderStatus
from portal.orders.queries import OrderFilters


class OrderFilterForm(WebstoreDates):
    q = SearchField(
        "Search",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="Order no., external no., customer name or email",
    )
    # Declared again so that the fields (and their errors) keep the list's order.
    webstore = SelectField("Webstore", validators=[Optional()])
    status = SelectField(
        "Status",
        choices=[SelectChoice("", "Any status")]
        + [SelectChoice(s.value, s.value.capitalize()) for s in SalesOrderStatus],
        validators=[Optional()],
    )
    date_from = DateField("Order date from", validators=[Optional()])
    date_to = DateField("Order date to", validators=[Optional()])
    customer = HiddenField()
    sort = HiddenField()

    def filters(self) -> OrderFilters:
        """The filters from the fields that hold valid values; the others are left out."""
        self.validate()
        valid = self.valid
        return OrderFilters(
            search=valid(self.q) or "",
            webstore_id=self.webstore_id(),
            status=SalesOrderStatus(valid(self.status)) if valid(self.status) else None,
            date_from=valid(self.date_from),
            date_to=valid(self.date_to),
            customer_id=positive_id(self.customer.data or ""),
        )


class PlainText:
    """Text that goes into a note the customer reads: printable characters, no markup.

    Letters, digits, spaces and the punctuation carriers' names and tracking numbers use;
    ``<``, ``>``, ``&``, quotes and control characters are refused, not escaped, so the
    store shows exactly what was typed.
    """

    allowed = re.compile(r"[\w .,:;/#()+\-]*")

    def __call__(self, form, field) -> None:
        if field.data and not self.allowed.fullmatch(field.data):
            raise ValidationError(
                f"{field.label.text} may hold letters, digits, spaces and . , : ; / # ( ) + - "
                "only: it goes into a note the customer reads."
            )


class ShippingForm(FlaskForm):
    """The carrier and tracking number staff enter before posting; the store hears them."""

    shipping_carrier = StringField(
        "Carrier", filters=[strip], validators=[Optional(), Length(max=50), PlainText()]
    )
    tracking_number = StringField(
        "Tracking number",
        filters=[strip],
        validators=[Optional(), Length(max=100), PlainText()],
    )

    @classmethod
    def for_order(cls, order, agent_name: str = "") -> "ShippingForm":
        """The order's carrier and tracking number as kept; where no carrier is entered yet,
        its shipping agent's name (``agent_name``), the carrier offered when posting."""
        form = cls(obj=order)
        if not form.shipping_carrier.data:
            form.shipping_carrier.data = agent_name
        return form

    def values(self) -> tuple[str, str]:
        return self.shipping_carrier.data or "", self.tracking_number.data or ""

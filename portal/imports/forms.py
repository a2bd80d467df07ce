from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.setup.forms import STATUS_CHOICES, choices


def offer_webstores(field: SelectField, webstores) -> None:
    """The webstores to choose from; the only one chosen already, where there is one."""
    webstores = list(webstores)
    prompt = [] if len(webstores) == 1 else [("", "Choose a webstore…")]
    field.choices = choices(prompt + [(w.code, f"{w.code} — {w.name}") for w in webstores])
    if len(webstores) == 1 and not field.data:
        field.data = webstores[0].code


class ImportForm(FlaskForm):
    """Import Webstore Orders: the four filters of the connector's documentation."""

    webstore = SelectField("Webstore Code", validators=[InputRequired("Choose a webstore.")])
    order_id = StringField("Order ID", description="Import this one order only.")
    statuses = SelectMultipleField(
        "Order Status Filter",
        choices=STATUS_CHOICES,
        validate_choice=False,  # unknown statuses get the import's own clear message
        # One checkbox a status: the template writes each with the store's count of it.
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        description="None checked: the webstore's default statuses (or any status).",
    )
    start_date = DateField(
        "Order Start Date",
        validators=[Optional()],
        description="Orders created on or after this date.",
    )

    def __init__(self, *args, webstores=(), **kwargs):
        super().__init__(*args, **kwargs)
        offer_webstores(self.webstore, webstores)


class RefundImportForm(FlaskForm):
    """Import Webstore Refunds: a webstore, an order, refunds from a day."""

    webstore = SelectField("Webstore Code", validators=[InputRequired("Choose a webstore.")])
    order_id = StringField("Order ID", description="Credit the refunds of this one order only.")
    start_date = DateField(
        "Refunds Start Date",
        validators=[Optional()],
        description="Refunds made on or after this day; none given: the webstore's refunds "
        "start date (or since the last refunds sync).",
    )

    def __init__(self, *args, webstores=(), **kwargs):
        super().__init__(*args, **kwargs)
        offer_webstores(self.webstore, webstores)

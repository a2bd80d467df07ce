from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Optional

from portal.setup.forms import STATUS_CHOICES, choices


class ImportForm(FlaskForm):
    """Import Webstore Orders: the four filters of the connector's documentation."""

    webstore = SelectField("Webstore Code", validators=[InputRequired("Choose a webstore.")])
    order_id = StringField("Order ID", description="Import this one order only.")
    statuses = SelectMultipleField(
        "Order Status Filter",
        choices=STATUS_CHOICES,
        validate_choice=False,  # unknown statuses get the import's own clear message
        description="None selected: the webstore's default filter (or any status).",
    )
    start_date = DateField(
        "Order Start Date",
        validators=[Optional()],
        description="Orders created on or after this date.",
    )

    def __init__(self, *args, webstores=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.webstore.choices = choices(
            [("", "Choose a webstore…")] + [(w.code, f"{w.code} — {w.name}") for w in webstores]
        )

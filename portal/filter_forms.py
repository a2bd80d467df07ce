"""What the lists' filter forms share: a webstore and a span of days (the sales orders, the
posted documents, the VAT report), and the search's strip. Here, below the blueprints, so
that no blueprint's forms import another's."""

from wtforms import DateField, Form, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from portal.models import Webstore


def strip(value):
    return value.strip() if isinstance(value, str) else value


def webstore_choices(webstores: list[Webstore]) -> list[SelectChoice]:
    return [SelectChoice("", "All webstores")] + [
        SelectChoice(str(w.id), f"{w.code} – {w.name}") for w in webstores
    ]


class WebstoreDates(Form):
    """A webstore and a span of days, as the lists and the VAT report filter by them; a
    value that is not valid is shown beside its field and left out."""

    webstore = SelectField("Webstore", validators=[Optional()])
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])

    def __init__(self, formdata, webstores: list[Webstore]):
        super().__init__(formdata)
        self.webstore.choices = webstore_choices(webstores)

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")

    def valid(self, field):
        return None if field.errors else field.data

    def webstore_id(self) -> int | None:
        return int(self.valid(self.webstore)) if self.valid(self.webstore) else None

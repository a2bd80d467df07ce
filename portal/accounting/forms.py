"""The accounting pages' forms: a list's search (GET, no CSRF token), a record of each
setup table, an exchange rate, and the CSV upload of exchange rates."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, Form, SearchField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.accounting import values
from portal.models import AccountType

ACCOUNT_TYPE_LABELS = {
    AccountType.INCOME_STATEMENT: "Income Statement",
    AccountType.BALANCE_SHEET: "Balance Sheet",
}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def upper(value):
    return value.strip().upper() if isinstance(value, str) else value


class SearchForm(Form):
    q = SearchField("Search", filters=[strip], validators=[Optional(), Length(max=100)])

    def search(self) -> str:
        """The term, or nothing where it is not valid (the error is shown beside it)."""
        self.validate()
        return "" if self.q.errors else (self.q.data or "")


class RateFilterForm(Form):
    """The exchange rates' currency filter: one of the currencies that have rates."""

    currency = SelectField("Currency", filters=[upper], default="")

    def __init__(self, formdata, currencies: list[str]):
        super().__init__(formdata)
        self.currencies = currencies
        self.currency.choices = [SelectChoice("", "All currencies")] + [
            SelectChoice(code, code) for code in currencies
        ]
        # A currency asked for that has no rates (an old link): all are shown instead.
        self.unknown = ""

    def chosen(self) -> str:
        """The currency whose rates to show; "" for all."""
        wanted = self.currency.data or ""
        if wanted in self.currencies:
            return wanted
        self.unknown = wanted[:20]
        return ""


class PlainDecimalField(DecimalField):
    """A rate shown as kept, without the column's trailing zeros: 19, 8.5, 1.0845."""

    def __init__(self, *args, **kw):
        super().__init__(*args, places=None, **kw)

    def _value(self) -> str:
        if self.raw_data or self.data is None:
            return super()._value()
        return values.plain(self.data)


def code_field(label: str, length: int, noun: str, description: str = "") -> StringField:
    return StringField(
        label,
        filters=[upper],
        validators=[DataRequired(message=f"Give the {noun}'s code."), Length(max=length)],
        description=description or f"Up to {length} characters, kept in capitals; unique.",
    )


def text_field(label: str, length: int, required: str | None = None) -> StringField:
    validators = [DataRequired(message=required)] if required else [Optional()]
    return StringField(label, filters=[strip], validators=[*validators, Length(max=length)])


class RecordForm(FlaskForm):
    """A setup table's record: ``values`` are its model's columns, as typed."""

    def values(self) -> dict:
        return {
            name: field.data or "" for name, field in self._fields.items() if name != "csrf_token"
        }


class PaymentMethodForm(RecordForm):
    code = code_field("Code", 10, "payment method")
    description = text_field("Description", 100)


class ShipmentMethodForm(RecordForm):
    code = code_field(
        "Code",
        10,
        "shipment method",
        "Delivery terms, e.g. EXW or DAP; up to 10 characters, kept in capitals; unique.",
    )
    description = text_field("Description", 100)


class ShippingAgentForm(RecordForm):
    code = code_field("Code", 10, "shipping agent")
    name = text_field("Name", 50)
    tracking_url = StringField(
        "Tracking URL",
        filters=[strip],
        validators=[
            Optional(),
            Length(max=300),
            Regexp(r"^https?://", message="The address must start with http:// or https://."),
        ],
        description="With %s where the tracking number goes, e.g. "
        "https://www.dhl.de/en/privatkunden/dhl-sendungsverfolgung.html?piececode=%s",
    )

    def validate_tracking_url(self, field):
        if field.data and field.data.count("%s") != 1:
            raise ValidationError("Put %s once in the address, where the tracking number goes.")


class VatCodeForm(RecordForm):
    code = code_field("Code", 20, "VAT code")
    rate = PlainDecimalField(
        "Rate %",
        validators=[InputRequired(message="Give the rate in percent (0 for none).")],
        description="In percent: 19, 7, 8.5; 0 for exempt or reverse charge",
    )
    description = text_field("Description", 100)

    def validate_rate(self, field):
        # None: not a number, which the field has said already.
        if field.data is not None and (problem := values.vat_rate_problem(field.data)):
            raise ValidationError(problem)

    def values(self) -> dict:
        return {**super().values(), "rate": self.rate.data}


class GLAccountForm(RecordForm):
    number = code_field(
        "No.", 20, "account", "The account's number in the chart of accounts, e.g. 8400; unique."
    )
    name = text_field("Name", 100, required="Give the account's name.")
    account_type = SelectField(
        "Type",
        choices=[SelectChoice(t.value, label) for t, label in ACCOUNT_TYPE_LABELS.items()],
        default=AccountType.INCOME_STATEMENT.value,
    )

    def values(self) -> dict:
        return {**super().values(), "account_type": AccountType(self.account_type.data)}


class ExchangeRateForm(FlaskForm):
    currency = StringField(
        "Currency",
        filters=[upper],
        validators=[DataRequired(message="Give the currency's three-letter code.")],
        description="USD, GBP, CHF…",
    )
    starting_date = DateField(
        "Starting date",
        validators=[InputRequired(message="Give the day the rate starts on (YYYY-MM-DD).")],
        description="Orders from this day on take this rate, until a later one starts.",
    )
    rate = PlainDecimalField(
        "Rate",
        validators=[InputRequired(message="Give the rate.")],
        description="How much of the company's currency one unit of this currency is worth",
    )

    def validate_currency(self, field):
        if problem := values.currency_problem(field.data):
            raise ValidationError(problem)

    def validate_rate(self, field):
        if field.data is not None and (problem := values.exchange_rate_problem(field.data)):
            raise ValidationError(problem)

    def values(self) -> dict:
        return {
            "currency": self.currency.data,
            "starting_date": self.starting_date.data,
            "rate": self.rate.data,
        }


class RateImportForm(FlaskForm):
    file = FileField(
        "CSV file",
        validators=[FileRequired(message="Choose the CSV file to import.")],
        description="Columns currency, starting_date (YYYY-MM-DD) and rate, with a header "
        "row; a decimal point in the rate (1.0845).",
    )

"""The search and filters of the posted documents' lists and of the VAT report: GET forms,
so no CSRF token; bad values are shown beside their fields and left out."""

from dataclasses import dataclass
from datetime import date, timedelta

from wtforms import SearchField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.filter_forms import WebstoreDates, strip
from portal.models import Webstore

# How many months back the VAT report offers as presets.
PRESET_MONTHS = 24


@dataclass(frozen=True)
class DocumentFilters:
    search: str = ""
    webstore_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return any((self.search, self.webstore_id, self.date_from, self.date_to))


class DocumentFilterForm(WebstoreDates):
    q = SearchField(
        "Search",
        filters=[strip],
        validators=[Optional(), Length(max=100)],
        description="Document no., order no., external document no. or customer",
    )

    def filters(self) -> DocumentFilters:
        """The filters from the fields that hold valid values; the others are left out."""
        self.validate()
        return DocumentFilters(
            search=self.valid(self.q) or "",
            webstore_id=self.webstore_id(),
            date_from=self.valid(self.date_from),
            date_to=self.valid(self.date_to),
        )


@dataclass(frozen=True)
class Period:
    date_from: date
    date_to: date


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(first, following - timedelta(days=1))


def recent_months(today: date, count: int = PRESET_MONTHS) -> list[Period]:
    """This month and the ``count - 1`` before it, newest first."""
    months, day = [], today
    for _ in range(count):
        month = month_of(day)
        months.append(month)
        day = month.date_from - timedelta(days=1)
    return months


class VatReportForm(WebstoreDates):
    """A month chosen from the presets (it wins over dates), or from and to dates; this
    month where neither."""

    month = SelectField("Month", validators=[Optional()])

    def __init__(self, formdata, webstores: list[Webstore], today: date):
        super().__init__(formdata, webstores)
        self.today = today
        self.months = {f"{m.date_from:%Y-%m}": m for m in recent_months(today)}
        self.month.choices = [SelectChoice("", "From and to dates")] + [
            SelectChoice(key, f"{m.date_from:%B %Y}") for key, m in self.months.items()
        ]

    def period(self) -> Period:
        """The month chosen; else the dates given (either open end taking the month's);
        else this month. The fields are set to what is reported."""
        self.validate()
        month = self.months.get(self.valid(self.month) or "")
        if month is None:
            date_from, date_to = self.valid(self.date_from), self.valid(self.date_to)
            if date_from is None and date_to is None:
                month = month_of(self.today)
                self.month.data = f"{month.date_from:%Y-%m}"
            else:
                month = Period(
                    date_from or month_of(date_to).date_from, date_to or month_of(date_from).date_to
                )
        self.date_from.data, self.date_to.data = month.date_from, month.date_to
        return month

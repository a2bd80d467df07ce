"""Currency exchange rates entered by hand or imported from a CSV file.

The file has a header row naming the columns ``currency``, ``starting_date`` (YYYY-MM-DD)
and ``rate`` (with a decimal point), in any order, and a rate a row; it is read as UTF-8
(with or without the byte-order mark a spreadsheet writes). Every row is checked before
anything is written: one bad row and nothing is, and each bad row is named by its row
number (the header is row 1, as in a spreadsheet) with what is wrong. A rate for a
currency and day that has one already replaces it.
"""

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.accounting import values
from portal.actions import Refused
from portal.converters import clean_text
from portal.models import CurrencyExchangeRate

COLUMNS = ("currency", "starting_date", "rate")
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Bad rows listed on the page; the count of the rest follows.
SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class RowProblem:
    row: int
    problem: str


class BadFile(Exception):
    """The file cannot be imported: a problem with the file as a whole, or its bad rows."""

    def __init__(self, message: str = "", rows: list[RowProblem] | None = None):
        super().__init__(message or f"{len(rows)} rows of the file are not right.")
        self.rows = rows or []


@dataclass(frozen=True)
class RateRow:
    row: int
    currency: str
    starting_date: date
    rate: Decimal

    @property
    def key(self) -> tuple[str, date]:
        return self.currency, self.starting_date


@dataclass(frozen=True)
class Imported:
    added: int
    updated: int
    unchanged: int

    def message(self, filename: str) -> str:
        return (
            f"Imported {filename}: {self.added} rates added, {self.updated} changed, "
            f"{self.unchanged} already as in the file."
        )


# By hand


def rate_of_day(currency: str, starting_date: date, other_than: int | None = None):
    return db.session.scalar(
        sa.select(CurrencyExchangeRate).where(
            CurrencyExchangeRate.currency == currency,
            CurrencyExchangeRate.starting_date == starting_date,
            CurrencyExchangeRate.id != other_than,
        )
    )


def save_rate(rate: CurrencyExchangeRate, changes: dict) -> None:
    """Create (no id yet) or change an exchange rate; raises ``Refused`` where the currency
    has another rate from the same day."""
    currency, day = changes["currency"], changes["starting_date"]
    taken = f"{currency} has a rate from {day.isoformat()} already: change that one."
    if rate_of_day(currency, day, rate.id) is not None:
        raise Refused(taken, "starting_date")
    for name, value in changes.items():
        setattr(rate, name, value)
    db.session.add(rate)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Refused(taken, "starting_date") from None


def delete_rate(rate: CurrencyExchangeRate) -> str:
    what = describe(rate)
    db.session.delete(rate)
    db.session.commit()
    return f"The rate of {what} was deleted; documents keep the rate they took."


def describe(rate: CurrencyExchangeRate) -> str:
    return f"{rate.currency} from {rate.starting_date.isoformat()}"


# From a CSV file


def import_rates(data: bytes) -> Imported:
    """Read every rate of the file, then write them all in one transaction; raises
    ``BadFile`` (nothing written) where the file or any row is not right."""
    rows = read_rates(data)
    try:
        return write_rates(rows)
    except IntegrityError:
        db.session.rollback()
        raise BadFile(
            "Someone saved a rate of the same currency and day meanwhile: nothing was "
            "imported. Import the file again."
        ) from None


def read_rates(data: bytes) -> list[RateRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadFile(
            "The file is not UTF-8 text. Save it from the spreadsheet as “CSV UTF-8 "
            "(comma delimited)” and import it again."
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next((row for row in reader if any(cell.strip() for cell in row)), None)
    if header is None:
        raise BadFile("The file is empty: it needs a header row and a rate a row.")
    places = column_places(header)
    rows, problems, seen = [], [], {}
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            line = reader.line_num
            rate, wrong = read_row(line, cells, len(header), places)
            if rate is not None and (first := seen.setdefault(rate.key, line)) != line:
                wrong = [f"{rate.currency} from {rate.starting_date} is on row {first} already."]
            if wrong:
                problems.append(RowProblem(line, " ".join(wrong)))
            else:
                rows.append(rate)
    except csv.Error as error:
        raise BadFile(f"Row {reader.line_num + 1} cannot be read as CSV ({error}).") from None
    if problems:
        raise BadFile(rows=problems)
    if not rows:
        raise BadFile("The file has a header row but no rates.")
    return rows


def column_places(header: list[str]) -> dict[str, int]:
    """Where each column is, by the header row's names; raises ``BadFile`` where one is
    missing."""
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in COLUMNS if name not in names]
    if not missing:
        return {name: names.index(name) for name in COLUMNS}
    if len(header) == 1 and ";" in header[0]:
        raise BadFile(
            "The columns are separated by semicolons: save the file with commas between "
            "them (“CSV, comma delimited”) and import it again."
        )
    raise BadFile(
        "The first row must name the columns currency, starting_date and rate; this "
        f"file's names {', '.join(repr(n) for n in names)}."
    )


def read_row(line: int, cells: list[str], width: int, places: dict[str, int]):
    """The row's rate, or None and what is wrong with it. ``width`` is the header's."""
    given = len([cell for cell in cells if cell.strip()])
    if len(cells) <= max(places.values()) or any(cell.strip() for cell in cells[width:]):
        # More values than columns is most often a decimal comma: 1,0845 is two values.
        return None, [
            f"It has {given} values where the header names {width} columns. Write rates "
            "with a decimal point (1.0845), without thousands separators."
        ]
    currency = cells[places["currency"]].strip().upper()
    day_text = cells[places["starting_date"]].strip()
    rate_text = cells[places["rate"]].strip()
    wrong = []
    if problem := values.currency_problem(shown(currency)):
        wrong.append(problem)
    day = iso_day(day_text)
    if day is None:
        wrong.append(f"“{shown(day_text)}” is not a date written YYYY-MM-DD (2026-03-01).")
    rate = values.written_rate(rate_text)
    if rate is None:
        wrong.append(
            f"The rate “{shown(rate_text)}” is not a number with a decimal point (1.0845)."
        )
    elif problem := values.exchange_rate_problem(rate):
        wrong.append(problem)
    if wrong:
        return None, wrong
    return RateRow(line, currency, day, rate), []


def shown(text: str) -> str:
    """A value of the file as a message quotes it: without control characters, and cut
    short where it is long."""
    text = clean_text(text)
    return text if len(text) <= 40 else text[:40] + "…"


def iso_day(text: str) -> date | None:
    if not ISO_DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def write_rates(rows: list[RateRow]) -> Imported:
    currencies = {row.currency for row in rows}
    existing = {
        (rate.currency, rate.starting_date): rate
        for rate in db.session.scalars(
            sa.select(CurrencyExchangeRate).where(CurrencyExchangeRate.currency.in_(currencies))
        )
    }
    added = updated = unchanged = 0
    for row in rows:
        rate = existing.get((row.currency, row.starting_date))
        if rate is None:
            db.session.add(
                CurrencyExchangeRate(
                    currency=row.currency, starting_date=row.starting_date, rate=row.rate
                )
            )
            added += 1
        elif rate.rate != row.rate:
            rate.rate = row.rate
            updated += 1
        else:
            unchanged += 1
    db.session.commit()
    return Imported(added, updated, unchanged)

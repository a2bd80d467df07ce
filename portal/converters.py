"""The one place where values from a URL, a query string or a form become Python values.

Every route parses ids, page numbers, dates and text through these, so a value a person or
an attacker makes up (``²``, 30 digits, ``-1``, a NUL byte) is refused or left out before it
reaches the database, never answered with a 500. ``str.isdigit`` is not used: it accepts
"²" and other digits ``int`` refuses.
"""

import re
from datetime import date

from werkzeug.routing import BaseConverter, ValidationError

# PostgreSQL's integer (the tables' ids) and bigint (log entries, store order ids).
MAX_ID = 2**31 - 1
MAX_BIGINT = 2**63 - 1
# A page number a person could reach by "Next"; beyond it, the first page.
MAX_PAGE = 100_000
ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
# NUL can be neither stored nor searched in PostgreSQL text; the other C0 controls but tab,
# line feed and carriage return are never typed.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def whole_number(value, low: int = 0, high: int = MAX_BIGINT) -> int | None:
    """``value`` as an int from ``low`` to ``high``, if it is written in ASCII digits only."""
    text = str(value if value is not None else "").strip()
    if not ASCII_DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def positive_id(value, high: int = MAX_ID) -> int | None:
    """A record's id: a whole number from 1 to what its column holds; None for any other."""
    return whole_number(value, 1, high)


def page_number(value) -> int:
    """A page of a list, from 1; anything else is the first page."""
    return whole_number(value, 1, MAX_PAGE) or 1


def day(value) -> date | None:
    """An ISO date (2026-12-01); None for anything else."""
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def clean_text(value, max_length: int | None = None) -> str:
    """Text with control characters taken out, trimmed, and cut to ``max_length``."""
    text = CONTROL.sub("", str(value or "")).strip()
    return text[:max_length] if max_length else text


def has_control_characters(value: str) -> bool:
    return bool(CONTROL.search(value))


class IdConverter(BaseConverter):
    """``<id:name>`` in a route: a record id within the integer column's range. Other values
    (letters, "²", 30 digits, 0) do not match the route: 404, as for an id that is not there."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = positive_id(value)
        if number is None:
            raise ValidationError()
        return number

    def to_url(self, value) -> str:
        return str(int(value))

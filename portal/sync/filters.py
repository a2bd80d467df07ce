"""The filters of an import: what a person gave, merged over the webstore's setup.

Manual filters win over the setup for that import; what is not given comes from the setup.
The result is stored on the run as JSON, so a run always says what it asked the store for.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from portal import db
from portal.converters import MAX_BIGINT, positive_id
from portal.models import Webstore
from portal.woo.client import OrderQuery
from portal.woo.orders import ORDER_STATUSES


class FilterError(ValueError):
    """A filter a person gave is not usable; ``field`` names the form field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ImportFilters:
    statuses: tuple[str, ...] = ()
    start_date: date | None = None
    # Single orders: one Order ID from a person, or the failed orders of a retry.
    order_ids: tuple[int, ...] = ()
    # Automatic sync: orders by their last change, after this moment (None: all).
    incremental: bool = False
    modified_after: datetime | None = None
    # A run tried again after the store stopped answering starts at the listing page its
    # attempt before reached (that page again: deletions meanwhile shift pages).
    from_page: int = 1
    sources: dict = field(default_factory=dict, compare=False)

    def order_query(self) -> OrderQuery:
        # The start date is a day of the store's calendar: the store draws its boundary.
        return OrderQuery(
            status=self.statuses,
            created_from=self.start_date,
            modified_after=self.modified_after,
            include=self.order_ids,
        )

    def to_json(self) -> dict:
        return {
            "statuses": list(self.statuses),
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "order_ids": list(self.order_ids),
            "incremental": self.incremental,
            "modified_after": self.modified_after.isoformat() if self.modified_after else None,
            "from_page": self.from_page,
            "sources": self.sources,
        }

    @classmethod
    def from_json(cls, data: dict) -> "ImportFilters":
        return cls(
            statuses=tuple(data.get("statuses") or ()),
            start_date=date.fromisoformat(data["start_date"]) if data.get("start_date") else None,
            order_ids=tuple(int(i) for i in data.get("order_ids") or ()),
            incremental=bool(data.get("incremental")),
            modified_after=datetime.fromisoformat(data["modified_after"])
            if data.get("modified_after")
            else None,
            from_page=int(data.get("from_page") or 1),
            sources=data.get("sources") or {},
        )

    def describe(self) -> str:
        """The filters in a few words, for lists of runs."""
        parts = []
        if self.order_ids:
            ids = ", ".join(map(str, self.order_ids[:5]))
            more = f" and {len(self.order_ids) - 5} more" if len(self.order_ids) > 5 else ""
            parts.append(f"order {ids}{more}")
        parts.append("status " + (", ".join(self.statuses) if self.statuses else "any"))
        if self.start_date:
            parts.append(f"from {self.start_date.isoformat()}")
        if self.modified_after:
            parts.append(f"modified after {self.modified_after:%Y-%m-%d %H:%M:%S} UTC")
        elif self.incremental:
            parts.append("every change")
        if self.from_page > 1:
            parts.append(f"from page {self.from_page}")
        return "; ".join(parts)


def parse_order_id(value) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    order_id = positive_id(text, MAX_BIGINT)
    if order_id is None:
        raise FilterError(
            "order_id",
            f"Order ID must be a whole number from 1 to {MAX_BIGINT} (what a store can "
            f"hold), not {text[:40]!r}.",
        )
    return order_id


def parse_statuses(values) -> tuple[str, ...] | None:
    if values is None:
        return None
    if isinstance(values, str):
        values = values.split(",")
    statuses = tuple(dict.fromkeys(v.strip().lower() for v in values if v and v.strip()))
    unknown = [s for s in statuses if s not in ORDER_STATUSES]
    if unknown:
        raise FilterError(
            "statuses",
            f"WooCommerce has no order status {', '.join(unknown)}; "
            f"use {', '.join(ORDER_STATUSES)}.",
        )
    return statuses or None


def parse_start_date(value, today: date | None = None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        try:
            value = date.fromisoformat(str(value).strip())
        except ValueError as error:
            raise FilterError(
                "start_date", f"Order Start Date {value!r} is not a date like 2026-01-31."
            ) from error
    # The store's today may be a day ahead of UTC's (its calendar is its timezone's).
    today = today or datetime.now(UTC).date() + timedelta(days=1)
    if value > today:
        raise FilterError("start_date", f"Order Start Date {value.isoformat()} is in the future.")
    return value


def merge_filters(
    webstore: Webstore, *, order_id=None, statuses=None, start_date=None
) -> ImportFilters:
    """The effective filters: each one given wins over the webstore's setup.

    An Order ID asks for that one order: the setup's status and date filters would only
    hide it, so they apply only where the person gave them too.
    """
    given_id = parse_order_id(order_id)
    given_statuses = parse_statuses(statuses)
    given_date = parse_start_date(start_date)
    from_setup = given_id is None
    sources = {
        "statuses": "manual" if given_statuses is not None else "setup" if from_setup else "none",
        "start_date": "manual" if given_date is not None else "setup" if from_setup else "none",
    }
    setup_statuses = webstore.status_filter if from_setup else ()
    setup_date = webstore.order_start_date if from_setup else None
    return ImportFilters(
        statuses=given_statuses if given_statuses is not None else setup_statuses,
        start_date=given_date if given_date is not None else setup_date,
        order_ids=(given_id,) if given_id else (),
        sources=sources,
    )


def find_webstore(code) -> Webstore:
    """The webstore with this code (any case); FilterError if there is none."""
    code = (code or "").strip().upper()
    if not code:
        raise FilterError("webstore", "Choose a webstore: Webstore Code is required.")
    webstore = db.session.scalar(sa.select(Webstore).where(Webstore.code == code))
    if webstore is None:
        raise FilterError("webstore", f"There is no webstore with code {code}.")
    return webstore

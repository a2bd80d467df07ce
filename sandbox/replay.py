"""Orders read from a file (``--orders-file``): an export of a store, served as exported.

The file holds one JSON array of orders exactly as ``GET /wp-json/wc/v3/orders`` returns
them (pages of ``per_page=100`` put together). The store lists, filters and pages them
like generated orders, by the fields WooCommerce itself filters on, and answers each order
with the object read, unchanged: same keys, same values, its own links.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones


@dataclass(frozen=True, slots=True)
class Replayed:
    """An order from the file, with what listing it needs; ``data`` is what it answers."""

    id: int
    slot: int
    status: str
    created: int  # Unix times, from the ``*_gmt`` fields
    modified: int
    paid: int | None
    customer_id: int
    created_via: str
    data: dict
    refunds: tuple = ()  # the file has no refund objects, only their summaries

    def product_ids(self) -> set[int]:
        lines = self.data.get("line_items", [])
        return {line[key] for line in lines for key in ("product_id", "variation_id")} - {0}

    def searchable(self) -> str:
        billing = self.data.get("billing", {})
        fields = ("first_name", "last_name", "email", "company")
        return " ".join([str(self.id), *(str(billing.get(f, "")) for f in fields)]).casefold()


def load(path: Path) -> list[Replayed]:
    orders = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(orders, list):
        raise ValueError(f"{path}: expected a JSON array of orders")
    return [_replayed(slot, order) for slot, order in enumerate(orders)]


def _replayed(slot: int, order: dict) -> Replayed:
    return Replayed(
        id=int(order["id"]),
        slot=slot,
        status=order["status"],
        created=_moment(order["date_created_gmt"]),
        modified=_moment(order.get("date_modified_gmt") or order["date_created_gmt"]),
        paid=_moment(order["date_paid_gmt"]) if order.get("date_paid_gmt") else None,
        customer_id=int(order.get("customer_id") or 0),
        created_via=order.get("created_via", ""),
        data=order,
    )


def _moment(gmt: str) -> int:
    return int(datetime.fromisoformat(gmt).replace(tzinfo=UTC).timestamp())


def zone_of(orders: list[Replayed]) -> tzinfo:
    """The store's timezone, read off its orders' local and UTC creation times.

    One offset throughout is that offset. Offsets that change (summer time) name the
    first zone whose clocks agree with every change seen, common shop zones first;
    failing that, the newest order's offset.
    """
    seen: dict[timedelta, list[int]] = {}
    for order in orders:
        local = datetime.fromisoformat(order.data["date_created"]).replace(tzinfo=UTC)
        offset = timedelta(seconds=int(local.timestamp()) - order.created)
        seen.setdefault(offset, []).append(order.created)
    if len(seen) <= 1:
        return timezone(next(iter(seen), timedelta(0)))
    samples = [(offset, moment) for offset, ms in seen.items() for moment in (min(ms), max(ms))]
    for name in sorted(available_timezones(), key=_preference):
        zone = ZoneInfo(name)
        if all(datetime.fromtimestamp(m, zone).utcoffset() == o for o, m in samples):
            return zone
    newest = max(seen, key=lambda offset: max(seen[offset]))
    return timezone(newest)


# Where shops most often are, tried first among zones whose clocks agree.
_COMMON = ("Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles")


def _preference(name: str) -> tuple[int, bool, str]:
    common = _COMMON.index(name) if name in _COMMON else len(_COMMON)
    return (common, not name.startswith(("Europe/", "America/")), name)

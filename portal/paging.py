"""Lists that page by keyset, and search by part of a value: one way for every list page.

A page continues from the row the last one ended on (``after``, an id) or goes back from
the row the next one started on (``before``), by its values in the sort columns, so a deep
page costs what the first one does. ``page`` is only the number shown.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from portal import db
from portal.text import fold

# Counting every match of a broad filter over 100,000 orders costs more than the page
# itself; beyond this many a list says "more than 1,000".
COUNT_CAP = 1000


@dataclass
class Page:
    rows: list
    number: int
    per_page: int
    # The id to continue after for the next page, and before for the previous one.
    next_after: int | None = None
    prev_before: int | None = None
    count: int = 0
    count_capped: bool = False

    @property
    def first_position(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last_position(self) -> int:
        return self.first_position + len(self.rows) - 1 if self.rows else 0


def escape_like(text: str) -> str:
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def contains(column, term: str):
    """``column ILIKE '%term%'``, with ``%`` and ``_`` in the term taken literally.

    ILIKE on the bare column (``lower() LIKE lower()`` on SQLite) is what a trigram
    index (``gin_trgm_ops``) on that column serves on PostgreSQL.
    """
    return column.ilike(f"%{escape_like(term)}%", escape="/")


def contains_text(column, term: str):
    """Part of a name or description, in any case and with or without accents: "noe
    pastor" and "NOÉ" find "Noé Pastor", "jose" finds "José" and "josé" finds "Jose".

    The column is compared folded (``search_fold``: marks taken off) with the term folded
    the same way (``portal.text.fold``), by ILIKE. On PostgreSQL ``search_fold`` is
    ``unaccent()`` (of a value that is not plain ASCII), and a trigram index on
    ``search_fold(column)`` serves the ILIKE (migration 0018); on SQLite it is
    ``portal.text.fold``, registered on each connection.
    """
    return contains(sa.func.search_fold(column), fold(term))


def capped_count(model, conditions, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows match, counting no further than ``cap``; and whether there are more."""
    capped = sa.select(model.id).where(*conditions).limit(cap + 1).subquery()
    found = db.session.scalar(sa.select(sa.func.count()).select_from(capped))
    return min(found, cap), found > cap


def keyset_page(
    query,
    model,
    columns,
    conditions,
    *,
    descending: bool = False,
    after: int | None = None,
    before: int | None = None,
    page: int = 1,
    per_page: int,
    cap: int = COUNT_CAP,
) -> Page:
    """One page of ``query`` (whose ``conditions`` are given for the count, up to ``cap``)
    in ``columns`` order, the last column unique."""
    cursor = after or before
    backwards = bool(before) and not after
    anchor = None
    if cursor:
        anchor = db.session.execute(sa.select(*columns).where(model.id == cursor)).first()
    if anchor is None:
        # No cursor, or its row is gone (deleted meanwhile): start at the beginning.
        cursor, backwards, page = None, False, 1
    # Walking the sort order backwards (to the previous page) reverses the scan.
    scan_descending = descending != backwards
    if cursor:
        keyset, values = sa.tuple_(*columns), sa.tuple_(*anchor)
        # The plain comparison of the leading column lets the database start its index
        # scan at the cursor; the row comparison then settles the ties.
        if scan_descending:
            query = query.where(columns[0] <= anchor[0], keyset < values)
        else:
            query = query.where(columns[0] >= anchor[0], keyset > values)
    query = query.order_by(*(c.desc() if scan_descending else c.asc() for c in columns))

    rows = list(db.session.scalars(query.limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]

    result = Page(rows=rows, number=max(page, 1), per_page=per_page)
    if backwards:
        rows.reverse()
        result.next_after = rows[-1].id if rows else None
        if more:
            result.number = max(page, 2)
            result.prev_before = rows[0].id
        else:
            result.number = 1
    else:
        if more:
            result.next_after = rows[-1].id
        if cursor:
            result.number = max(page, 2)
            result.prev_before = rows[0].id if rows else None
        else:
            result.number = 1
    if not cursor and not more:
        # All there is fits on this page: no need to ask the database to count.
        result.count, result.count_capped = len(rows), False
    else:
        result.count, result.count_capped = capped_count(model, conditions, cap)
    return result

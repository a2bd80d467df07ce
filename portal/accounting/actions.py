"""What staff do to the setup tables: create, edit and delete a record.

A key is unique: a duplicate is refused on its field before the write, and the unique
constraint settles a race. A record in use (``SetupTable.uses``) keeps its key and is not
deleted: documents name it as text, and would name nothing afterwards.
"""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.accounting.tables import SetupTable
from portal.actions import Refused


def in_use(table: SetupTable, record, uses: list[str], refusal: str) -> str:
    return f"{table.label(record)} is in use, so {refusal}: by {'; '.join(uses)}."


def taken(table: SetupTable, key: str, record_id: int | None) -> bool:
    model = table.model
    return bool(
        db.session.scalar(
            sa.select(model.id).where(getattr(model, table.key) == key, model.id != record_id)
        )
    )


def save_record(table: SetupTable, record, values: dict) -> None:
    """Create (no id yet) or change ``record`` with ``values`` and commit; raises
    ``Refused`` on the key's field for a duplicate or a key in use that would change."""
    key = values[table.key]
    exists = f"{table.noun} {key} exists already"
    if taken(table, key, record.id):
        raise Refused(f"A {exists}: open it from the list to change it.", table.key)
    renamed = record.id is not None and key != table.key_of(record)
    if renamed and (uses := table.uses(record)):
        message = in_use(table, record, uses, f"its {table.key} cannot be changed")
        raise Refused(f"{message} Create a new {table.noun} instead.", table.key)
    for name, value in values.items():
        setattr(record, name, value)
    db.session.add(record)
    try:
        db.session.commit()
    except IntegrityError:
        # Someone saved the same key between our check and our write.
        db.session.rollback()
        raise Refused(f"A {exists}: it was saved a moment ago.", table.key) from None


def delete_record(table: SetupTable, record) -> str:
    """Delete ``record`` unless it is in use; the message says what was done."""
    label = table.label(record)
    if uses := table.uses(record):
        raise Refused(in_use(table, record, uses, "it cannot be deleted"))
    db.session.delete(record)
    try:
        db.session.commit()
    except IntegrityError:
        # A webstore mapped it or chose it between our check and our delete.
        db.session.rollback()
        raise Refused(f"{label} was put to use a moment ago, so it was kept.") from None
    return f"{label} deleted."

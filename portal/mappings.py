"""Webstore mappings made by hand: a webstore's customer or product tied to an ERP record.

Customers (``CustomerMapping``, keyed by the store's customer id) and items
(``ItemMapping``, keyed by product and variation id) are mapped and unmapped alike; what
differs is only the key and the record, given by the caller.
"""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.models import Webstore


def webstores() -> list[Webstore]:
    return list(db.session.scalars(sa.select(Webstore).order_by(Webstore.code)))


@dataclass(frozen=True)
class Tied:
    """What mapping did: ``was`` is the record it was mapped to before, if another."""

    changed: bool
    was: int | None = None


def tie(model, webstore: Webstore, key: dict, target: str, target_id: int) -> Tied:
    """Map the webstore's customer or product named by ``key`` (columns of ``model``) to the
    record ``target_id`` (in column ``target``), or map it to that record where it is
    mapped to another. Imports from the commit on use it."""
    for attempt in (1, 2):
        mapping = find(model, webstore, key)
        if mapping is not None and getattr(mapping, target) == target_id:
            return Tied(changed=False)
        was = None
        if mapping is None:
            db.session.add(model(webstore_id=webstore.id, **key, **{target: target_id}))
        else:
            was = getattr(mapping, target)
            setattr(mapping, target, target_id)
        try:
            db.session.commit()
        except IntegrityError:
            # An import mapped it meanwhile: map what it mapped, once more.
            db.session.rollback()
            if attempt == 2:
                raise
            continue
        return Tied(changed=True, was=was)
    raise AssertionError("unreachable")


def find(model, webstore: Webstore, key: dict):
    conditions = [getattr(model, name) == value for name, value in key.items()]
    return db.session.scalar(sa.select(model).where(model.webstore_id == webstore.id, *conditions))


def untie(model, webstore: Webstore, mapping_id: int):
    """Delete the webstore's mapping ``mapping_id``; returns it, or None where it is gone."""
    mapping = db.session.scalar(
        sa.select(model).where(model.id == mapping_id, model.webstore_id == webstore.id)
    )
    if mapping is not None:
        db.session.delete(mapping)
    return mapping

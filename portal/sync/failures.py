"""Why one order could not be imported, said so that a person can act on it."""


class OrderFailure(Exception):
    """This order fails; the run goes on."""


# What the database's refusal of an order means, by SQLSTATE (PostgreSQL) or error type,
# in words a person can act on. The driver's own text goes to the application log only.
REFUSALS = {
    "23505": "a number or SKU it needs is taken already (by a record typed in by hand, or "
    "saved by another run meanwhile)",
    "23503": "a record it refers to was deleted meanwhile",
    "22001": "a text of the order is longer than the ERP record holds",
    "22003": "a number of the order is larger than the ERP record holds",
    "40001": "another run changed the same records at the same moment",
    "40P01": "another run changed the same records at the same moment",
}


def refusal(error: Exception) -> str:
    """The database's refusal to save an order, as a sentence that says what to do."""
    why = REFUSALS.get(sqlstate(error), "the ERP database refused it")
    return (
        f"Could not be saved: {why}. Check the order in the store and the records it names, "
        "then retry; if it fails again, tell whoever runs the connector (the details are in "
        "the application log)."
    )


# SQLite's names for the same refusals (the embedded database of a first run).
SQLITE_STATES = {
    "SQLITE_CONSTRAINT_UNIQUE": "23505",
    "SQLITE_CONSTRAINT_PRIMARYKEY": "23505",
    "SQLITE_CONSTRAINT_FOREIGNKEY": "23503",
}


def sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of a driver error, raised bare (psycopg's pipeline) or wrapped by
    SQLAlchemy (``orig``), or chained; None where there is none (SQLite, other errors)."""
    seen = 0
    while error is not None and seen < 5:
        if state := getattr(error, "sqlstate", None):
            return state
        if getattr(error, "sqlite_errorname", "") in SQLITE_STATES:
            return SQLITE_STATES[error.sqlite_errorname]
        error = getattr(error, "orig", None) or error.__cause__ or error.__context__
        seen += 1
    return None

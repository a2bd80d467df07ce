"""Why one order could not be imported, said so that a person can act on it."""


class OrderFailure(Exception):
    """This order fails; the run goes on."""

"""What the actions behind the pages share."""


class Refused(Exception):
    """The change cannot be made; the message says why, ``field`` the form field it belongs
    to (None: the whole change)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

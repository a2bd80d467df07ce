"""Text as people search it: in any case, with or without accents."""

import unicodedata

# Letters that are no base letter with marks, spelled as PostgreSQL's unaccent spells them.
OWN_LETTERS = {
    "ß": "ss",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ð": "d",
    "đ": "d",
    "ħ": "h",
    "ı": "i",
    "ł": "l",
    "ŀ": "l",
    "ŋ": "n",
    "ŧ": "t",
    "ø": "o",
    "ĸ": "q",
}


def fold(text: str | None) -> str | None:
    """``"Noé Pastor"`` → ``"noe pastor"``, ``"Łódź"`` → ``"lodz"``, ``"Straße"`` →
    ``"strasse"``: lower case, marks taken off, as ``lower(unaccent(text))`` reads on
    PostgreSQL. It is ``search_fold()`` on SQLite (registered by ``portal.models.base``),
    which the searches compare names by; None stays None, as SQL's NULL."""
    if text is None:
        return None
    lower = "".join(OWN_LETTERS.get(c, c) for c in text.lower())
    return "".join(c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c))

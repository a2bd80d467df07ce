"""What the list pages' views share: HTMX fragments, and the arguments that place a page."""

from flask import request, url_for

# Query parameters that place a page of a list, dropped when anything else changes.
PAGING = ("after", "before", "page")


def wants_fragment() -> bool:
    """HTMX asks for the fragment, except when it restores history it has no copy of."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def list_args(keep_page: bool = False, **changes) -> dict:
    """The request's arguments, changed as given, without those placing the page unless
    ``keep_page``."""
    args = {k: v for k, v in request.args.items() if keep_page or k not in PAGING}
    args.update(changes)
    return args


def page_url(endpoint: str, keep_page: bool = False, **changes) -> str:
    """A list's URL with the current arguments, changed as given; empty ones left out."""
    args = list_args(keep_page, **changes)
    return url_for(endpoint, **{k: v for k, v in args.items() if v not in (None, "")})

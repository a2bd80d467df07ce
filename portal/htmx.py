"""How a view answers HTMX, in one place.

A page that htmx asks for answers its fragment (a table, a panel, a form); a plain request,
the whole page. A form refused answers 422 either way, its errors beside its fields: htmx
swaps a 422 as it swaps a 200 (``responseHandling`` in base.html's ``htmx-config``), and a
browser shows a 422 page as any other.
"""

from flask import Flask, make_response, render_template, request

# What a refused form answers: the request was understood, its values were not accepted.
FORM_ERRORS = 422


def is_htmx() -> bool:
    """An htmx request, except one restoring history it has no copy of: that wants the
    whole page."""
    return bool(request.headers.get("HX-Request")) and not request.headers.get(
        "HX-History-Restore-Request"
    )


def page_or_fragment(
    page_template: str,
    fragment_template: str,
    push_url: str | None = None,
    *,
    status_code: int = 200,
    **context,
):
    """The whole page; to htmx its fragment alone, with ``push_url`` (if given) for the
    address bar. ``fragment`` tells the templates which they render."""
    if not is_htmx():
        return render_template(page_template, fragment=False, **context), status_code
    body = render_template(fragment_template, fragment=True, **context)
    response = make_response(body, status_code)
    if push_url:
        response.headers["HX-Push-Url"] = push_url
    return response


def form_errors(page_template: str, fragment_template: str | None = None, **context):
    """A form refused: 422 with its page, or to htmx with the fragment that holds the form
    (the page itself if it has none)."""
    fragment_template = fragment_template or page_template
    return page_or_fragment(page_template, fragment_template, status_code=FORM_ERRORS, **context)


def form_page(page_template: str, fragment_template: str | None = None, **context):
    """A form's page: as a GET asks for it; after a POST that comes back to it, refused."""
    if request.method == "POST":
        return form_errors(page_template, fragment_template, **context)
    return page_or_fragment(page_template, fragment_template or page_template, **context)


def vary_on_htmx(response):
    # A page answers a fragment to htmx and the whole page otherwise: caches must know.
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    app.after_request(vary_on_htmx)

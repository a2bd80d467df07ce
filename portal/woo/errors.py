"""What can go wrong at the WooCommerce edge, each said so that a person can act on it."""

from __future__ import annotations

import re


class WooError(Exception):
    """A WooCommerce store could not be asked, or did not answer usefully.

    ``str()`` is the message for people; ``status`` and ``code`` are the HTTP status and the
    store's error code, where the store gave them.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        #: How many requests were made before giving up; set by the client's retry loop.
        self.attempts = 1

    def __str__(self) -> str:
        if self.attempts > 1:
            return f"{self.message} (gave up after {self.attempts} attempts)"
        return self.message


class WooAuthError(WooError):
    """The store refused the credentials (401/403); ``store_message`` is its own words."""

    def __init__(self, message: str, *, status: int, code: str | None, store_message: str):
        super().__init__(message, status=status, code=code)
        self.store_message = store_message


class WooReadOnlyKey(WooAuthError):
    """The store's API key may only read, and a write was asked (401)."""


class WooNotFound(WooError):
    """No such resource, or no WooCommerce REST API at that address (404)."""


class WooBadRequest(WooError):
    """The store rejected a parameter (400); ``params`` maps each to the store's reason."""

    def __init__(self, message: str, *, code: str | None, params: dict[str, str]):
        super().__init__(message, status=400, code=code)
        self.params = params


class WooRateLimited(WooError):
    """The store asked us to slow down or is briefly unavailable (429/503)."""

    def __init__(self, message: str, *, status: int, retry_after: float | None):
        super().__init__(message, status=status)
        self.retry_after = retry_after


class WooServerError(WooError):
    """The store failed while answering (5xx)."""


class WooTimeout(WooError):
    """The store did not answer in time."""


class WooConnectionError(WooError):
    """The store could not be reached: refused, unknown host, dropped connection."""


class WooAddressRefused(WooError):
    """The store's host is an address the portal never connects to (link-local, a cloud's
    metadata service): refused before any connection."""


# Failures that may pass by themselves: the store is busy, down or out of reach.
TRANSIENT_ERRORS = (WooRateLimited, WooServerError, WooTimeout, WooConnectionError)


class WooTLSError(WooError):
    """The store's TLS certificate could not be verified; retrying will not help."""


class WooInvalidResponse(WooError):
    """The answer was not the WooCommerce JSON asked for: HTML, truncated, a redirect."""


class OrderDataError(WooError):
    """An order the store sent is malformed; names the order (None: it has no id) and field."""

    def __init__(self, order_id: int | None, field: str, problem: str):
        label = "(no id)" if order_id is None else order_id
        super().__init__(f"order {label}: {field} {problem}")
        self.order_id = order_id
        self.field = field


# What the store's English messages mean; translated stores fall through to the generic advice,
# which still quotes the store's own words.
_AUTH_ADVICE = {
    "Consumer key is invalid.": "The store does not know this consumer key: "
    "check the key in the webstore setup.",
    "Consumer secret is invalid.": "The store refused the consumer secret: "
    "check the secret in the webstore setup.",
    "Invalid signature - provided signature does not match.": "The store refused the "
    "signature, so the consumer secret is wrong: check the secret in the webstore setup.",
    "Invalid timestamp.": "The store refused the request's timestamp: check this server's clock.",
    "The API key provided does not have read permissions.": "The consumer key may not read: "
    "give it Read or Read/Write permission in WooCommerce > Settings > Advanced > REST API.",
}
_WRITE_REFUSED = "The API key provided does not have write permissions."
_NO_CREDENTIALS = (
    "The store did not see the credentials: over HTTPS some web servers drop the "
    "Authorization header (try sending the keys in the query string); "
    "over plain HTTP a store only accepts OAuth signatures."
)


def error_for_answer(
    status: int,
    body: object,
    *,
    url: str,
    retry_after: float | None = None,
    webstore: str | None = None,
) -> WooError:
    """The typed error for an HTTP error answer; ``body`` is its JSON, or None if not JSON.

    ``webstore`` is the code of the webstore in the portal's setup, where advice names it.
    """
    error = body if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    said = _plain(error.get("message"))
    quoted = f" (The store said: {said})" if said else ""
    if status in (401, 403) and said == _WRITE_REFUSED:
        advice = read_only_advice(webstore)
        return WooReadOnlyKey(advice + quoted, status=status, code=code, store_message=said)
    if status in (401, 403):
        advice = _auth_advice(status, code, said, url, json=body is not None)
        return WooAuthError(advice + quoted, status=status, code=code, store_message=said)
    if status == 404:
        return WooNotFound(_not_found(code, url) + quoted, status=404, code=code)
    if status == 400:
        params = _params(error)
        reasons = "; ".join(params.values()) or said or f"HTTP 400 from {url}"
        return WooBadRequest(f"The store rejected the request: {reasons}", code=code, params=params)
    if status in _UNAVAILABLE:
        return WooRateLimited(_UNAVAILABLE[status] + quoted, status=status, retry_after=retry_after)
    if status >= 500:
        message = f"The store failed with HTTP {status}: try again later; if it persists, "
        message += f"the store's error log says why.{quoted}"
        return WooServerError(message, status=status, code=code)
    return WooError(f"The store answered HTTP {status} to {url}.{quoted}", status=status, code=code)


def read_only_advice(webstore: str | None = None) -> str:
    """What to do about a key that may only read, where a write is wanted."""
    where = "Setup > Webstores" + (f" > {webstore}" if webstore else "")
    return (
        "The store's API key can only read: create a Read/Write key in WooCommerce > "
        f"Settings > Advanced > REST API and enter it in {where}."
    )


_UNAVAILABLE = {
    429: "The store is limiting requests (HTTP 429): try again later, or synchronize less often.",
    503: "The store is briefly unavailable (HTTP 503, maintenance?): try again later.",
}


def _auth_advice(status: int, code: str | None, said: str, url: str, *, json: bool) -> str:
    if said in _AUTH_ADVICE:
        return _AUTH_ADVICE[said]
    if code == "woocommerce_rest_cannot_view" and status == 401:
        return _NO_CREDENTIALS
    if not json:
        return (
            f"{url} refused access with an HTTP {status} page, not WooCommerce's answer: "
            "a firewall may block this server."
        )
    return (
        "The store refused access: check the consumer key and secret, and that the key's "
        "user may manage WooCommerce."
    )


def _params(error: dict) -> dict[str, str]:
    """``data.params`` of a ``rest_invalid_param`` answer: each parameter and what is wrong."""
    data = error.get("data")
    params = data.get("params") if isinstance(data, dict) else None
    return {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}


def _plain(message: object) -> str:
    """A store's message as text: WordPress puts HTML in some (its critical error)."""
    if not isinstance(message, str):
        return ""
    return " ".join(re.sub(r"<[^>]*>", " ", message).split())


def _not_found(code: str | None, url: str) -> str:
    if code == "rest_no_route":
        return (
            f"WordPress answered but has no such WooCommerce API route ({url}): check that "
            "WooCommerce is active and the API version in the webstore setup."
        )
    if code is None:
        return (
            f"No WordPress REST API at {url}: check the store URL (a site with plain "
            "permalinks must switch to pretty permalinks for /wp-json/)."
        )
    return f"The store has no {url}."

"""What can go wrong at the WooCommerce edge, each said so that a person can act on it."""

from __future__ import annotations


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


class WooTLSError(WooError):
    """The store's TLS certificate could not be verified; retrying will not help."""


class WooInvalidResponse(WooError):
    """The answer was not the WooCommerce JSON asked for: HTML, truncated, a redirect."""


class OrderDataError(WooError):
    """An order the store sent is malformed; names the order and the field."""

    def __init__(self, order_id: object, field: str, problem: str):
        super().__init__(f"order {order_id}: {field} {problem}")
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
_NO_CREDENTIALS = (
    "The store did not see the credentials: over HTTPS some web servers drop the "
    "Authorization header (try sending the keys in the query string); "
    "over plain HTTP a store only accepts OAuth signatures."
)


def error_for_answer(
    status: int, body: object, *, url: str, retry_after: float | None = None
) -> WooError:
    """The typed error for an HTTP error answer; ``body`` is its JSON, or None if not JSON."""
    error = body if isinstance(body, dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    said = error.get("message") if isinstance(error.get("message"), str) else ""
    quoted = f" (The store said: {said})" if said else ""
    if status in (401, 403):
        if said in _AUTH_ADVICE:
            advice = _AUTH_ADVICE[said]
        elif code == "woocommerce_rest_cannot_view" and status == 401:
            advice = _NO_CREDENTIALS
        elif body is None:
            advice = f"{url} refused access with an HTTP {status} page, not WooCommerce's "
            advice += "answer: a firewall may block this server."
        else:
            advice = "The store refused access: check the consumer key and secret, and that "
            advice += "the key's user may manage WooCommerce."
        return WooAuthError(advice + quoted, status=status, code=code, store_message=said)
    if status == 404:
        return WooNotFound(_not_found(code, url) + quoted, status=404, code=code)
    if status == 400 and code == "rest_invalid_param":
        data = error.get("data")
        params = data.get("params") if isinstance(data, dict) else None
        params = {str(k): str(v) for k, v in params.items()} if isinstance(params, dict) else {}
        reasons = "; ".join(params.values()) or said
        return WooBadRequest(f"The store rejected the request: {reasons}", code=code, params=params)
    if status == 429:
        message = "The store is limiting requests (HTTP 429): try again later, "
        message += "or synchronize less often."
        return WooRateLimited(message, status=status, retry_after=retry_after)
    if status == 503:
        message = "The store is briefly unavailable (HTTP 503, maintenance?): try again later."
        return WooRateLimited(message + quoted, status=status, retry_after=retry_after)
    if status >= 500:
        message = f"The store failed with HTTP {status}: try again later; if it persists, "
        message += "the store's error log says why."
        return WooServerError(message + quoted, status=status, code=code)
    return WooError(f"The store answered HTTP {status} to {url}.{quoted}", status=status, code=code)


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

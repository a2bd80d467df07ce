"""Authentication as WooCommerce decides it, by the scheme of the store's address.

Over HTTPS a store reads HTTP Basic (or the keys as query parameters, for servers that drop
the Authorization header); over plain HTTP it refuses both and wants a one-legged OAuth 1.0a
signature (captures ``auth_basic_over_http_401``, ``auth_querystring_keys_over_http_401``).
"""

from __future__ import annotations

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_QUERY, Client
from requests import PreparedRequest
from requests.auth import AuthBase, HTTPBasicAuth


def store_auth(scheme: str, key: str, secret: str, *, query_string: bool) -> AuthBase:
    if scheme == "http":
        return OAuth1QueryAuth(key, secret)
    if query_string:
        return QueryKeysAuth(key, secret)
    return HTTPBasicAuth(key, secret)


class OAuth1QueryAuth(AuthBase):
    """Sign each request with HMAC-SHA256, the oauth_* parameters in its query string.

    The signature covers exactly the query sent, each parameter once. oauthlib signs with
    ``secret + "&"`` (no token secret), which is WooCommerce's key. Requests calls this on
    every send, so each retry gets a fresh nonce and timestamp: a store refuses a replayed
    nonce. List filters must be comma lists: ``status[]=`` breaks WooCommerce's signature
    check (capture ``orders_status_array_syntax_oauth_401``).
    """

    def __init__(self, key: str, secret: str):
        self._client = Client(
            key,
            client_secret=secret,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_QUERY,
        )

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.url, _, _ = self._client.sign(request.url, request.method)
        return request


class QueryKeysAuth(AuthBase):
    """The consumer key and secret as query parameters; WooCommerce accepts them over HTTPS."""

    def __init__(self, key: str, secret: str):
        self._keys = {"consumer_key": key, "consumer_secret": secret}

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.prepare_url(request.url, self._keys)
        return request

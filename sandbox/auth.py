"""Authentication as ``WC_REST_Authentication`` decides it.

Over HTTPS a request may carry the keys as HTTP Basic credentials or as ``consumer_key``
and ``consumer_secret`` in the query string. Over plain HTTP only a one-legged OAuth 1.0a
signature counts; Basic credentials and query keys are ignored there, so such a request
is simply anonymous (and then refused by the route's permission check, as captured).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from .model import WooError
from .php import rawurlencode

OAUTH_PARAMS = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
TIMESTAMP_WINDOW = 15 * 60
_HEADER_PARAM = re.compile(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))')


def _error(message: str, code: str = "woocommerce_rest_authentication_error") -> WooError:
    return WooError(code, message, 401)


WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass
class Credentials:
    """The store's REST API keys, a read/write one and a read-only one, and the nonces seen.

    As ``WC_REST_Authentication::check_permissions``: a key is first recognized, then its
    permission is checked against the request's method, before any route is matched, so a
    read-only key is refused every write with 401 (captures ``*_read_only_401``).
    """

    consumer_key: str
    consumer_secret: str
    read_only_key: str | None = None
    read_only_secret: str | None = None
    clock: Callable[[], float] = time.time
    # WooCommerce keeps one nonce per timestamp: a later nonce with the same timestamp
    # replaces the earlier one, which is then accepted again. Copied, not fixed.
    _nonces: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authenticate(
        self,
        *,
        method: str,
        url: str,
        query: dict,
        form: dict,
        authorization: str,
        secure: bool,
    ) -> str | None:
        """The key's permissions ("read_write" or "read") for one of the store's keys, None
        for an anonymous request; raises a 401 WooError.

        ``url`` is the home URL plus the request path; ``query`` and ``form`` are the
        PHP-parsed ``$_GET`` and ``$_POST``.
        """
        if secure and (key := self._basic(query, authorization)):
            return self._permissions(key)
        key = self._oauth(method, url, {**query, **form}, authorization)
        return None if key is None else self._permissions(key)

    def check_permission(self, permissions: str, method: str) -> None:
        """Refuse a request the key's permissions do not cover, as WooCommerce words it."""
        if method in WRITE_METHODS and permissions not in ("write", "read_write"):
            raise _error("The API key provided does not have write permissions.")
        if method in ("GET", "HEAD") and permissions not in ("read", "read_write"):
            raise _error("The API key provided does not have read permissions.")

    def _keys(self) -> dict[str, str]:
        keys = {self.consumer_key: self.consumer_secret}
        if self.read_only_key and self.read_only_secret:
            keys[self.read_only_key] = self.read_only_secret
        return keys

    def _permissions(self, key: str) -> str:
        return "read_write" if key == self.consumer_key else "read"

    def _basic(self, query: dict, authorization: str) -> str | None:
        key, secret = query.get("consumer_key"), query.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = _basic_credentials(authorization)
        if not (key and secret) or key not in self._keys():
            return None  # an unknown key is not an error here: OAuth gets its turn
        if not hmac.compare_digest(secret, self._keys()[key]):
            raise _error("Consumer secret is invalid.")
        return key

    def _oauth(self, method: str, url: str, params: dict, authorization: str) -> str | None:
        params = {**params, **_header_params(authorization)}
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if len(missing) == len(OAUTH_PARAMS):
            return None
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise _error(
                f"Missing OAuth {noun} {', '.join(missing)}",
                "woocommerce_rest_authentication_missing_parameter",
            )
        key = params["oauth_consumer_key"]
        if key not in self._keys():
            raise _error("Consumer key is invalid.")
        self._check_signature(method, url, params, self._keys()[key])
        self._check_timestamp_and_nonce(params["oauth_timestamp"], params["oauth_nonce"])
        return key

    def _check_signature(self, method: str, url: str, params: dict, secret: str) -> None:
        # PHP decoded a literal "+" in the query to a space; WooCommerce turns it back.
        given = str(params.pop("oauth_signature")).replace(" ", "+")
        algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}.get(
            str(params["oauth_signature_method"])
        )
        if algorithm is None:
            raise _error("Invalid signature - signature method is invalid.")
        base = "&".join((method.upper(), rawurlencode(url), "%26".join(_normalized(params))))
        key = f"{secret}&".encode()
        expected = base64.b64encode(hmac.new(key, base.encode(), algorithm).digest()).decode()
        if not hmac.compare_digest(expected, given):
            raise _error("Invalid signature - provided signature does not match.")

    def _check_timestamp_and_nonce(self, timestamp: object, nonce: object) -> None:
        now = self.clock()
        try:
            moment = int(str(timestamp))
        except ValueError:
            raise _error("Invalid timestamp.") from None
        if not now - TIMESTAMP_WINDOW <= moment <= now + TIMESTAMP_WINDOW:
            raise _error("Invalid timestamp.")
        with self._lock:
            if nonce in self._nonces.values():
                raise _error("Invalid nonce - nonce has already been used.")
            self._nonces[moment] = str(nonce)
            for seen in [t for t in self._nonces if t < now - TIMESTAMP_WINDOW]:
                del self._nonces[seen]


def _normalized(params: dict) -> list[str]:
    """``normalize_parameters`` and ``join_with_equals_sign``, sorted by raw key.

    Array values are joined as ``key%5B0%5D``, so a client that signed ``status[]``
    gets "provided signature does not match", as the captures show.
    """
    pairs: list[str] = []

    def join(key: str, value: object) -> None:
        if isinstance(value, dict):
            for sub, item in value.items():
                join(f"{key}%5B{sub}%5D", item)
        else:
            pairs.append(rawurlencode(f"{key}={rawurlencode(value)}"))

    for key in sorted(params, key=lambda k: str(k).encode()):
        join(rawurlencode(key), params[key])
    return pairs


def _header_params(authorization: str) -> dict:
    if not authorization.startswith("OAuth "):
        return {}
    params = {}
    for name, _, quoted, bare in _HEADER_PARAM.findall(authorization):
        params[name] = unquote_plus(quoted or bare)
    return params


def _basic_credentials(authorization: str) -> tuple[str, str]:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return "", ""
    return user, password

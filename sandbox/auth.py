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


@dataclass
class Credentials:
    """The store's one REST API key (read/write) and the nonces it has seen."""

    consumer_key: str
    consumer_secret: str
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
    ) -> bool:
        """True for the store's key, False for an anonymous request; raises a 401 WooError.

        ``url`` is the home URL plus the request path; ``query`` and ``form`` are the
        PHP-parsed ``$_GET`` and ``$_POST``.
        """
        if secure and self._basic(query, authorization):
            return True
        return self._oauth(method, url, {**query, **form}, authorization)

    def _basic(self, query: dict, authorization: str) -> bool:
        key, secret = query.get("consumer_key"), query.get("consumer_secret")
        if not (isinstance(key, str) and key and isinstance(secret, str) and secret):
            key, secret = _basic_credentials(authorization)
        if not (key and secret) or key != self.consumer_key:
            return False  # an unknown key is not an error here: OAuth gets its turn
        if not hmac.compare_digest(secret, self.consumer_secret):
            raise _error("Consumer secret is invalid.")
        return True

    def _oauth(self, method: str, url: str, params: dict, authorization: str) -> bool:
        params = {**params, **_header_params(authorization)}
        missing = [name for name in OAUTH_PARAMS if not params.get(name)]
        if len(missing) == len(OAUTH_PARAMS):
            return False
        if missing:
            noun = "parameter" if len(missing) == 1 else "parameters"
            raise _error(
                f"Missing OAuth {noun} {', '.join(missing)}",
                "woocommerce_rest_authentication_missing_parameter",
            )
        if params["oauth_consumer_key"] != self.consumer_key:
            raise _error("Consumer key is invalid.")
        self._check_signature(method, url, params)
        self._check_timestamp_and_nonce(params["oauth_timestamp"], params["oauth_nonce"])
        return True

    def _check_signature(self, method: str, url: str, params: dict) -> None:
        # PHP decoded a literal "+" in the query to a space; WooCommerce turns it back.
        given = str(params.pop("oauth_signature")).replace(" ", "+")
        algorithm = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}.get(
            str(params["oauth_signature_method"])
        )
        if algorithm is None:
            raise _error("Invalid signature - signature method is invalid.")
        base = "&".join((method.upper(), rawurlencode(url), "%26".join(_normalized(params))))
        key = f"{self.consumer_secret}&".encode()
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

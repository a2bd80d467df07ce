"""The few PHP and WordPress behaviours a client can observe, done the same way.

WooCommerce signs, echoes and formats values through PHP functions whose quirks leak into
its answers: how a query string becomes ``$_GET``, how ``urlencode`` differs from
``rawurlencode``, how ``json_encode`` escapes, how ``number_format`` rounds. Clients that
work against the sandbox must meet the same quirks, so they are reproduced here.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import parse_qsl, quote, quote_plus

_BRACKETS = re.compile(r"\[([^\]]*)\]")


def parse_query(query: str) -> dict:
    """Parse a query or form body into the shape of PHP's ``$_GET``.

    Names with brackets build nested arrays (``status[]=a`` gives ``{"status": {0: "a"}}``),
    dots and spaces in names become underscores and a repeated name keeps its first place
    with the last value. PHP arrays are dicts here, lists included (integer keys).
    """
    result: dict = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        base, bracket, rest = name.lstrip(" ").partition("[")
        if bracket and "]" not in rest:
            base, bracket = f"{base}_{rest}", ""
        base = base.replace(".", "_").replace(" ", "_")
        if not base:
            continue
        keys = [_php_key(k) for k in _BRACKETS.findall(bracket + rest)] if bracket else []
        _assign(result, [base, *keys], value)
    return result


def _php_key(key: str) -> str | int:
    return int(key) if key.isdigit() and (key == "0" or not key.startswith("0")) else key


def _assign(container: dict, keys: list, value: str) -> None:
    *parents, last = keys
    for key in parents:
        if key == "":
            key = _next_index(container)
        child = container.get(key)
        if not isinstance(child, dict):
            child = container[key] = {}
        container = child
    container[_next_index(container) if last == "" else last] = value


def _next_index(array: dict) -> int:
    return max((k + 1 for k in array if isinstance(k, int)), default=0)


def urlencode(value: object) -> str:
    """PHP ``urlencode``: spaces become ``+`` and, unlike Python, ``~`` is encoded."""
    return quote_plus(_php_string(value), safe="").replace("~", "%7E")


def rawurlencode(value: object) -> str:
    """PHP ``rawurlencode`` (RFC 3986), which WooCommerce's OAuth check relies on."""
    return quote(_php_string(value), safe="")


def _php_string(value: object) -> str:
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    return str(value)


def build_query(params: dict) -> str:
    """WordPress ``add_query_arg`` output: values ``urlencode``d, arrays as ``key%5B0%5D``."""
    pairs: list[str] = []

    def add(key: str, value: object) -> None:
        if isinstance(value, dict):
            for sub, item in value.items():
                add(f"{key}%5B{sub}%5D", item)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                add(f"{key}%5B{index}%5D", item)
        else:
            pairs.append(f"{key}={urlencode(value)}")

    for key, value in params.items():
        add(key, value)
    return "&".join(pairs)


def json_encode(data: object) -> bytes:
    """``wp_json_encode`` without flags: ASCII only, slashes escaped."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode()


def format_decimal(amount: int, dp: int = 2, scale: int = 2) -> str:
    """``wc_format_decimal($amount, $dp)`` of an amount in units of ``10**-scale`` (cents by
    default): PHP ``number_format`` rounds half away from zero."""
    step = Decimal(1).scaleb(-max(dp, 0))
    rounded = Decimal(amount).scaleb(-scale).quantize(step, ROUND_HALF_UP)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def trim_decimal(amount: int, scale: int = 2) -> str:
    """An amount as WooCommerce stores it in item meta: no trailing zeros ("5", "2.992")."""
    text = format_decimal(amount, scale, scale)
    return text.rstrip("0").rstrip(".") if "." in text else text


def sprintf_list(items: list[str]) -> str:
    """``wp_sprintf_l``: "a", "a and b", "a, b, and c"."""
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]

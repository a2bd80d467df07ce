"""Request arguments checked the way the WordPress REST server checks them.

The argument schemas are WooCommerce's own, copied from a real store's ``OPTIONS``
answers (``schemas/``), so ranges, enums and defaults match, and so do the messages:
``per_page must be between 1 (inclusive) and 100 (inclusive)``.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from .model import WooError
from .php import sprintf_list

SCHEMAS = Path(__file__).with_name("schemas")
_DATE = re.compile(
    r"^(\d{4})-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):"
    r"([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


@cache
def schema(name: str) -> dict:
    """A captured ``OPTIONS`` body; ``{site}`` stands where the store's URL goes."""
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def endpoint_args(name: str, method: str) -> dict:
    for endpoint in schema(name)["endpoints"]:
        if method in endpoint["methods"]:
            return endpoint["args"]
    return {}


class Invalid(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check(args: dict, lookup: dict) -> dict:
    """Validate then sanitize every argument present in ``lookup`` (defaults included).

    Returns the sanitized values; raises WordPress's ``rest_invalid_param`` naming every
    bad argument, in the order the route declares them.
    """
    missing = [name for name, arg in args.items() if arg.get("required") and name not in lookup]
    if missing:
        raise WooError(
            "rest_missing_callback_param",
            f"Missing parameter(s): {', '.join(missing)}",
            400,
            params=missing,
        )
    errors: dict[str, Invalid] = {}
    values = {}
    for name, arg in args.items():
        value = lookup.get(name, arg.get("default"))
        if value is None:
            continue
        try:
            values[name] = validate(value, arg, name)
        except Invalid as error:
            errors[name] = error
    if errors:
        raise WooError(
            "rest_invalid_param",
            f"Invalid parameter(s): {', '.join(errors)}",
            400,
            params={name: e.message for name, e in errors.items()},
            details={
                name: {"code": e.code, "message": e.message, "data": None}
                for name, e in errors.items()
            },
        )
    return values


def validate(value: object, arg: dict, name: str) -> object:
    """``rest_validate_value_from_schema`` then ``rest_sanitize_value_from_schema``."""
    kind = arg.get("type")
    if isinstance(kind, list):
        return _first_fitting(value, arg, kind, name)
    if kind == "array":
        value = _as_list(value, name)
        items = arg.get("items", {})
        value = [validate(item, items, f"{name}[{i}]") for i, item in enumerate(value)]
    elif kind == "object":
        if not isinstance(value, dict):
            raise _wrong_type(name, "object")
        properties = arg.get("properties", {})
        value = {
            key: validate(item, properties[key], f"{name}[{key}]") if key in properties else item
            for key, item in value.items()
        }
    elif kind in _SCALARS:
        value = _SCALARS[kind](value, name)
    if "enum" in arg and value not in arg["enum"]:
        options = sprintf_list(
            [json.dumps(v) if not isinstance(v, str) else v for v in arg["enum"]]
        )
        raise Invalid("rest_not_in_enum", f"{name} is not one of {options}.")
    if kind in ("integer", "number"):
        _check_bounds(value, arg, name)
    fmt = arg.get("format")
    if fmt == "date-time" and not _DATE.match(str(value)):
        raise Invalid("rest_invalid_date", "Invalid date.")
    if fmt == "email" and value != "" and not _EMAIL.match(str(value)):
        raise Invalid("rest_invalid_email", "Invalid email address.")
    return value


def _first_fitting(value: object, arg: dict, kinds: list[str], name: str) -> object:
    for kind in kinds:
        try:
            return validate(value, {**arg, "type": kind}, name)
        except Invalid:
            continue
    raise _wrong_type(name, ",".join(kinds))


def _as_list(value: object, name: str) -> list:
    """``wp_parse_list``: a PHP array, or a string split on commas and spaces."""
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,]+", value) if part]
    raise _wrong_type(name, "array")


def _wrong_type(name: str, kind: str) -> Invalid:
    return Invalid("rest_invalid_type", f"{name} is not of type {kind}.")


def _integer(value: object, name: str) -> int:
    number = _number(value, name, "integer")
    if number != int(number):
        raise _wrong_type(name, "integer")
    return int(number)


def _number(value: object, name: str, kind: str = "number") -> float:
    if isinstance(value, bool):
        raise _wrong_type(name, kind)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise _wrong_type(name, kind) from None


def _boolean(value: object, name: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower() if isinstance(value, str | int) else None
    if text not in ("true", "false", "1", "0"):
        raise _wrong_type(name, "boolean")
    return text in ("true", "1")


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _wrong_type(name, "string")
    return value


def _null(value: object, name: str) -> None:
    if value is not None:
        raise _wrong_type(name, "null")


_SCALARS = {
    "integer": _integer,
    "number": lambda value, name: _number(value, name),
    "boolean": _boolean,
    "string": _string,
    "null": _null,
}


def _check_bounds(value: float, arg: dict, name: str) -> None:
    low, high = arg.get("minimum"), arg.get("maximum")
    if low is not None and high is not None and not low <= value <= high:
        raise Invalid(
            "rest_out_of_bounds", f"{name} must be between {low} (inclusive) and {high} (inclusive)"
        )
    if low is not None and high is None and value < low:
        raise Invalid("rest_out_of_bounds", f"{name} must be greater than or equal to {low}")
    if high is not None and low is None and value > high:
        raise Invalid("rest_out_of_bounds", f"{name} must be less than or equal to {high}")

"""WooCommerce's settings API, for the settings the sandbox has: ``/settings/tax`` (the tax
group) and, of the general group, taxes, coupons and the currency options
(``/settings/general/woocommerce_price_num_decimals``).

Labels, types, defaults, options and tips are a real WooCommerce 10.0.2 store's
(``tests/fixtures/woo-captures/settings_tax.json``); the values are the sandbox's own:
taxes are on (it always has rates), prices are entered with tax or not as
``--prices-include-tax`` says, tax is rounded per line or at subtotal as
``--round-tax-at-subtotal`` says, and tax follows the billing address (the rate of the
billing country; the sandbox ships to the billing address). The general group's currency
options are labelled as the real stores in yen and dinars label them
(``tests/fixtures/woo-captures/jpy``, ``kwd``), with the store's currency, separators and
decimals (``--currency``, ``--decimals``, or ``POST /_sandbox/settings``); its store address
and selling locations are not there. The currency's options list the currencies the sandbox
knows, where WooCommerce lists all 163 it knows.
"""

from __future__ import annotations

from .currency import CURRENCIES
from .generate import Options
from .model import WooError

_INCL_EXCL = {"incl": "Including tax", "excl": "Excluding tax"}


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def groups(options: Options) -> dict[str, list[dict]]:
    """Each group's settings, in WooCommerce's order, without their links."""
    return {
        "general": [
            {
                "id": "woocommerce_calc_taxes",
                "label": "Enable taxes",
                "description": "Enable tax rates and calculations",
                "type": "checkbox",
                "default": "no",
                "tip": "Rates will be configurable and taxes will be calculated during checkout.",
                "value": "yes",
            },
            {
                "id": "woocommerce_enable_coupons",
                "label": "Enable coupons",
                "description": "Enable the use of coupon codes",
                "type": "checkbox",
                "default": "yes",
                "tip": "Coupons can be applied from the cart and checkout pages.",
                "value": "yes",
            },
            {
                "id": "woocommerce_calc_discounts_sequentially",
                "label": "",
                "description": "Calculate coupon discounts sequentially",
                "type": "checkbox",
                "default": "no",
                "tip": "When applying multiple coupons, apply the first coupon to the full price "
                "and the second coupon to the discounted price and so on.",
                "value": "no",
            },
            *_currency_options(options),
        ],
        "tax": [
            {
                "id": "woocommerce_prices_include_tax",
                "label": "Prices entered with tax",
                "description": "",
                "type": "radio",
                "default": "no",
                "options": {
                    "yes": "Yes, I will enter prices inclusive of tax",
                    "no": "No, I will enter prices exclusive of tax",
                },
                "tip": "This option is important as it will affect how you input prices. "
                "Changing it will not update existing products.",
                "value": _yes(options.prices_include_tax),
            },
            {
                "id": "woocommerce_tax_based_on",
                "label": "Calculate tax based on",
                "description": "",
                "type": "select",
                "default": "shipping",
                "options": {
                    "shipping": "Customer shipping address",
                    "billing": "Customer billing address",
                    "base": "Shop base address",
                },
                "tip": "This option determines which address is used to calculate tax.",
                "value": "billing",
            },
            {
                "id": "woocommerce_shipping_tax_class",
                "label": "Shipping tax class",
                "description": "Optionally control which tax class shipping gets, or leave it "
                "so shipping tax is based on the cart items themselves.",
                "type": "select",
                "default": "inherit",
                "options": {
                    "inherit": "Shipping tax class based on cart items",
                    "": "Standard",
                    "reduced-rate": "Reduced rate",
                    "zero-rate": "Zero rate",
                },
                "tip": "Optionally control which tax class shipping gets, or leave it so "
                "shipping tax is based on the cart items themselves.",
                "value": "inherit",
            },
            {
                "id": "woocommerce_tax_round_at_subtotal",
                "label": "Rounding",
                "description": "Round tax at subtotal level, instead of rounding per line",
                "type": "checkbox",
                "default": "no",
                "value": _yes(options.round_at_subtotal),
            },
            {
                "id": "woocommerce_tax_classes",
                "label": "Additional tax classes",
                "description": "",
                "type": "textarea",
                "default": "",
                "tip": "List additional tax classes you need below (1 per line, e.g. Reduced "
                'Rates). These are in addition to "Standard rate" which exists by default.',
                "value": "",
            },
            {
                "id": "woocommerce_tax_display_shop",
                "label": "Display prices in the shop",
                "description": "",
                "type": "select",
                "default": "excl",
                "options": _INCL_EXCL,
                "value": "excl",
            },
            {
                "id": "woocommerce_tax_display_cart",
                "label": "Display prices during cart and checkout",
                "description": "",
                "type": "select",
                "default": "excl",
                "options": _INCL_EXCL,
                "value": "excl",
            },
            {
                "id": "woocommerce_price_display_suffix",
                "label": "Price display suffix",
                "description": "",
                "type": "text",
                "default": "",
                "tip": "Define text to show after your product prices. This could be, for "
                'example, "inc. Vat" to explain your pricing. You can also have prices '
                "substituted here using one of the following: {price_including_tax}, "
                "{price_excluding_tax}.",
                "value": "",
            },
            {
                "id": "woocommerce_tax_total_display",
                "label": "Display tax totals",
                "description": "",
                "type": "select",
                "default": "itemized",
                "options": {"single": "As a single total", "itemized": "Itemized"},
                "value": "itemized",
            },
        ],
    }


def _currency_options(options: Options) -> list[dict]:
    money = options.money
    currency = (
        "This controls what currency prices are listed at in the catalog and which currency "
        "gateways will take payments in."
    )
    return [
        {
            "id": "woocommerce_currency",
            "label": "Currency",
            "description": currency,
            "type": "select",
            "default": "USD",
            "options": {c.code: f"{c.name} ({c.symbol}) — {c.code}" for c in CURRENCIES.values()},
            "tip": currency,
            "value": money.currency,
        },
        {
            "id": "woocommerce_currency_pos",
            "label": "Currency position",
            "description": "This controls the position of the currency symbol.",
            "type": "select",
            "default": "left",
            "options": {
                "left": "Left",
                "right": "Right",
                "left_space": "Left with space",
                "right_space": "Right with space",
            },
            "tip": "This controls the position of the currency symbol.",
            "value": "left",
        },
        _text("woocommerce_price_thousand_sep", "Thousand separator", ",", "thousand separator")
        | {"value": money.thousand_separator},
        _text("woocommerce_price_decimal_sep", "Decimal separator", ".", "decimal separator")
        | {"value": money.decimal_separator},
        {
            "id": "woocommerce_price_num_decimals",
            "label": "Number of decimals",
            "description": "This sets the number of decimal points shown in displayed prices.",
            "type": "number",
            "default": "2",
            "tip": "This sets the number of decimal points shown in displayed prices.",
            "value": str(money.decimals),
        },
    ]


def _text(setting_id: str, label: str, default: str, what: str) -> dict:
    sets = f"This sets the {what} of displayed prices."
    return {
        "id": setting_id,
        "label": label,
        "description": sets,
        "type": "text",
        "default": default,
        "tip": sets,
    }


def group(options: Options, group_id: str, site: str) -> list[dict]:
    """``GET /settings/<group_id>``: each setting with its links, as a collection shows it."""
    return [_linked(setting, group_id, site) for setting in _group(options, group_id)]


def setting(options: Options, group_id: str, setting_id: str, site: str) -> dict:
    """``GET /settings/<group_id>/<setting_id>``: one setting, which also names its group."""
    for found in _group(options, group_id):
        if found["id"] == setting_id:
            return _linked({**found, "group_id": group_id}, group_id, site)
    raise WooError("rest_setting_setting_invalid", "Invalid setting.", 404)


def _group(options: Options, group_id: str) -> list[dict]:
    settings = groups(options).get(group_id)
    if not settings:
        raise WooError("rest_setting_setting_group_invalid", "Invalid setting group.", 404)
    return settings


def _linked(found: dict, group_id: str, site: str) -> dict:
    collection = f"{site}/wp-json/wc/v3/settings/{group_id}"
    # WordPress words targetHints by the user's capabilities, not by the key's permissions:
    # a read-only key is offered POST, PUT and PATCH too (captured).
    return {
        **found,
        "_links": {
            "self": [
                {
                    "href": f"{collection}/{found['id']}",
                    "targetHints": {"allow": ["GET", "POST", "PUT", "PATCH"]},
                }
            ],
            "collection": [{"href": collection}],
        },
    }

"""What the store offers at checkout, as WooCommerce 10 lists it: its payment gateways
(``GET /payment_gateways``), the shipping method types (``GET /shipping_methods``), its
shipping zones (``GET /shipping/zones``) and each zone's methods
(``GET /shipping/zones/<id>/methods``).

Set up as the real-woocommerce kit's store is (captures in
``tests/fixtures/woo-captures/accounting``), with what the generated orders also use: zone 1
"United States" with flat rate (instance 1), free shipping (2) and local pickup (4); zone 0,
"Locations not covered by your other zones", with the same three (3, 5 and 6); the offline
gateways (cheque disabled, as on the kit's store, though older orders were paid by it) and
the Stripe and PayPal plugins'. An order's shipping line names its zone's instance: the zone
of its shipping address's country.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from .catalog import Catalog
from .model import SHIPPING_METHODS
from .params import schema
from .php import format_decimal

#: WooCommerce's name of zone 0, and the name its COD settings give it.
REST_OF_WORLD = "Locations not covered by your other zones"
_OTHER_LOCATIONS = "Other locations"
_TEXTS = schema("checkout")
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class ZoneMethod:
    instance_id: int
    method_id: str  # a SHIPPING_METHODS key
    order: int
    enabled: bool = True

    @property
    def title(self) -> str:
        return SHIPPING_METHODS[self.method_id][0]


@dataclass(frozen=True, slots=True)
class Zone:
    id: int
    name: str
    countries: tuple[str, ...]  # none for zone 0: every country no other zone has
    methods: tuple[ZoneMethod, ...]


ZONES = (
    Zone(
        0,
        REST_OF_WORLD,
        (),
        (
            ZoneMethod(3, "flat_rate", 1),
            ZoneMethod(5, "free_shipping", 2),
            ZoneMethod(6, "local_pickup", 3),
        ),
    ),
    Zone(
        1,
        "United States",
        ("US",),
        (
            ZoneMethod(1, "flat_rate", 1),
            ZoneMethod(2, "free_shipping", 2),
            ZoneMethod(4, "local_pickup", 3),
        ),
    ),
)
_ZONES = {zone.id: zone for zone in ZONES}


def zone(zone_id: int) -> Zone | None:
    return _ZONES.get(zone_id)


def zone_of(country: str) -> Zone:
    """The zone a package to ``country`` falls in: the first that names it, else zone 0."""
    return next((z for z in ZONES[1:] if country in z.countries), ZONES[0])


def instance_id(method_id: str, country: str) -> str:
    """The instance of ``method_id`` that checkout picks for a package to ``country``, as
    the order's shipping line keeps it ("3"); "" where its zone has none."""
    found = (m for m in zone_of(country).methods if m.method_id == method_id)
    return next((str(m.instance_id) for m in found), "")


# The answers


def payment_gateways(site: str) -> list[dict]:
    """Every gateway, in WooCommerce's order; orders are paid by these (PAYMENT_METHODS)."""
    return [_gateway(g, site) for g in _TEXTS["payment_gateways"]]


def _gateway(texts: dict, site: str) -> dict:
    gateway = copy.deepcopy(texts)
    gateway["settings_url"] = gateway["settings_url"].replace("{site}", site)
    if gateway["id"] == "cod":
        gateway["settings"]["enable_for_methods"]["options"] = _cod_shipping_options()
    base = f"{site}/wp-json/wc/v3/payment_gateways"
    gateway["_links"] = {
        "self": [{"href": f"{base}/{gateway['id']}", "targetHints": {"allow": ALL_METHODS[:4]}}],
        "collection": [{"href": base}],
    }
    return gateway


def _cod_shipping_options() -> dict:
    """``WC_Gateway_COD::load_shipping_method_options``: each type's instances by zone, zone 0
    last; types of one title share a group, the last type's alone ("Local pickup")."""
    options: dict[str, dict[str, str]] = {}
    zones = [*ZONES[1:], ZONES[0]]
    for method in _TEXTS["shipping_methods"]:
        title = method["title"]
        options[title] = {method["id"]: f"Any &quot;{title}&quot; method"}
        for z in zones:
            for m in z.methods:
                if m.method_id == method["id"]:
                    where = z.name if z.id else _OTHER_LOCATIONS
                    label = f"{where} &ndash; {m.title} (#{m.instance_id})"
                    options[title][f"{m.method_id}:{m.instance_id}"] = label
    return options


def shipping_methods(site: str) -> list[dict]:
    base = f"{site}/wp-json/wc/v3/shipping_methods"
    return [
        {
            **method,
            "_links": {
                "self": [{"href": f"{base}/{method['id']}", "targetHints": {"allow": ["GET"]}}],
                "collection": [{"href": base}],
            },
        }
        for method in _TEXTS["shipping_methods"]
    ]


def shipping_zones(site: str) -> list[dict]:
    base = f"{site}/wp-json/wc/v3/shipping/zones"
    return [
        {
            "id": z.id,
            "name": z.name,
            "order": 0,
            "_links": {
                "self": [{"href": f"{base}/{z.id}", "targetHints": {"allow": ALL_METHODS}}],
                "collection": [{"href": base}],
                "describedby": [{"href": f"{base}/{z.id}/locations"}],
            },
        }
        for z in ZONES
    ]


def zone_methods(z: Zone, site: str, catalog: Catalog) -> list[dict]:
    base = f"{site}/wp-json/wc/v3/shipping/zones/{z.id}"
    return [
        {
            "id": m.instance_id,
            "instance_id": m.instance_id,
            "title": m.title,
            "order": m.order,
            "enabled": m.enabled,
            "method_id": m.method_id,
            "method_title": m.title,
            "method_description": _TEXTS["method_descriptions"][m.method_id],
            "settings": _method_settings(m, catalog),
            "_links": {
                "self": [
                    {
                        "href": f"{base}/methods/{m.instance_id}",
                        "targetHints": {"allow": ALL_METHODS},
                    }
                ],
                "collection": [{"href": f"{base}/methods"}],
                "describes": [{"href": base}],
            },
        }
        for m in z.methods
    ]


def _method_settings(method: ZoneMethod, catalog: Catalog) -> dict:
    settings = copy.deepcopy(_TEXTS["method_settings"][method.method_id])
    settings["title"]["value"] = method.title
    if method.method_id == "flat_rate":
        cost = catalog.money.price(SHIPPING_METHODS["flat_rate"][1])
        decimals = catalog.money.decimals
        settings["cost"]["value"] = format_decimal(cost, decimals, decimals)
    return settings

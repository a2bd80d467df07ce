"""The store's tax rates: one standard rate per country, as ``WC_Tax`` keeps them.

The captured store had a single rate, US 8.5 %. The store has since become the real one
of ``tests/fixtures/real-shapes``: US 10 % and VAT for Germany, Britain and the
Netherlands. An order keeps the rate it was taxed at, as WooCommerce keeps ``rate_percent``
on its tax line, so orders 23-52 (the captured ones) stay at 8.5 %, by the id (1) that
``GET /taxes`` now lists at 10 %.

``GET /taxes`` and ``GET /taxes/classes`` answer as WooCommerce 10 does (captures in
``tests/fixtures/woo-captures/accounting``): every rate is of the standard class, priority 1,
not compound, on shipping too; the classes are WooCommerce's three.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaxRate:
    id: int
    country: str
    label: str
    per_mille: int  # 85 for 8.5 %

    @property
    def code(self) -> str:
        """``WC_Tax::get_rate_code``: country, state, name and priority, upper case."""
        return f"{self.country}-{self.label or 'TAX'}-1".upper()

    @property
    def percent(self) -> int | float:
        """``rate_percent`` as JSON shows it: 10, 8.5."""
        whole, tenths = divmod(self.per_mille, 10)
        return self.per_mille / 10 if tenths else whole

    @property
    def rate_text(self) -> str:
        """The rate as ``GET /taxes`` shows it, four decimals: "8.5000"."""
        whole, tenths = divmod(self.per_mille, 10)
        return f"{whole}.{tenths}000"


CAPTURED = {"US": TaxRate(1, "US", "US Sales Tax", 85)}
REAL = {
    "US": TaxRate(1, "US", "US Tax", 100),
    "DE": TaxRate(2, "DE", "MwSt", 190),
    "GB": TaxRate(3, "GB", "VAT", 200),
    "NL": TaxRate(4, "NL", "BTW", 210),
}
TABLES = {"real": REAL, "captured": CAPTURED}


#: ``WC_Tax::get_tax_classes`` after the standard one: (slug, name).
CLASSES = (
    ("standard", "Standard rate"),
    ("reduced-rate", "Reduced rate"),
    ("zero-rate", "Zero rate"),
)


def listed(table: dict[str, TaxRate], descending: bool, tax_class: str) -> list[TaxRate]:
    """The rates of ``GET /taxes``, of ``tax_class`` ("" for every class). Every rate here
    has order 0 and priority 1, so whatever ``orderby`` names they come by id."""
    rates = list(table.values()) if tax_class in ("", "standard") else []
    return sorted(rates, key=lambda rate: rate.id, reverse=descending)


def rate_json(rate: TaxRate, site: str) -> dict:
    base = f"{site}/wp-json/wc/v3/taxes"
    allow = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return {
        "id": rate.id,
        "country": rate.country,
        "state": "",
        "postcode": "",
        "city": "",
        "rate": rate.rate_text,
        "name": rate.label,
        "priority": 1,
        "compound": False,
        "shipping": True,
        "order": 0,
        "class": "standard",
        "postcodes": [],
        "cities": [],
        "_links": {
            "self": [{"href": f"{base}/{rate.id}", "targetHints": {"allow": allow}}],
            "collection": [{"href": base}],
        },
    }


def classes_json(site: str) -> list[dict]:
    collection = [{"href": f"{site}/wp-json/wc/v3/taxes/classes"}]
    return [
        {"slug": slug, "name": name, "_links": {"collection": collection}} for slug, name in CLASSES
    ]

"""The store's tax rates: one standard rate per country, as ``WC_Tax`` keeps them.

The captured store had a single rate, US 8.5 %. The store has since become the real one
of ``tests/fixtures/real-shapes``: US 10 % and VAT for Germany, Britain and the
Netherlands. An order keeps the rate it was taxed at, as WooCommerce keeps ``rate_percent``
on its tax line, so orders 23-52 (the captured ones) stay at 8.5 %, by the id (1) that
``GET /taxes`` now lists at 10 %.

``GET /taxes`` and ``GET /taxes/classes`` answer as WooCommerce 10 does (captures in
``tests/fixtures/woo-captures/accounting``): the rates orders are taxed at are of the standard
class, priority 1, not compound, on shipping too; the classes are WooCommerce's three. The
table ``kit`` lists besides them the rates the real-woocommerce kit's store was given for
issue 24: a Canadian GST and a compound PST over it, and a German reduced rate. No generated
order is taxed at those (nobody buys from Canada here, no product is of the reduced class):
they are for orders of that store served with ``--orders-file``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TaxRate:
    id: int
    country: str
    label: str
    per_mille: int  # 85 for 8.5 %
    #: Rates of one priority apply together, a compound one on the taxes of those before.
    priority: int = 1
    compound: bool = False
    tax_class: str = "standard"

    @property
    def code(self) -> str:
        """``WC_Tax::get_rate_code``: country, state, name and priority, upper case."""
        return f"{self.country}-{self.label or 'TAX'}-{self.priority}".upper()

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
TABLES = {"real": REAL, "captured": CAPTURED, "kit": REAL}
#: The rates a table lists that no generated order is taxed at.
LISTED_ONLY = {
    "kit": (
        TaxRate(5, "CA", "GST", 50),
        TaxRate(6, "CA", "PST", 70, priority=2, compound=True),
        TaxRate(7, "DE", "MwSt. ermäßigt", 70, tax_class="reduced-rate"),
    )
}


#: ``WC_Tax::get_tax_classes`` after the standard one: (slug, name).
CLASSES = (
    ("standard", "Standard rate"),
    ("reduced-rate", "Reduced rate"),
    ("zero-rate", "Zero rate"),
)


_SORTED_BY = {
    "id": lambda rate: rate.id,
    "order": lambda rate: rate.id,  # every rate's order is 0 here: ties, by id
    "priority": lambda rate: (rate.priority, rate.id),
}


def listed(rates: tuple[TaxRate, ...], orderby: str, descending: bool, tax_class: str) -> list:
    """The rates of ``GET /taxes`` of ``tax_class`` ("" for every class), sorted."""
    chosen = [rate for rate in rates if tax_class in ("", rate.tax_class)]
    return sorted(chosen, key=_SORTED_BY[orderby], reverse=descending)


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
        "priority": rate.priority,
        "compound": rate.compound,
        "shipping": True,
        "order": 0,
        "class": rate.tax_class,
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

"""The store's tax rates: one standard rate per country, as ``WC_Tax`` keeps them.

The captured store had a single rate, US 8.5 %. The store has since become the real one
of ``tests/fixtures/real-shapes``: US 10 % and VAT for Germany, Britain and the
Netherlands. An order keeps the rate it was taxed at, as WooCommerce keeps ``rate_percent``
on its tax line, so orders 23-52 (the captured ones) stay at 8.5 %.
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


CAPTURED = {"US": TaxRate(1, "US", "US Sales Tax", 85)}
REAL = {
    "US": TaxRate(1, "US", "US Tax", 100),
    "DE": TaxRate(2, "DE", "MwSt", 190),
    "GB": TaxRate(3, "GB", "VAT", 200),
    "NL": TaxRate(4, "NL", "BTW", 210),
}
TABLES = {"real": REAL, "captured": CAPTURED}

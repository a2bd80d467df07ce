"""The VAT rules of portal.sync.vat: summaries per code, and refunds by amount split over an
order's VAT codes to the cent."""

from decimal import Decimal as D

from portal.sync.vat import VatPart, allocate, parts_from_json, parts_to_json, split_refund, summary

CENT = D("0.01")


def part(code, base, amount, rate="19", rate_id=1):
    return VatPart(code, rate_id, D(rate), D(base), D(amount))


# An order of 354.80 carrying 32.26 of VAT: goods at 19 % and 7 %, shipping at 19 %.
ORDER = [
    (D("200.00"), [part("DE19", "200.00", "38.00")]),
    (D("80.00"), [part("DE7", "80.00", "5.60", "7", 2)]),
    (D("10.00"), [part("DE19", "10.00", "1.90")]),
]


def test_a_summary_adds_base_and_vat_up_per_code_in_code_order():
    rows = summary(parts for _, parts in ORDER)

    assert [(r.code, r.base, r.amount) for r in rows] == [
        ("DE19", D("210.00"), D("39.90")),
        ("DE7", D("80.00"), D("5.60")),
    ]


def test_a_compound_line_counts_its_net_as_the_base_of_both_codes():
    compound = [part("CA-GST", "100.00", "5.00", "5", 7), part("CA-PST", "100.00", "7.35", "7", 8)]

    rows = summary([compound])

    assert [(r.code, r.base, r.amount) for r in rows] == [
        ("CA-GST", D("100.00"), D("5.00")),
        ("CA-PST", D("100.00"), D("7.35")),
    ]


def test_parts_survive_json():
    parts = [part("DE19", "12.605", "2.395"), VatPart("RC", None, D("0"), D("5"), D("0"))]

    assert parts_from_json(parts_to_json(parts)) == parts


def test_a_full_refund_by_amount_reverses_exactly_the_orders_vat():
    total = sum(net + sum(p.amount for p in parts) for net, parts in ORDER)

    shares = split_refund(ORDER, total, CENT)

    assert sum(s.net + s.tax for s in shares) == total
    rows = summary(share.parts for share in shares)
    assert [(r.code, r.amount) for r in rows] == [("DE19", D("39.90")), ("DE7", D("5.60"))]


def test_a_partial_refund_by_amount_is_split_in_proportion_to_the_cent():
    shares = split_refund(ORDER, D("10.00"), CENT)

    assert sum(s.net + s.tax for s in shares) == D("10.00")
    # 10 / 335.50 of each cell: DE19 net 6.26, VAT 1.19 (38 + 1.90 = 39.90 → 1.189...)
    de19 = next(s for s in shares if s.codes == ("DE19",))
    de7 = next(s for s in shares if s.codes == ("DE7",))
    assert (de19.net, de19.tax) == (D("6.26"), D("1.19"))
    assert (de7.net, de7.tax) == (D("2.38"), D("0.17"))


def test_lines_without_a_code_form_a_group_of_their_own():
    order = [(D("50.00"), []), (D("50.00"), [part("DE19", "50.00", "9.50")])]

    shares = split_refund(order, D("109.50"), CENT)

    assert [(s.codes, s.net, s.tax) for s in shares] == [
        ((), D("50.00"), D("0")),
        (("DE19",), D("50.00"), D("9.50")),
    ]


def test_allocate_gives_the_units_left_to_the_largest_remainders():
    assert allocate([D(1), D(1), D(1)], D(3), D(1), CENT) == [D("0.34"), D("0.33"), D("0.33")]
    assert allocate([D(1), D(2)], D(3), D(3), CENT) == [D(1), D(2)]
    assert allocate([D(300), D(-100)], D(200), D(50), D(1)) == [D(75), D(-25)]


def test_partial_refunds_by_amount_that_come_to_the_total_reverse_exactly_the_orders_vat():
    total = sum(net + sum(p.amount for p in parts) for net, parts in ORDER)
    thirds = [D("111.83"), D("111.83"), total - D("223.66")]

    earlier, reversed_vat = D(0), []
    for refund in thirds:
        shares = split_refund(ORDER, refund, CENT, earlier=earlier)
        assert sum(s.net + s.tax for s in shares) == refund
        reversed_vat += [part for share in shares for part in share.parts]
        earlier += refund

    rows = summary([reversed_vat])
    assert [(r.code, r.amount) for r in rows] == [("DE19", D("39.90")), ("DE7", D("5.60"))]

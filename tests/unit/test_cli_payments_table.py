"""The human table of `backroom payments list`: empty state, unknown amounts, one line per payment."""

from cli.payments import money, table


def _row(**overrides):
    row = {
        "state": "unmatched",
        "id": "unmatched-7",
        "created_at": "2026-11-22T04:07:58.123456+00:00",
        "provider": "razorpay",
        "payment_id": None,
        "paid": {"amount": 2500, "currency": "EUR"},
        "owed": {"amount": None, "currency": None},
        "reason": "no checkout",
    }
    row.update(overrides)
    return row


def test_nothing_to_show_says_so():
    assert table([]) == "Nothing needs a person."


def test_unknown_amounts_and_ids_show_a_dash():
    assert money({"amount": None, "currency": None}) == "-"
    assert money({"amount": 0, "currency": "USD"}) == "0 USD"
    line = table([_row()]).splitlines()[1]
    assert line.split() == [
        "unmatched",
        "unmatched-7",
        "2026-11-22",
        "04:07:58",
        "razorpay",
        "-",
        "2500",
        "EUR",
        "-",
        "no",
        "checkout",
    ]


def test_a_reason_with_line_breaks_stays_on_one_line():
    lines = table([_row(reason="first\nsecond\r\nthird")]).splitlines()
    assert len(lines) == 2 and lines[1].endswith("first second third")

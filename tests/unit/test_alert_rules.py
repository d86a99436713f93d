from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from core.rules.alerts import LowStockLine, crossed, digest_order, email_context, rearms, slack_text

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def line(sku, stock, threshold=5, available=None, name=None):
    return LowStockLine(
        sku, name or f"Item {sku}", stock, stock if available is None else available, threshold
    )


def test_a_product_at_or_below_its_threshold_crosses_once():
    assert crossed(5, 5, None)
    assert crossed(0, 5, None)
    assert not crossed(6, 5, None)
    assert not crossed(3, 5, NOW)  # already alerted for this crossing


def test_no_threshold_never_crosses_even_out_of_stock():
    assert not crossed(0, 0, None)


def test_the_alert_rearms_only_above_the_threshold():
    assert rearms(6, 5, NOW)
    assert not rearms(5, 5, NOW)
    assert not rearms(6, 5, None)  # never alerted: nothing to re-arm


@given(st.integers(0, 50), st.integers(0, 50), st.booleans())
def test_crossing_and_rearming_never_both_apply(stock, threshold, alerted):
    alerted_at = NOW if alerted else None
    assert not (crossed(stock, threshold, alerted_at) and rearms(stock, threshold, alerted_at))


def test_digest_lists_out_of_stock_first_then_by_sku():
    lines = [line("c", 2), line("b", 0), line("a", 4), line("d", 0)]
    assert [x.sku for x in digest_order(lines)] == ["b", "d", "a", "c"]


def test_email_context_marks_out_of_stock_and_counts_them():
    context = email_context([line("b", 3, available=1), line("a", 0)])
    assert context["subject"] == "Low stock: 2 products at or below threshold (1 out of stock)"
    assert context["out_of_stock"] == 1
    assert context["products"][0] == {
        "sku": "a",
        "name": "Item a",
        "stock": 0,
        "available": 0,
        "threshold": 5,
        "out_of_stock": True,
    }
    assert context["products"][1]["available"] == 1


def test_slack_text_has_a_line_a_product_and_escapes_names():
    text = slack_text([line("m-1", 2, available=1), line("z-9", 0, name="Tea <&> cups")])
    heading, first, second = text.splitlines()
    assert heading == "*Low stock: 2 products at or below threshold (1 out of stock)*"
    assert first.startswith(":red_circle: *OUT OF STOCK* `z-9` Tea &lt;&amp;&gt; cups")
    assert second == ":warning: `m-1` Item m-1: stock 2, available 1, threshold 5"


def test_a_line_round_trips_through_json():
    original = line("x", 0, threshold=3)
    assert LowStockLine.from_json(original.as_json()) == original


def test_the_digest_email_renders_out_of_stock_first_and_escapes_names():
    from core.email.render import render

    context = email_context([line("b-2", 3, available=1), line("a-1", 0, name="<b>Mug</b>")])
    email = render("low_stock_digest", context)
    assert email.subject == "[backroom] Low stock: 2 products at or below threshold (1 out of stock)"
    assert "- OUT OF STOCK: a-1 <b>Mug</b>: stock 0, available 0, threshold 5" in email.text
    assert "- b-2 Item b-2: stock 3, available 1, threshold 5" in email.text
    assert email.text.index("a-1") < email.text.index("b-2")
    assert "&lt;b&gt;Mug&lt;/b&gt;" in email.html and "<b>Mug</b>" not in email.html
    assert "<strong>OUT OF STOCK</strong> a-1" in email.html

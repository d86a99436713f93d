"""reserve_new_checkout(): a new checkout's reservation in one round trip

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 22:30:00

The common case at checkout, a checkout id never seen before whose items are priced in one
currency and all fit, as one server-side call (db/queries/new_checkout.py says why and
when the service uses it). Any other case changes nothing and answers no row, and the service
takes its general path; a SKU that does not fit raises BR001, which undoes the whole call.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Lock order as everywhere (db/queries/reserved.py): the checkout, then product rows in SKU order
# (the database's collation, as lock_products takes them). The new holds wait for no one (nobody
# else sees them). With one SKU the counter UPDATE is its only lock; with several, one SELECT in
# SKU order locks them all before the holds are inserted. Either way the rows are held only until
# this call commits.
FUNCTION = """
CREATE OR REPLACE FUNCTION reserve_new_checkout(
    p_checkout varchar, p_email varchar, p_cart varchar, p_skus varchar[], p_quantities integer[],
    p_expires timestamptz, p_now timestamptz
) RETURNS TABLE (amount bigint, currency varchar)
LANGUAGE plpgsql AS $$
DECLARE
    v_lines integer := cardinality(p_skus);
    v_found integer;
    v_priced integer;
    v_currencies integer;
    v_with_currency integer;
    v_changed integer;
BEGIN
    -- Prices read without a lock, as the general path reads them: a reservation fixes what it read.
    SELECT count(*), count(p.price), count(p.currency), count(DISTINCT p.currency),
           sum(p.price::bigint * w.q), min(p.currency)
      INTO v_found, v_priced, v_with_currency, v_currencies, amount, currency
      FROM unnest(p_skus, p_quantities) AS w(sku, q) JOIN product p ON p.sku = w.sku;
    IF v_found <> v_lines OR v_priced <> v_lines OR v_with_currency <> v_lines OR v_currencies <> 1 THEN
        RETURN;  -- unknown, unpriced or mixed: the general path names what is wrong
    END IF;
    INSERT INTO checkout (checkout_id, email, cart_id, amount, currency)
        VALUES (p_checkout, p_email, p_cart, amount, currency)
        ON CONFLICT (checkout_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN;  -- not new: a repeat or a change, for the general path
    END IF;
    IF p_cart IS NOT NULL THEN  -- the cart reached checkout: no abandoned-cart reminders
        UPDATE cart SET state = 'converted', updated_at = p_now
            WHERE cart_id = p_cart AND state = 'active';
    END IF;
    IF v_lines > 1 THEN
        -- Before the holds: each hold's foreign-key check takes KEY SHARE on its product, in
        -- whatever order the INSERT visits them, and that conflicts with the low-stock alert's
        -- FOR UPDATE taken in the database's collation order. Locked here first, in that order.
        PERFORM 1 FROM product WHERE sku = ANY (p_skus) ORDER BY sku FOR NO KEY UPDATE;
    END IF;
    INSERT INTO reservation (checkout_id, sku, quantity, expires_at)
        SELECT p_checkout, w.sku, w.q, p_expires FROM unnest(p_skus, p_quantities) AS w(sku, q);
    UPDATE product p SET reserved = p.reserved + w.q
        FROM unnest(p_skus, p_quantities) AS w(sku, q)
        WHERE p.sku = w.sku AND p.stock - p.reserved >= w.q;
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    IF v_changed <> v_lines THEN
        -- Too little unreserved stock (expired holds may be in the way): undo the whole call.
        RAISE EXCEPTION 'a SKU does not fit' USING ERRCODE = 'BR001';
    END IF;
    RETURN NEXT;
END
$$;
"""


def upgrade() -> None:
    op.execute(FUNCTION)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION reserve_new_checkout(varchar, varchar, varchar, varchar[], integer[], "
        "timestamptz, timestamptz)"
    )

"""product reserved counter

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 07:30:00

`product.reserved` is the number of units held by `active` reservations of the product (expired
or not: an expired hold stays counted until something ends it). A reservation changes it with
one conditional UPDATE instead of summing live holds under the product's row lock.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("product", sa.Column("reserved", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint("product_reserved_nonnegative", "product", "reserved >= 0")
    # Lock the holds while counting them, so no reservation commits between the sum and the column.
    op.execute("LOCK TABLE reservation IN SHARE MODE")
    op.execute(
        "UPDATE product p SET reserved = s.held FROM (SELECT sku, SUM(quantity) AS held "
        "FROM reservation WHERE state = 'active' GROUP BY sku) s WHERE p.sku = s.sku"
    )


def downgrade() -> None:
    op.drop_constraint("product_reserved_nonnegative", "product", type_="check")
    op.drop_column("product", "reserved")

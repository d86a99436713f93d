"""reconcile attempts: when the reconciler last sent each stuck intent

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # NULL: never re-sent; the row's first send was at its creation.
    op.add_column("email_outbox", sa.Column("last_enqueued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("webhook_event", sa.Column("last_enqueued_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("webhook_event", "last_enqueued_at")
    op.drop_column("email_outbox", "last_enqueued_at")

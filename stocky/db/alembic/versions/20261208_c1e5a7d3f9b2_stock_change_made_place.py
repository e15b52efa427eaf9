"""stock change made_place: the change put the item in a place it had never
been (a scan made its SKU), so its undo takes the empty place away again

Existing rows keep false: their undo leaves the place, as it always did.

Revision ID: c1e5a7d3f9b2
Revises: 8a4f2c6e1d95
Create Date: 2026-12-08 00:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c1e5a7d3f9b2'
down_revision: str | None = '8a4f2c6e1d95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('stock_change', sa.Column('made_place', sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    # Plain DROP COLUMN on both databases, as the lots migration does.
    op.execute("ALTER TABLE stock_change DROP COLUMN made_place")

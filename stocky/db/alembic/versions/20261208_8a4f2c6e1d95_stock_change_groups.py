"""stock change groups: the journal rows of one change made of several
(a move: out of one place and into another, for each item it moved) share
``stock_change.group_id``, so that one undo reverses all of them

Existing rows stay ungrouped: each was, and stays, undone on its own. The
index holds only grouped rows, so a scan's journal row costs nothing more.

Revision ID: 8a4f2c6e1d95
Revises: 3d9f1c2a7b60
Create Date: 2026-12-08 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stocky.models.types import GUID

revision: str = '8a4f2c6e1d95'
down_revision: str | None = '3d9f1c2a7b60'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GROUPED = sa.text("group_id IS NOT NULL")


def upgrade() -> None:
    op.add_column('stock_change', sa.Column('group_id', GUID(), nullable=True))
    op.create_index(op.f('ix_stock_change_group_id'), 'stock_change', ['group_id'],
                    sqlite_where=_GROUPED, postgresql_where=_GROUPED)


def downgrade() -> None:
    op.drop_index(op.f('ix_stock_change_group_id'), table_name='stock_change')
    # Plain DROP COLUMN on both databases, as the lots migration does.
    op.execute("ALTER TABLE stock_change DROP COLUMN group_id")

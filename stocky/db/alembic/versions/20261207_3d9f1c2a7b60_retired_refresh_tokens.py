"""retired refresh tokens: every token a browser's sign-in moved past, so a
copy shown later ends the whole sign-in

Revision ID: 3d9f1c2a7b60
Revises: b7d2e4f6a813
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from stocky.models.types import GUID

revision: str = '3d9f1c2a7b60'
down_revision: str | None = 'b7d2e4f6a813'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'web_session_retired',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('session_id', GUID(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['web_session.id'],
                                name=op.f('fk_web_session_retired_session_id_web_session'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_web_session_retired')),
    )
    op.create_index(op.f('ix_web_session_retired_session_id'), 'web_session_retired', ['session_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_web_session_retired_session_id'), table_name='web_session_retired')
    op.drop_table('web_session_retired')

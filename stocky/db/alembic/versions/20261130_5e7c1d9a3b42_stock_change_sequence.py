"""stock change sequence: history in the order it happened, not by wall time

``stock_change.seq`` is a number the database gives each journal row as it
is written, one more than any before it, so an item's history reads newest
first even after the clock went back (NTP after a power cut, a wrong RTC).
The wall time stays in ``timestamp`` for display.

On PostgreSQL a sequence is the column's default (several Stocky processes
may write at once). On SQLite, where a default cannot be a query, Stocky's
INSERT takes ``MAX(seq) + 1`` itself (``models.stock_change.next_change_seq``;
writes there are one at a time, so it cannot be taken twice), and a trigger
numbers any row inserted without it. Any later migration that recreates
``stock_change`` (batch mode) drops that trigger with the old table and must
make it again.

Rows already there get their numbers in their current order (time, then
the order they were written in on SQLite).

Revision ID: 5e7c1d9a3b42
Revises: a026f7cacd57
Create Date: 2026-11-30 10:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e7c1d9a3b42'
down_revision: str | None = 'a026f7cacd57'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TRIGGER = (
    "CREATE TRIGGER stock_change_seq_after_insert AFTER INSERT ON stock_change "
    "WHEN new.seq IS NULL BEGIN "
    "UPDATE stock_change SET seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM stock_change) "
    "WHERE rowid = new.rowid; END"
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    sqlite = _sqlite()
    with op.batch_alter_table('stock_change', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
    tie_break = "rowid" if sqlite else "id"
    op.execute(
        "UPDATE stock_change SET seq = ordered.n FROM ("
        f"SELECT id, ROW_NUMBER() OVER (ORDER BY timestamp, {tie_break}) AS n FROM stock_change"
        ") AS ordered WHERE stock_change.id = ordered.id"
    )
    with op.batch_alter_table('stock_change', schema=None) as batch_op:
        batch_op.create_index('ix_stock_change_seq', ['seq'], unique=True)
        batch_op.create_index('ix_stock_change_item_id_seq', ['item_id', 'seq'], unique=False)
    if sqlite:
        op.execute(SQLITE_TRIGGER)
    else:
        op.execute("CREATE SEQUENCE stock_change_seq OWNED BY stock_change.seq")
        op.execute(
            "SELECT setval('stock_change_seq', COALESCE(MAX(seq), 0) + 1, false) FROM stock_change"
        )
        op.execute("ALTER TABLE stock_change ALTER COLUMN seq SET DEFAULT nextval('stock_change_seq')")


def downgrade() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS stock_change_seq_after_insert")
    else:
        op.execute("ALTER TABLE stock_change ALTER COLUMN seq DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS stock_change_seq")
    with op.batch_alter_table('stock_change', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_change_item_id_seq')
        batch_op.drop_index('ix_stock_change_seq')
        batch_op.drop_column('seq')

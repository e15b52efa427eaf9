"""lots, minimum stock and the shopping basket

``lot``: the units of a SKU that share a best-before date. The SKU's
quantity stays the one count; a SKU's lots never add up to more than it
holds. A CHECK refuses a negative lot; the sum is held by triggers, as a
CHECK cannot look at other rows:

- SQLite: AFTER triggers that ``RAISE(ABORT)`` when a lot grows past its
  SKU, or a SKU shrinks below its lots;
- PostgreSQL: one plpgsql function behind two constraint triggers (not
  deferred: checked at the end of each statement, as on SQLite).

Both only look when the change could break the rule (a lot growing, a SKU
shrinking), so adding stock costs nothing more. Stocky's services take from
the lots before the SKU and grow the SKU before its lots, so they never hit
them; the triggers are there for whatever else writes to the database.

``item.min_quantity`` (0: not kept) and ``item.in_basket`` (ticked off on
the shopping trip) start at 0 and false; ``stock_change.lots`` records the
lots a change touched. Every existing row stays as it was: existing units
have no date.

Revision ID: b7d2e4f6a813
Revises: 5c0e7b3f9a21
Create Date: 2026-11-30 11:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stocky.models.types

revision: str = 'b7d2e4f6a813'
down_revision: str | None = '5c0e7b3f9a21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOTS_OF_NEW = "(SELECT SUM(quantity) FROM lot WHERE sku_id = new.sku_id)"
_SKU_OF_NEW = "(SELECT quantity FROM sku WHERE id = new.sku_id)"
_REFUSE = "BEGIN SELECT RAISE(ABORT, 'lots exceed the quantity of their SKU'); END"
SQLITE_TRIGGERS = {
    "lot_within_sku_after_insert": (
        "CREATE TRIGGER lot_within_sku_after_insert AFTER INSERT ON lot "
        f"WHEN {_LOTS_OF_NEW} > {_SKU_OF_NEW} {_REFUSE}"
    ),
    "lot_within_sku_after_update": (
        "CREATE TRIGGER lot_within_sku_after_update AFTER UPDATE OF quantity, sku_id ON lot "
        f"WHEN {_LOTS_OF_NEW} > {_SKU_OF_NEW} {_REFUSE}"
    ),
    "sku_covers_lots_after_update": (
        "CREATE TRIGGER sku_covers_lots_after_update AFTER UPDATE OF quantity ON sku "
        "WHEN new.quantity < old.quantity AND "
        f"(SELECT COALESCE(SUM(quantity), 0) FROM lot WHERE sku_id = new.id) > new.quantity {_REFUSE}"
    ),
}

POSTGRESQL_FUNCTION = """
CREATE FUNCTION lot_within_sku() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    checked sku.id%TYPE;
BEGIN
    IF TG_TABLE_NAME = 'lot' THEN checked := NEW.sku_id; ELSE checked := NEW.id; END IF;
    IF (SELECT COALESCE(SUM(quantity), 0) FROM lot WHERE sku_id = checked)
       > (SELECT quantity FROM sku WHERE id = checked) THEN
        RAISE EXCEPTION 'lots exceed the quantity of SKU %', checked USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$
"""
POSTGRESQL_TRIGGERS = (
    "CREATE CONSTRAINT TRIGGER lot_within_sku AFTER INSERT OR UPDATE OF quantity, sku_id ON lot "
    "FOR EACH ROW EXECUTE FUNCTION lot_within_sku()",
    "CREATE CONSTRAINT TRIGGER sku_covers_lots AFTER UPDATE OF quantity ON sku "
    "FOR EACH ROW WHEN (NEW.quantity < OLD.quantity) EXECUTE FUNCTION lot_within_sku()",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    op.create_table('lot',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('sku_id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('best_before', sa.Date(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('warned', sa.String(length=10), nullable=True),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_lot_quantity_not_negative')),
    sa.CheckConstraint("warned IS NULL OR warned IN ('soon', 'expired')", name=op.f('ck_lot_warned')),
    sa.ForeignKeyConstraint(['sku_id'], ['sku.id'], name=op.f('fk_lot_sku_id_sku'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lot')),
    sa.UniqueConstraint('sku_id', 'best_before', name=op.f('uq_lot_sku_id_best_before'))
    )
    op.create_index(op.f('ix_lot_best_before'), 'lot', ['best_before'], unique=False)
    # Plain ADD COLUMN on both databases (no batch copy of ``item``, whose
    # FTS triggers on SQLite would go with the old table).
    op.execute(
        "ALTER TABLE item ADD COLUMN min_quantity INTEGER DEFAULT 0 NOT NULL "
        "CONSTRAINT ck_item_min_quantity_not_negative CHECK (min_quantity >= 0)"
    )
    op.execute("ALTER TABLE item ADD COLUMN in_basket BOOLEAN DEFAULT false NOT NULL")
    op.add_column('stock_change', sa.Column('lots', sa.JSON(), nullable=True))
    if _sqlite():
        for create in SQLITE_TRIGGERS.values():
            op.execute(create)
    else:
        op.execute(POSTGRESQL_FUNCTION)
        for create in POSTGRESQL_TRIGGERS:
            op.execute(create)


def downgrade() -> None:
    if _sqlite():
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS sku_covers_lots ON sku")
        op.execute("DROP TRIGGER IF EXISTS lot_within_sku ON lot")
        op.execute("DROP FUNCTION IF EXISTS lot_within_sku()")
    op.execute("ALTER TABLE stock_change DROP COLUMN lots")
    op.execute("ALTER TABLE item DROP COLUMN in_basket")
    op.execute("ALTER TABLE item DROP COLUMN min_quantity")
    op.drop_index(op.f('ix_lot_best_before'), table_name='lot')
    op.drop_table('lot')

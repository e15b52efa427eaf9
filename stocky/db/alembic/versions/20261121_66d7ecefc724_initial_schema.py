"""initial schema

Revision ID: 66d7ecefc724
Revises:
Create Date: 2026-11-21 22:11:22.939768
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import stocky.models.types

revision: str = '66d7ecefc724'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('alert',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('timestamp', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('severity', sa.String(length=50), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('is_acknowledged', sa.Boolean(), nullable=False),
    sa.CheckConstraint("severity IS NULL OR severity IN ('Info', 'Warning', 'Error')", name=op.f('ck_alert_severity')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_is_acknowledged'), ['is_acknowledged'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_timestamp'), ['timestamp'], unique=False)

    op.create_table('item',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('upc', sa.String(length=48), nullable=True),
    sa.Column('storage_type', sa.String(length=50), nullable=True),
    sa.Column('lookup_status', sa.String(length=20), nullable=True),
    sa.Column('total_quantity', sa.Integer(), nullable=False),
    sa.Column('stock_changed_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("lookup_status IS NULL OR lookup_status IN ('pending', 'found', 'not_found', 'failed')", name=op.f('ck_item_lookup_status')),
    sa.CheckConstraint("storage_type IS NULL OR storage_type IN ('Ambient', 'Refrigerated', 'Frozen')", name=op.f('ck_item_storage_type')),
    sa.CheckConstraint('total_quantity >= 0', name=op.f('ck_item_total_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item')),
    sa.UniqueConstraint('upc', name=op.f('uq_item_upc'))
    )
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_stock_changed_at'), ['stock_changed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_item_total_quantity'), ['total_quantity'], unique=False)

    op.create_table('location',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('storage_type', sa.String(length=50), nullable=True),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('created_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("storage_type IS NULL OR storage_type IN ('Ambient', 'Refrigerated', 'Frozen')", name=op.f('ck_location_storage_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('name', name=op.f('uq_location_name'))
    )
    op.create_table('user',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('api_key_hash', sa.String(length=64), nullable=True),
    sa.Column('api_key_prefix', sa.String(length=16), nullable=True),
    sa.Column('role', sa.String(length=50), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('created_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role IS NULL OR role IN ('Admin', 'Member', 'Scanner', 'Read-only')", name=op.f('ck_user_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('api_key_hash', name=op.f('uq_user_api_key_hash')),
    sa.UniqueConstraint('username', name=op.f('uq_user_username'))
    )
    op.create_table('sku',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('item_id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('location_id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('quantity >= 0', name=op.f('ck_sku_quantity_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_sku_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_sku_location_id_location'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku')),
    sa.UniqueConstraint('item_id', 'location_id', name=op.f('uq_sku_item_id_location_id'))
    )
    with op.batch_alter_table('sku', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sku_location_id'), ['location_id'], unique=False)

    op.create_table('stock_change',
    sa.Column('id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('timestamp', stocky.models.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('item_id', stocky.models.types.GUID(length=36), nullable=False),
    sa.Column('location_id', stocky.models.types.GUID(length=36), nullable=True),
    sa.Column('location_name', sa.String(length=255), nullable=False),
    sa.Column('delta', sa.Integer(), nullable=False),
    sa.Column('quantity_after', sa.Integer(), nullable=False),
    sa.Column('user_id', stocky.models.types.GUID(length=36), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('scan_id', sa.String(length=100), nullable=True),
    sa.CheckConstraint("source IS NULL OR source IN ('scan', 'ui', 'api')", name=op.f('ck_stock_change_source')),
    sa.CheckConstraint('quantity_after >= 0', name=op.f('ck_stock_change_quantity_after_not_negative')),
    sa.ForeignKeyConstraint(['item_id'], ['item.id'], name=op.f('fk_stock_change_item_id_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_stock_change_location_id_location'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_stock_change_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_change')),
    sa.UniqueConstraint('user_id', 'scan_id', name=op.f('uq_stock_change_user_id_scan_id'))
    )
    with op.batch_alter_table('stock_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_change_item_id'), ['item_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_change_item_id'))

    op.drop_table('stock_change')
    with op.batch_alter_table('sku', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sku_location_id'))

    op.drop_table('sku')
    op.drop_table('user')
    op.drop_table('location')
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_total_quantity'))
        batch_op.drop_index(batch_op.f('ix_item_stock_changed_at'))

    op.drop_table('item')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_timestamp'))
        batch_op.drop_index(batch_op.f('ix_alert_is_acknowledged'))

    op.drop_table('alert')

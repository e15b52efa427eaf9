"""search indexes: partial indexes for the first pages, an FTS5 trigram index

The inventory's first page (what is in stock, by name) and the shopping
list's (what is not, most recently emptied first) read their order from a
partial index instead of sorting every row.

On SQLite, ``item_fts`` indexes ``item.search_text`` with FTS5's trigram
tokenizer (SQLite 3.34 or later), so a search of three or more characters
looks its rows up instead of reading every item. It is an external content
table: it keeps only the index and reads the text from ``item`` by rowid.
Triggers keep it in step with every insert, delete and change of
``search_text`` (not of quantities: scans leave it alone). Any later
migration that recreates ``item`` (batch mode) drops these triggers with the
old table and must make them again and rebuild the index.

Revision ID: a026f7cacd57
Revises: 66d7ecefc724
Create Date: 2026-11-22 01:01:19.917091
"""

import sqlite3
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a026f7cacd57'
down_revision: str | None = '66d7ecefc724'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FTS_UP = (
    "CREATE VIRTUAL TABLE item_fts USING fts5("
    "search_text, content='item', content_rowid='rowid', tokenize='trigram')",
    "CREATE TRIGGER item_fts_after_insert AFTER INSERT ON item BEGIN "
    "INSERT INTO item_fts (rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER item_fts_after_delete AFTER DELETE ON item BEGIN "
    "INSERT INTO item_fts (item_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER item_fts_after_update AFTER UPDATE OF search_text ON item BEGIN "
    "INSERT INTO item_fts (item_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO item_fts (rowid, search_text) VALUES (new.rowid, new.search_text); END",
    # The items already there.
    "INSERT INTO item_fts (item_fts) VALUES ('rebuild')",
)
FTS_DOWN = (
    "DROP TRIGGER IF EXISTS item_fts_after_update",
    "DROP TRIGGER IF EXISTS item_fts_after_delete",
    "DROP TRIGGER IF EXISTS item_fts_after_insert",
    "DROP TABLE IF EXISTS item_fts",
)


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.create_index(
            'ix_item_label_in_stock',
            [sa.text('lower(coalesce(name, upc))'), 'id'],
            unique=False,
            sqlite_where=sa.text('total_quantity > 0'),
            postgresql_where=sa.text('total_quantity > 0'),
        )
        batch_op.create_index(
            'ix_item_changed_out_of_stock',
            [sa.text('stock_changed_at DESC'), 'id'],
            unique=False,
            sqlite_where=sa.text('total_quantity < 1'),
            postgresql_where=sa.text('total_quantity < 1'),
        )

    if _sqlite():
        if sqlite3.sqlite_version_info < (3, 34, 0):
            raise RuntimeError(
                f"Stocky needs SQLite 3.34 or later (FTS5 trigram search); this Python has "
                f"{sqlite3.sqlite_version}."
            )
        for statement in FTS_UP:
            op.execute(statement)


def downgrade() -> None:
    if _sqlite():
        for statement in FTS_DOWN:
            op.execute(statement)

    with op.batch_alter_table('item', schema=None) as batch_op:
        batch_op.drop_index('ix_item_changed_out_of_stock')
        batch_op.drop_index('ix_item_label_in_stock')

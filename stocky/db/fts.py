"""The full-text index of items on SQLite, which lives outside the models.

``item_fts`` is an FTS5 table with the trigram tokenizer over
``item.search_text`` (external content: it stores only the index, and reads
the text from ``item`` by rowid). Triggers on ``item`` keep it in step; the
migration that made it says how. FTS5 keeps the index in shadow tables
(``item_fts_data``, ``item_fts_idx``, ...), which the models know nothing
about: ``include_name`` keeps Alembic's comparison of the models with the
database away from all of them.
"""

from __future__ import annotations

from typing import Any

ITEM_FTS = "item_fts"
# The FTS5 trigram tokenizer, which indexes every three characters.
MIN_FTS_SEARCH = 3


def is_fts_name(name: str | None) -> bool:
    return bool(name) and (name == ITEM_FTS or name.startswith(f"{ITEM_FTS}_"))


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic's ``include_name``: everything but the full-text tables."""
    return not (type_ == "table" and is_fts_name(name))

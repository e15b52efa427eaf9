"""What would make B4's queries fast: the same 100,000 items, each query as
Stocky sends it now, and as it could be (a diagnostic, not part of the table).

    uv run python -m tests.bench.search_whatif [--items 100000]

Everything runs on a copy of the database with blocking ``sqlite3``, so the
figures are the SQL's alone (B4 shows the service adds little on top). The
variants only add indexes or rewrite the SQL; nothing in Stocky changes.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

from tests.bench.common import summary_ms
from tests.bench.search import build, queries

COLUMNS = ("item.id, item.name, item.description, item.upc, item.storage_type, item.lookup_status, "
           "item.total_quantity, item.stock_changed_at, item.search_text, item.created_at, item.updated_at")
ORDER = "ORDER BY lower(coalesce(item.name, item.upc)), item.id"


def now_sql(where: str) -> list[str]:
    """What ``crud.item.page`` sends today: a count over a subquery, then the page."""
    return [
        f"SELECT count(*) FROM (SELECT {COLUMNS} FROM item WHERE {where}) AS anon_1",
        f"SELECT {COLUMNS} FROM item WHERE {where} {ORDER} LIMIT 100 OFFSET 0",
    ]


def timed(conn: sqlite3.Connection, statements: list[str], params: tuple, repeats: int) -> dict:
    times = []
    for n in range(repeats + 2):
        t0 = time.perf_counter()
        for statement in statements:
            conn.execute(statement, params[: statement.count("?")]).fetchall()
        if n >= 2:
            times.append(time.perf_counter() - t0)
    return summary_ms(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="stocky-whatif-"))
    base = work / "stocky.db"
    built = build(base, args.items, 3 * args.items)
    print(f"{args.items:,} items built in {built['build_s']:.1f} s ({built['db_mb']:.0f} MB)")
    searches = [(label, text) for label, text in queries(built["codes"])]

    def report(title: str, conn: sqlite3.Connection, make: object) -> None:
        print(f"\n{title}")
        for label, text in [("first page (no search)", None), *searches]:
            statements, params = make(text)
            figure = timed(conn, statements, params, args.repeats)
            print(f"  {label:<22} {str(text or ''):<16} p50 {figure['p50_ms']:7.1f} ms  p95 {figure['p95_ms']:7.1f} ms")

    def like(text: str | None) -> tuple[list[str], tuple]:
        if text is None:
            return now_sql("item.total_quantity > ?"), (0,)
        pattern = "%" + text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return now_sql("item.search_text LIKE ? ESCAPE '\\' AND item.total_quantity > ?"), (pattern, 0)

    conn = sqlite3.connect(base, isolation_level=None)
    report("1. Today (the SQL Stocky sends)", conn, like)
    plan = conn.execute("EXPLAIN QUERY PLAN " + like("milk")[0][1], like("milk")[1]).fetchall()
    print("   plan of the search page:", "; ".join(r[-1] for r in plan))

    def like_no_index(text: str | None) -> tuple[list[str], tuple]:
        statements, params = like(text)
        if text is None:
            return statements, params
        # Unary + keeps the planner off ix_item_total_quantity: one pass over
        # the table instead of 70,000 index probes.
        return [s.replace("item.total_quantity > ?", "+item.total_quantity > ?") for s in statements], params

    report("2. Search without the total_quantity index (`+item.total_quantity > ?`)", conn, like_no_index)

    def one_pass(text: str | None) -> tuple[list[str], tuple]:
        statements, params = like_no_index(text)
        page = statements[1].replace(f"SELECT {COLUMNS}", f"SELECT {COLUMNS}, count(*) OVER () AS total")
        return [page], params

    report("3. As 2, and count and page in one statement (count(*) OVER ())", conn, one_pass)
    conn.close()

    indexed = work / "indexed.db"
    shutil.copy(base, indexed)
    conn = sqlite3.connect(indexed, isolation_level=None)
    t0 = time.perf_counter()
    conn.execute("CREATE INDEX ix_item_label_in_stock ON item (lower(coalesce(name, upc)), id) "
                 "WHERE total_quantity > 0")
    print(f"\n(partial expression index built in {time.perf_counter() - t0:.1f} s)")
    report("4. As 2, plus an index on the sort key of what is in stock", conn, like_no_index)
    plan = conn.execute("EXPLAIN QUERY PLAN " + like(None)[0][1], (0,)).fetchall()
    print("   plan of the first page:", "; ".join(r[-1] for r in plan))
    t0 = time.perf_counter()
    conn.execute("ANALYZE")
    print(f"\n(ANALYZE in {time.perf_counter() - t0:.1f} s)")
    report("5. As 1 (today's SQL), with the index of 4 and ANALYZE statistics", conn, like)

    t0 = time.perf_counter()
    conn.execute("CREATE VIRTUAL TABLE item_fts USING fts5(search_text, content='item', tokenize='trigram')")
    conn.execute("INSERT INTO item_fts(item_fts) VALUES ('rebuild')")
    print(f"\n(FTS5 trigram index built in {time.perf_counter() - t0:.1f} s; "
          f"database {indexed.stat().st_size / 2**20:.0f} MB)")

    def fts(text: str | None) -> tuple[list[str], tuple]:
        if text is None or len(text) < 3:
            return like_no_index(text)
        where = "item.rowid IN (SELECT rowid FROM item_fts WHERE item_fts MATCH ?) AND item.total_quantity > ?"
        quoted = '"' + text.casefold().replace('"', '""') + '"'
        page = f"SELECT {COLUMNS}, count(*) OVER () AS total FROM item WHERE {where} {ORDER} LIMIT 100 OFFSET 0"
        return [page], (quoted, 0)

    report("6. FTS5 trigram index for the search (3+ characters), count in the page", conn, fts)
    conn.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""B8: StockyWeb's first load, in gzipped bytes of JavaScript and CSS.

What a phone downloads before it can show anything: the scripts and
stylesheets ``index.html`` names, as Stocky sends them (the precompressed
``.gz`` copies). Chunks loaded later (labels, camera) are listed beside it.
The budget is 150 KB (DESIGN.md section 11).

    uv run python -m tests.bench.web_first_load
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from stocky.api.web import WEB_DIST
from tests.bench.common import BenchResult, Row

BUDGET_KB = 150.0


def sizes(dist: Path = WEB_DIST) -> tuple[dict[str, int], dict[str, int]]:
    """Gzipped sizes of the first load's files, and of the chunks loaded later."""
    html = (dist / "index.html").read_text(encoding="utf-8")
    first = re.findall(r'(?:src|href)="/(assets/[^"]+\.(?:js|css))"', html)
    every = sorted(str(p.relative_to(dist))[:-3] for p in (dist / "assets").glob("*.gz"))
    size = {name: (dist / f"{name}.gz").stat().st_size for name in every}
    return {n: size[n] for n in first}, {n: s for n, s in size.items() if n not in first}


def b7(cfg: dict[str, Any] | None = None, work: Path | None = None) -> BenchResult:
    out = BenchResult("B8", "StockyWeb first load (gzipped JS + CSS)")
    first, later = sizes()
    total_kb = sum(first.values()) / 1024
    out.rows.append(Row("B8", "first load, gzipped", round(total_kb, 1), "KB",
                        target=f"<= {BUDGET_KB:.0f} KB", met=total_kb <= BUDGET_KB,
                        note=", ".join(f"{Path(n).name} {s / 1024:.1f}" for n, s in first.items())))
    out.rows.append(Row("B8", "loaded on demand, gzipped", round(sum(later.values()) / 1024, 1), "KB",
                        note=", ".join(f"{Path(n).name} {s / 1024:.1f}" for n, s in later.items())))
    out.details = {"first_load": first, "on_demand": later}
    return out


if __name__ == "__main__":
    for row in b7().rows:
        print(f"{row.measure}: {row.value} {row.unit} {row.target} {'met' if row.met else '' if row.met is None else 'MISSED'}")
        print(f"  {row.note}")

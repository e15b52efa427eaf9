"""Profile a benchmarked Stocky under scan load with py-spy (sampling, from
outside the process, so the profile does not change what it measures).

    uv run python -m tests.bench.profile --target serve --concurrency 1 --duration 15
    uv run python -m tests.bench.profile --target kiosk --concurrency 20

py-spy is not a dependency of the project: by default it is run with
``uvx py-spy`` (a throwaway environment); ``--py-spy PATH`` names another.
Writes the collapsed stacks (``.txt``, for flamegraph tools or speedscope)
and prints the functions that cost the most, by their own time and by the
time spent under them. Needs permission to read the other process's memory
(root, or ``ptrace_scope`` 0).
"""

from __future__ import annotations

import argparse
import collections
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.common import (
    REPO,
    measure_http,
    prepare_kitchen,
    run_async,
    scan_bodies,
    stocky_server,
)


def summarize(collapsed: Path, top: int = 40, focus: str | None = None) -> str:
    """Own and inclusive sample counts per function from py-spy's raw output."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        if focus and not any(focus in f for f in frames):
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples" + (f" under {focus!r}" if focus else "")]
    lines.append("\nby own time:")
    for frame, count in own.most_common(top):
        lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    lines.append("\nby time under the function (stocky and its libraries):")
    for frame, count in inclusive.most_common(top * 3):
        if "stocky" in frame or "sqlalchemy" in frame or "aiohttp" in frame or "pydantic" in frame:
            lines.append(f"  {100 * count / total:5.1f}%  {frame}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", choices=("serve", "kiosk"), default="serve")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--py-spy", default="uvx py-spy", help="how to run py-spy")
    parser.add_argument("--out", default="bench-results/profile", help="prefix of the output files")
    parser.add_argument("--native", action="store_true", help="include native (C) frames")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="stocky-profile-"))
    kitchen = run_async(prepare_kitchen(work / "data", scanners=max(args.concurrency, 1)))
    out = Path(args.out)
    if not out.is_absolute():
        out = REPO / out
    out.parent.mkdir(parents=True, exist_ok=True)
    collapsed = out.with_name(f"{out.name}-{args.target}-c{args.concurrency}.txt")
    with stocky_server(args.target, Path(kitchen.data_dir), work / "server.log") as server:
        load = {
            "path": "/api/v1/scanner/scan", "keys": kitchen.scanner_keys[: args.concurrency],
            "bodies": scan_bodies(kitchen.barcodes), "concurrency": args.concurrency,
            "warmup_s": 1.0, "duration_s": 1.0,
        }
        measure_http(server, load)  # warm up
        spy = subprocess.Popen(
            [*shlex.split(args.py_spy), "record", "--pid", str(server.pid), "--rate", str(args.rate),
             "--duration", str(int(args.duration)), "--format", "raw", "--output", str(collapsed),
             "--gil", *(["--native"] if args.native else ["--nonblocking"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        time.sleep(1.0)
        result = measure_http(server, {**load, "warmup_s": 0.0, "duration_s": args.duration - 1.5})
        _, err = spy.communicate(timeout=args.duration + 60)
        if spy.returncode != 0 or not collapsed.exists():
            print(err.decode(errors="replace"), file=sys.stderr)
            return 1
    print(f"{args.target}, {args.concurrency} scanner(s): {result['throughput']:.0f} scans/s, "
          f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
          f"{result['server_cpu_ms_per_request']:.1f} ms server CPU per scan (while sampled)")
    print(summarize(collapsed))
    print(f"\nCollapsed stacks: {collapsed}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

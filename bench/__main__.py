"""Run every benchmark module (or those named) and print one table of results."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time
from typing import Any

import bench


def discover() -> list[str]:
    """Return the names of the bench_* modules in this package, sorted."""
    return sorted(
        info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_")
    )


def format_table(rows: list[dict[str, Any]]) -> str:
    """Lay out result rows as a plain-text table with one column per key."""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    cells = [[_cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmarks and print their rows."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all), e.g. badges")
    args = parser.parse_args(argv)
    wanted = [n if n.startswith("bench_") else f"bench_{n}" for n in args.names] or discover()
    tables: list[str] = []
    for name in wanted:
        started = time.perf_counter()
        print(f"running {name} …", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.{name}")
        result = module.run()
        print(f"  {name} took {time.perf_counter() - started:.1f} s", file=sys.stderr)
        # A benchmark returns its rows, or several tables by title.
        titled = result if isinstance(result, dict) else {"": result}
        for title, rows in titled.items():
            heading = name.removeprefix("bench_") + (f": {title}" if title else "")
            tables.append(f"== {heading} ==\n{format_table(rows)}")
    print("\n\n".join(tables))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

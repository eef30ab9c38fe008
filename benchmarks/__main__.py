"""Run the benchmarks: one JSON object per figure on stdout, then a summary table.

    python -m benchmarks                 # every measurement, full settings (minutes)
    python -m benchmarks --quick         # tiny settings, seconds: checks the machinery only
    python -m benchmarks --only data     # one measurement

A measurement is a module of this package with ``run(quick: bool) -> list[dict]``; add it to
`MEASUREMENTS` and it runs, prints and lands in the table like the others.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any

#: Name -> module, in the order they run.
MEASUREMENTS = {
    "data": "benchmarks.data",
    "train_throughput": "benchmarks.train_throughput",
    "trial_overhead": "benchmarks.trial_overhead",
    "workers": "benchmarks.workers",
    "storage": "benchmarks.storage",
    "report_scaling": "benchmarks.report_scaling",
}


def run(names: Sequence[str], quick: bool) -> list[dict[str, Any]]:
    """Run the named measurements in order, printing each figure as soon as it is measured."""
    figures = []
    for name in names:
        for result in importlib.import_module(MEASUREMENTS[name]).run(quick):
            print(json.dumps(result), flush=True)
            figures.append(result)
    return figures


def table(figures: Sequence[dict[str, Any]]) -> str:
    """The figures as aligned text: measurement, figure, ratio, target, met."""
    rows = [("benchmark", "figure", "ratio", "target", "met")]
    for f in figures:
        met = {True: "yes", False: "NO", None: "-"}[f["met"]]
        rows.append((f["benchmark"], f["figure"], f"{f['ratio']:.3f}", f["target"] or "-", met))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
                     for row in rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny settings, runs in seconds")
    parser.add_argument("--only", action="append", choices=list(MEASUREMENTS),
                        help="run only this measurement (repeatable)")
    args = parser.parse_args(argv)
    figures = run(args.only or list(MEASUREMENTS), args.quick)
    print(table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

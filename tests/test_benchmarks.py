"""``python -m benchmarks --quick`` runs and every figure it prints is well formed (not timed).

The benchmarks run as the documented command, in a subprocess from the project root, since the
``benchmarks`` package is not installed with sweep.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIGURE_KEYS = {"benchmark", "figure", "ratio", "target", "met", "values", "settings", "load"}
EXPECTED = {
    "data": {"cold_over_cache_hit", "cold_over_tarfile"},
    "train_throughput": {"sweep_keras_over_torch", "sweep_fused_over_torch",
                         "sweep_fused_over_keras"},
}


def _quick(*names: str) -> tuple[list[dict], str]:
    """Run the quick benchmarks; return the JSON figures and the rest of stdout (the table)."""
    only = [arg for name in names for arg in ("--only", name)]
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", *only], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    figures = [json.loads(line) for line in lines if line.startswith("{")]
    return figures, "\n".join(line for line in lines if not line.startswith("{"))


def _check(figure: dict) -> None:
    assert set(figure) == FIGURE_KEYS
    assert figure["figure"] in EXPECTED[figure["benchmark"]]
    assert isinstance(figure["ratio"], float) and math.isfinite(figure["ratio"])
    assert figure["ratio"] > 0
    if figure["target"] is None:
        assert figure["met"] is None
    else:
        op, bound = figure["target"].split()
        assert op in (">=", "<=") and float(bound) > 0
        assert figure["met"] is (figure["ratio"] >= float(bound) if op == ">="
                                 else figure["ratio"] <= float(bound))
    assert figure["settings"]["quick"] is True
    assert all(isinstance(v, (int, float)) for k, v in figure["values"].items()
               if k.endswith(("_seconds", "_per_second")))


def test_registry_lists_these_measurements() -> None:
    spec = importlib.util.spec_from_file_location("bench_main", ROOT / "benchmarks" / "__main__.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(EXPECTED) <= set(module.MEASUREMENTS)


def test_quick_benchmarks_emit_well_formed_figures() -> None:
    names = ["data"]
    if importlib.util.find_spec("torch") is not None:  # CI installs it with the bench extra
        names.append("train_throughput")
    figures, table = _quick(*names)
    assert {(f["benchmark"], f["figure"]) for f in figures} == {
        (name, figure) for name in names for figure in EXPECTED[name]}
    for figure in figures:
        _check(figure)
    assert table.splitlines()[0].split() == ["benchmark", "figure", "ratio", "target", "met"]
    assert len(table.splitlines()) == 1 + len(figures)


"""Benchmarks of issue 6: ratios measured side by side in one run (``python -m benchmarks``).

Each measurement is a module with ``run(quick: bool) -> list[dict]``, registered in
`benchmarks.__main__.MEASUREMENTS`; every dict is one figure built by `benchmarks._common.figure`.
Absolute times drift on a shared machine, so every figure is a ratio of two timings taken in the
same run, interleaved where that is cheap.
"""

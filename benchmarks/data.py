"""`data`: cold read + tokenize + vectorize of all 50,000 IMDB reviews, vs a cache hit and tarfile.

Cold means an empty ``SWEEP_CACHE_DIR``: `sweep.data` caches the parsed corpus as well as the
arrays, so a cache left by an earlier run would time the vectorizing only. The baseline is Python's
`tarfile` streaming the same archive and reading every member, which any reader has to do.
Targets (issue 6): the cache hit >= 20x faster than cold; cold <= 3x tarfile alone.
"""

from __future__ import annotations

import io
import os
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks._common import figure, median
from sweep.data import load_dataset
from sweep.data._corpus import synthetic_corpus
from sweep.params import resolve

#: The labelled IMDB archive that development and CI machines hold (see shared/data/README.md).
IMDB_TARBALL = Path(__file__).resolve().parents[2] / "shared/data/aclImdb_v1_labelled.tar.gz"

#: All 50,000 labelled reviews: the whole train split (train + val) and the whole test split.
FULL = {"n_train": 24000, "n_val": 1000, "n_test": 25000, "maxlen": 300}
#: A tiny archive in the same layout, built on the fly.
QUICK = {"n_train": 60, "n_val": 20, "n_test": 80, "maxlen": 300}


def imdb_tarball() -> Path:
    """``SWEEP_DATA`` if set (as for `sweep train`), else the shared copy of the archive."""
    return Path(os.environ.get("SWEEP_DATA") or IMDB_TARBALL)


@contextmanager
def cache_dir(path: Path) -> Iterator[None]:
    """Point `sweep.data` at ``path`` for the duration, then restore the caller's setting."""
    previous = os.environ.get("SWEEP_CACHE_DIR")
    os.environ["SWEEP_CACHE_DIR"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            del os.environ["SWEEP_CACHE_DIR"]
        else:
            os.environ["SWEEP_CACHE_DIR"] = previous


def tiny_tarball(path: Path, per_folder: int = 40) -> Path:
    """Write generated reviews in the aclImdb layout: seconds to read, same code path."""
    corpus = synthetic_corpus(n_train=2 * per_folder, n_test=2 * per_folder)
    with tarfile.open(path, "w:gz") as archive:
        for number, row in enumerate(corpus.itertuples()):
            data = row.text.encode()
            polarity = "pos" if row.label else "neg"
            member = tarfile.TarInfo(f"aclImdb/{row.split}/{polarity}/{number}_7.txt")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return path


def read_with_tarfile(path: Path) -> int:
    """Stream the archive and read every member's bytes; returns the number of files."""
    files = 0
    with tarfile.open(path, mode="r|*") as archive:
        for member in archive:
            if member.isfile():
                archive.extractfile(member).read()
                files += 1
    return files


def _timed(function: Any, *args: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def run(quick: bool) -> list[dict[str, Any]]:
    """Time cold loads, cache hits and plain tarfile reads, interleaved over a few rounds."""
    rounds = 1 if quick else 2
    config = resolve(QUICK if quick else FULL)
    cold, hit, plain = [], [], []
    with tempfile.TemporaryDirectory(prefix="sweep-bench-data-") as tmp:
        tarball = tiny_tarball(Path(tmp) / "tiny.tar.gz") if quick else imdb_tarball()
        for number in range(rounds):
            with cache_dir(Path(tmp) / f"cache-{number}"):  # new and empty: truly cold
                seconds, dataset = _timed(load_dataset, config, tarball)
                cold.append(seconds)
                seconds, dataset = _timed(load_dataset, config, tarball)
                if not dataset.from_cache:
                    raise RuntimeError("the second load_dataset missed the cache it just wrote")
                hit.append(seconds)
            seconds, files = _timed(read_with_tarfile, tarball)
            plain.append(seconds)
        values = {"cold_seconds": median(cold), "cache_hit_seconds": median(hit),
                  "tarfile_seconds": median(plain),
                  "reviews": sum(len(labels) for labels in dataset.y.values()),
                  "archive_files": files, "archive_bytes": tarball.stat().st_size}
    settings = {"quick": quick, "rounds": rounds, "archive": tarball.name,
                **{key: config[key] for key in FULL}}
    return [
        figure("data", "cold_over_cache_hit", values["cold_seconds"] / values["cache_hit_seconds"],
               ">= 20", values, settings),
        figure("data", "cold_over_tarfile", values["cold_seconds"] / values["tarfile_seconds"],
               "<= 3", values, settings),
    ]

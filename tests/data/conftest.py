"""Small data sources in the official layouts, generated per session, and the parsed real IMDB."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

import pandas as pd
import pytest

#: (split, polarity, id, rating, text): a few reviews per folder, ids chosen so that numeric and
#: string order differ (2 < 10), with the HTML line breaks IMDB reviews have.
SMALL_REVIEWS = [
    ("train", "pos", 10, 9, "A wonderful film.<br /><br />Loved every minute."),
    ("train", "pos", 2, 8, "Great acting and a moving story."),
    ("train", "pos", 7, 10, "Brilliant, the best film of the year."),
    ("train", "neg", 3, 1, "Awful. A waste of time."),
    ("train", "neg", 11, 4, "Boring plot, dull characters."),
    ("train", "neg", 0, 2, "Terrible acting<br />and worse writing."),
    ("test", "pos", 5, 7, "Fun and superb."),
    ("test", "pos", 1, 10, "Moving and brilliant."),
    ("test", "neg", 4, 3, "The worst, poor in every way."),
    ("test", "neg", 12, 1, "Hated it. Dull."),
]


def write_aclimdb(root: Path, reviews: list[tuple[str, str, int, int, str]] = SMALL_REVIEWS
                  ) -> Path:
    """Write reviews in the official layout, with the extra files the real archive holds."""
    base = root / "aclImdb"
    for split, polarity, review_id, rating, text in reviews:
        folder = base / split / polarity
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{review_id}_{rating}.txt").write_text(text, encoding="utf-8")
        (base / split / f"urls_{polarity}.txt").write_text("http://www.imdb.com/title/tt0/\n")
    (base / "README").write_text("Large Movie Review Dataset v1.0 (a small stand-in)\n")
    (base / "imdb.vocab").write_text("the\nand\n")
    (base / "imdbEr.txt").write_text("0.1\n0.2\n")
    unsup = base / "train" / "unsup"  # unlabelled reviews of the official archive: ignored
    unsup.mkdir(parents=True, exist_ok=True)
    (unsup / "0_0.txt").write_text("Unlabelled review.")
    return base


def write_targz(directory: Path, archive: Path) -> Path:
    """Pack a directory as ``aclImdb/...`` into a .tar.gz, byte-for-byte the same on every run."""

    def fixed(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
        return info

    with open(archive, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as tar:
        tar.add(directory, arcname="aclImdb", filter=fixed)
    return archive


@pytest.fixture(scope="session")
def small_aclimdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An unpacked aclImdb directory with ten labelled reviews (and one unlabelled)."""
    return write_aclimdb(tmp_path_factory.mktemp("small-dir"))


@pytest.fixture(scope="session")
def small_aclimdb_targz(small_aclimdb_dir: Path, tmp_path_factory: pytest.TempPathFactory
                        ) -> Path:
    """The same ten reviews as a .tar.gz in the official layout."""
    return write_targz(small_aclimdb_dir, tmp_path_factory.mktemp("small-tgz") / "small.tar.gz")


@pytest.fixture(scope="session")
def imdb_corpus(imdb_archive: Path) -> pd.DataFrame:
    """The real archive parsed once per session (about 8 s)."""
    from sweep.data._corpus import read_aclimdb

    return read_aclimdb(imdb_archive)

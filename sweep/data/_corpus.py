"""Readers that turn a data source into a corpus: one row per review with text, label and split.

Every source goes through the same shape, a DataFrame with columns ``text`` (str), ``label``
(0/1), ``split`` ("train"/"test") and ``rating`` (the star rating where the source has one), sorted
so that row order does not depend on archive or file-system order.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import tarfile
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from sweep.errors import DataError

#: ``aclImdb/train/pos/123_8.txt`` -> split, polarity, review id, star rating.
_ACLIMDB_MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")

TABLE_SUFFIXES = (".csv", ".tsv", ".jsonl", ".parquet")


def fingerprint_file(path: Path) -> str:
    """SHA-256 of a file's bytes: the identity of the data behind every cached array."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint_aclimdb_dir(root: Path) -> str:
    """SHA-256 over the names and bytes of a directory's review files, in sorted order."""
    digest = hashlib.sha256()
    for path in sorted(_aclimdb_files(root)):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _aclimdb_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.txt") if _ACLIMDB_MEMBER.search(p.as_posix())]


def _frame(rows: list[tuple[str, str, int, int, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["split", "polarity", "review_id", "rating", "text"])
    frame["label"] = (frame.pop("polarity") == "pos").astype("int8")
    frame = frame.sort_values(["split", "label", "review_id"], kind="stable")
    return frame.drop(columns="review_id").reset_index(drop=True)


def read_aclimdb(path: Path) -> pd.DataFrame:
    """Read the Large Movie Review Dataset from its ``.tar.gz`` (streamed) or an unpacked copy.

    Raises:
        DataError: the archive is corrupt or holds no labelled reviews.
    """
    rows: list[tuple[str, str, int, int, str]] = []
    if path.is_dir():
        for file in _aclimdb_files(path):
            split, polarity, review_id, rating = _ACLIMDB_MEMBER.search(file.as_posix()).groups()
            text = file.read_text(encoding="utf-8", errors="replace")
            rows.append((split, polarity, int(review_id), int(rating), text))
    else:
        try:
            with open(path, "rb") as raw:
                gzipped = raw.read(2) == b"\x1f\x8b"
                raw.seek(0)
                stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
                with tarfile.open(fileobj=stream, mode="r|") as archive:
                    for member in archive:
                        match = _ACLIMDB_MEMBER.search(member.name)
                        if match is None or not member.isfile():
                            continue
                        split, polarity, review_id, rating = match.groups()
                        text = archive.extractfile(member).read().decode("utf-8", "replace")
                        rows.append((split, polarity, int(review_id), int(rating), text))
                # tarfile stops at the first bad header as if the archive ended there; reading
                # the stream to its end makes gzip verify its CRC, so damage is an error.
                while stream.read(1 << 20):
                    pass
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            raise DataError(f"{path}: not a readable aclImdb archive ({err})") from err
    if not rows:
        raise DataError(
            f"{path}: no reviews in the aclImdb layout (expected train/pos/<id>_<rating>.txt)"
        )
    return _frame(rows)


def read_table(
    path: Path, text_column: str, label_column: str, split_column: str | None
) -> pd.DataFrame:
    """Read a user's CSV, TSV, JSONL or Parquet file of labelled texts.

    Labels may be 0/1, booleans, or neg/pos (negative/positive). Without a split column,
    20% of each class becomes the test split (a fixed draw, so the test set never moves).

    Raises:
        DataError: the file cannot be read, lacks a column, or has non-binary labels.
    """
    suffix = path.suffix.lower()
    readers = {
        ".csv": lambda: pd.read_csv(path),
        ".tsv": lambda: pd.read_csv(path, sep="\t"),
        ".jsonl": lambda: pd.read_json(path, lines=True),
        ".parquet": lambda: pd.read_parquet(path),
    }
    if suffix not in readers:
        raise DataError(f"{path}: unknown table format; use one of {', '.join(TABLE_SUFFIXES)}")
    try:
        table = readers[suffix]()
    except Exception as err:  # pandas raises many types; the user needs the file and the reason
        raise DataError(f"{path}: cannot read ({err})") from err
    for option, column in (("text_column", text_column), ("label_column", label_column),
                           ("split_column", split_column)):
        if column is not None and column not in table.columns:
            raise DataError(
                f"{path}: no column '{column}' ({option}); columns are: "
                + ", ".join(map(str, table.columns))
            )
    frame = pd.DataFrame({"text": table[text_column].fillna("").astype(str)})
    frame["label"] = _binary_labels(table[label_column], path, label_column)
    frame["rating"] = pd.NA
    if split_column is None:
        frame["split"] = _holdout_split(frame["label"].to_numpy())
    else:
        splits = table[split_column].astype(str).str.lower()
        bad = sorted(set(splits) - {"train", "test"})
        if bad:
            raise DataError(
                f"{path}: column '{split_column}' must hold train/test, found {bad[:3]}")
        frame["split"] = splits.to_numpy()
    return frame


_LABEL_WORDS = {"0": 0, "1": 1, "false": 0, "true": 1, "neg": 0, "pos": 1,
                "negative": 0, "positive": 1}


def _binary_labels(column: pd.Series, path: Path, name: str) -> np.ndarray:
    words = column.astype(str).str.strip().str.lower().str.removesuffix(".0")
    unknown = sorted(set(words) - set(_LABEL_WORDS))
    if unknown:
        raise DataError(
            f"{path}: column '{name}' must be a binary label (0/1, true/false, neg/pos); "
            f"found {unknown[:3]}"
        )
    return words.map(_LABEL_WORDS).to_numpy(dtype="int8")


def _holdout_split(labels: np.ndarray, test_share: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(20110619)  # fixed: the test split is part of the data, not a knob
    split = np.full(len(labels), "train", dtype=object)
    for label in (0, 1):
        members = rng.permutation(np.flatnonzero(labels == label))
        split[members[: round(len(members) * test_share)]] = "test"
    return split


#: Synthetic reviews: the label lives in a few words near the start, the rest is neutral filler,
#: and lengths vary widely, so post-padding buries the signal far from the last timestep.
_POSITIVE = ("great", "superb", "loved", "wonderful", "brilliant", "moving", "best", "fun")
_NEGATIVE = ("awful", "boring", "hated", "terrible", "worst", "dull", "waste", "poor")


def synthetic_corpus(n_train: int = 4000, n_test: int = 2000) -> pd.DataFrame:
    """Generate reviews that reproduce the flatten-vs-last mechanism in seconds (tests, demos)."""
    rng = np.random.default_rng(7)
    filler = np.array([f"w{i}" for i in range(1500)])
    rows = []
    for split, count in (("train", n_train), ("test", n_test)):
        for _ in range(count):
            label = int(rng.integers(2))
            length = int(np.clip(rng.lognormal(mean=4.3, sigma=0.6), 12, 400))
            words = list(rng.choice(filler, size=length))
            cue_words = _POSITIVE if label else _NEGATIVE
            for position in rng.choice(8, size=3, replace=False):
                words[position] = str(rng.choice(cue_words))
            rows.append((split, "pos" if label else "neg", len(rows), 0, " ".join(words)))
    frame = _frame(rows)
    frame["rating"] = pd.NA
    return frame

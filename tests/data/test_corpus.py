"""Readers: aclImdb (real archive, directory, .tar.gz), user tables, synthetic reviews."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sweep.data._corpus import read_aclimdb, read_table, synthetic_corpus
from sweep.errors import DataError
from tests.data.conftest import SMALL_REVIEWS, write_aclimdb, write_targz

COLUMNS = ["split", "rating", "text", "label"]


def test_real_archive_has_50000_balanced_reviews(imdb_corpus: pd.DataFrame) -> None:
    """25,000 train and 25,000 test reviews, 12,500 per label in each."""
    assert len(imdb_corpus) == 50_000
    assert sorted(imdb_corpus.columns) == sorted(COLUMNS)
    counts = imdb_corpus.groupby(["split", "label"]).size().to_dict()
    assert counts == {("test", 0): 12_500, ("test", 1): 12_500,
                      ("train", 0): 12_500, ("train", 1): 12_500}


def test_real_archive_ratings_match_the_labels(imdb_corpus: pd.DataFrame) -> None:
    """Negative reviews are rated 1-4 stars, positive ones 7-10, each rating present."""
    ratings = imdb_corpus["rating"].astype(int)
    assert set(ratings[imdb_corpus["label"] == 0]) == {1, 2, 3, 4}
    assert set(ratings[imdb_corpus["label"] == 1]) == {7, 8, 9, 10}


def test_real_archive_texts_are_the_files_bytes(imdb_corpus: pd.DataFrame,
                                                imdb_archive: Path) -> None:
    """Rows are sorted by split, label, numeric id, and hold each file's decoded text."""
    assert imdb_corpus["text"].str.len().min() > 0
    with tarfile.open(imdb_archive) as tar:
        first = tar.extractfile("aclImdb/test/neg/0_2.txt").read().decode()
        train_pos = tar.extractfile("aclImdb/train/pos/0_9.txt").read().decode()
    assert imdb_corpus.loc[0, "text"] == first
    assert int(imdb_corpus.loc[0, "rating"]) == 2
    row = 25_000 + 12_500  # after the test split and train/neg
    assert (imdb_corpus.loc[row, "split"], imdb_corpus.loc[row, "label"]) == ("train", 1)
    assert imdb_corpus.loc[row, "text"] == train_pos


def _expected_small() -> pd.DataFrame:
    rows = sorted(SMALL_REVIEWS, key=lambda r: (r[0], r[1] == "pos", r[2]))
    return pd.DataFrame({"split": [r[0] for r in rows], "rating": [r[3] for r in rows],
                         "text": [r[4] for r in rows],
                         "label": [int(r[1] == "pos") for r in rows]})


def test_small_directory_is_read_in_a_fixed_order(small_aclimdb_dir: Path) -> None:
    """An unpacked copy gives labels, ratings and texts, sorted; unsup/ and extras are ignored."""
    frame = read_aclimdb(small_aclimdb_dir)
    expected = _expected_small()
    assert len(frame) == len(SMALL_REVIEWS)
    assert frame["split"].tolist() == expected["split"].tolist()
    assert frame["label"].tolist() == expected["label"].tolist()
    assert frame["rating"].astype(int).tolist() == expected["rating"].tolist()
    assert frame["text"].tolist() == expected["text"].tolist()


def test_directory_and_targz_give_the_same_frame(small_aclimdb_dir: Path,
                                                 small_aclimdb_targz: Path) -> None:
    """The streamed archive and the unpacked directory read identically."""
    pd.testing.assert_frame_equal(read_aclimdb(small_aclimdb_targz),
                                  read_aclimdb(small_aclimdb_dir))


def test_parent_directory_of_aclimdb_is_read_too(small_aclimdb_dir: Path) -> None:
    """Pointing at the folder that holds aclImdb/ finds the same reviews."""
    pd.testing.assert_frame_equal(read_aclimdb(small_aclimdb_dir.parent),
                                  read_aclimdb(small_aclimdb_dir))


def test_truncated_real_archive_is_a_data_error(imdb_archive: Path, tmp_path: Path) -> None:
    """The first 2 MB of the real archive: DataError naming the file, not a gzip traceback."""
    broken = tmp_path / "aclImdb_v1.tar.gz"
    with open(imdb_archive, "rb") as source:
        broken.write_bytes(source.read(2 << 20))
    with pytest.raises(DataError, match=str(broken)):
        read_aclimdb(broken)


@pytest.mark.parametrize("where", [0.3, 0.5, 0.8])
def test_archive_with_flipped_bytes_is_a_data_error(small_aclimdb_targz: Path, tmp_path: Path,
                                                    where: float) -> None:
    """Corrupted compressed data is reported as a DataError naming the file."""
    data = bytearray(small_aclimdb_targz.read_bytes())
    start = int(len(data) * where)
    for i in range(start, start + 16):
        data[i] ^= 0xFF
    broken = tmp_path / "corrupt.tar.gz"
    broken.write_bytes(bytes(data))
    try:
        frame = read_aclimdb(broken)
    except DataError as err:
        assert str(broken) in str(err)
    else:
        pytest.fail(f"a corrupt archive was read without error: {len(frame)} of "
                    f"{len(SMALL_REVIEWS)} reviews")


def test_real_archive_with_flipped_bytes_is_a_data_error(imdb_archive: Path,
                                                         tmp_path: Path) -> None:
    """16 bytes flipped halfway through the real archive must not pass for a smaller IMDB."""
    data = bytearray(imdb_archive.read_bytes())
    middle = len(data) // 2
    data[middle: middle + 16] = bytes(b ^ 0xFF for b in data[middle: middle + 16])
    broken = tmp_path / "aclImdb_v1.tar.gz"
    broken.write_bytes(bytes(data))
    try:
        frame = read_aclimdb(broken)
    except DataError as err:
        assert str(broken) in str(err)
    else:
        counts = frame.groupby(["split", "label"]).size().to_dict()
        pytest.fail(f"a corrupt archive was read without error: {len(frame)} reviews {counts}")


def test_not_an_archive_is_a_data_error(tmp_path: Path) -> None:
    """A text file posing as the archive is refused with a DataError."""
    fake = tmp_path / "aclImdb_v1.tar.gz"
    fake.write_text("this is not a tarball\n" * 100)
    with pytest.raises(DataError, match="not a readable aclImdb archive"):
        read_aclimdb(fake)


def test_archive_without_reviews_is_a_data_error(tmp_path: Path) -> None:
    """A valid tar.gz with no train/pos/<id>_<rating>.txt files says what layout it expected."""
    folder = tmp_path / "other"
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "1_1.txt").write_text("hello")
    archive = write_targz(folder, tmp_path / "other.tar.gz")
    with pytest.raises(DataError, match="no reviews in the aclImdb layout"):
        read_aclimdb(archive)
    with pytest.raises(DataError, match="no reviews in the aclImdb layout"):
        read_aclimdb(folder)


def test_non_utf8_bytes_do_not_stop_the_reader(tmp_path: Path) -> None:
    """A review with invalid UTF-8 is read with replacement characters, in both forms."""
    base = write_aclimdb(tmp_path / "d", [("train", "pos", 0, 9, "ok"),
                                          ("test", "neg", 0, 1, "fine")])
    (base / "train" / "pos" / "0_9.txt").write_bytes(b"caf\xe9 ok")
    archive = write_targz(base, tmp_path / "a.tar.gz")
    for path in (base, archive):
        frame = read_aclimdb(path)
        assert frame.loc[frame["split"] == "train", "text"].item() == "caf\ufffd ok"


# ----------------------------------------------------------------------------- user tables

def _user_table(n_pos: int = 60, n_neg: int = 40) -> pd.DataFrame:
    labels = ["pos"] * n_pos + ["neg"] * n_neg
    return pd.DataFrame({
        "id": range(n_pos + n_neg),
        "review": [f"review number {i} is {label}" for i, label in enumerate(labels)],
        "sentiment": labels,
        "part": ["train" if i % 5 else "TEST" for i in range(n_pos + n_neg)],
    })


def _write(table: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".tsv":
        table.to_csv(path, sep="\t", index=False)
    elif suffix == ".jsonl":
        table.to_json(path, orient="records", lines=True)
    else:
        table.to_parquet(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".parquet"])
def test_read_table_formats_with_configured_columns(tmp_path: Path, suffix: str) -> None:
    """Each format gives text, 0/1 label and lower-cased split from the named columns."""
    table = _user_table()
    frame = read_table(_write(table, tmp_path / f"reviews{suffix}"), "review", "sentiment", "part")
    assert frame["text"].tolist() == table["review"].tolist()
    assert frame["label"].tolist() == [int(s == "pos") for s in table["sentiment"]]
    assert frame["split"].tolist() == table["part"].str.lower().tolist()
    assert frame["label"].dtype == np.int8


@pytest.mark.parametrize(("labels", "expected"), [
    ([0, 1, 1, 0], [0, 1, 1, 0]),
    ([0.0, 1.0, 1.0, 0.0], [0, 1, 1, 0]),
    ([False, True, True, False], [0, 1, 1, 0]),
    (["Negative", "POSITIVE", " pos ", "neg"], [0, 1, 1, 0]),
])
def test_binary_label_spellings(tmp_path: Path, labels: list, expected: list) -> None:
    """0/1, 0.0/1.0, booleans and neg/pos words (any case) are binary labels."""
    path = _write(pd.DataFrame({"text": list("abcd"), "label": labels}), tmp_path / "t.parquet")
    assert read_table(path, "text", "label", None)["label"].tolist() == expected


@pytest.mark.parametrize("labels", [[0, 1, 2, 1], ["good", "bad", "good", "bad"],
                                    [0, 1, None, 1]])
def test_non_binary_labels_are_a_data_error(tmp_path: Path, labels: list) -> None:
    """Three classes, other words or missing labels are refused, naming file and column."""
    path = _write(pd.DataFrame({"text": list("abcd"), "stars": labels}), tmp_path / "t.csv")
    with pytest.raises(DataError) as caught:
        read_table(path, "text", "stars", None)
    message = str(caught.value)
    assert str(path) in message and "'stars'" in message and "binary" in message


@pytest.mark.parametrize(("columns", "option", "missing"), [
    (("body", "sentiment", None), "text_column", "body"),
    (("review", "polarity", None), "label_column", "polarity"),
    (("review", "sentiment", "fold"), "split_column", "fold"),
])
def test_missing_column_is_a_data_error_naming_file_and_column(
        tmp_path: Path, columns: tuple, option: str, missing: str) -> None:
    """The message names the file, the missing column, its option and the columns present."""
    path = _write(_user_table(), tmp_path / "reviews.csv")
    with pytest.raises(DataError) as caught:
        read_table(path, *columns)
    assert str(caught.value) == (f"{path}: no column '{missing}' ({option}); "
                                 "columns are: id, review, sentiment, part")


def test_bad_split_values_are_a_data_error(tmp_path: Path) -> None:
    """A split column must hold train/test only."""
    table = _user_table()
    table.loc[3, "part"] = "validation"
    path = _write(table, tmp_path / "reviews.csv")
    with pytest.raises(DataError, match="'part' must hold train/test"):
        read_table(path, "review", "sentiment", "part")


def test_holdout_is_a_fixed_stratified_80_20_split(tmp_path: Path) -> None:
    """Without a split column, 20% of each class is test, the same rows on every read."""
    path = _write(_user_table(n_pos=60, n_neg=40), tmp_path / "reviews.csv")
    first = read_table(path, "review", "sentiment", None)
    counts = first.groupby(["split", "label"]).size().to_dict()
    assert counts == {("test", 0): 8, ("test", 1): 12, ("train", 0): 32, ("train", 1): 48}
    again = read_table(path, "review", "sentiment", None)
    assert again["split"].tolist() == first["split"].tolist()
    # The draw is not simply the first or last rows of each class.
    test_rows = np.flatnonzero(first["split"] == "test")
    assert not np.array_equal(test_rows[:12], np.arange(12))


def test_unknown_table_format_and_unreadable_files(tmp_path: Path) -> None:
    """Other suffixes and unparseable files are DataErrors naming the file."""
    odd = tmp_path / "reviews.xlsx"
    odd.write_text("x")
    with pytest.raises(DataError, match="unknown table format"):
        read_table(odd, "text", "label", None)
    broken = tmp_path / "reviews.parquet"
    broken.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=f"{broken}: cannot read"):
        read_table(broken, "text", "label", None)
    lines = tmp_path / "reviews.jsonl"
    lines.write_text(json.dumps({"text": "a", "label": 1}) + "\n{broken\n")
    with pytest.raises(DataError, match=f"{lines}: cannot read"):
        read_table(lines, "text", "label", None)


def test_missing_texts_become_empty_strings(tmp_path: Path) -> None:
    """An empty text cell is an empty review, not the string 'nan'."""
    path = _write(pd.DataFrame({"text": ["good", None, "bad"], "label": [1, 1, 0]}),
                  tmp_path / "t.parquet")
    assert read_table(path, "text", "label", None)["text"].tolist() == ["good", "", "bad"]


# ----------------------------------------------------------------------------- synthetic

def test_synthetic_corpus_is_deterministic_and_shaped_as_documented() -> None:
    """Same frame on every call; 4000/2000 reviews, balanced, lengths 12..400 tokens."""
    first, second = synthetic_corpus(), synthetic_corpus()
    pd.testing.assert_frame_equal(first, second)
    assert first["split"].value_counts().to_dict() == {"train": 4000, "test": 2000}
    assert 0.45 < first["label"].mean() < 0.55
    lengths = first["text"].str.split().str.len()
    assert lengths.min() == 12 and lengths.max() <= 400 and lengths.std() > 30


def test_synthetic_label_lives_in_the_first_eight_words() -> None:
    """Three cue words of the review's own label sit in the first 8 words; none elsewhere."""
    from sweep.data._corpus import _NEGATIVE, _POSITIVE

    frame = synthetic_corpus(n_train=300, n_test=0)
    for text, label in zip(frame["text"], frame["label"], strict=True):
        words = text.split()
        own, other = (_POSITIVE, _NEGATIVE) if label else (_NEGATIVE, _POSITIVE)
        assert sum(w in own for w in words[:8]) == 3
        assert not any(w in own for w in words[8:])
        assert not any(w in other for w in words)

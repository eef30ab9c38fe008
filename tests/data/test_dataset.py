"""load_dataset: real IMDB subsets, vocabulary, stats, the verified cache, finding the data."""

from __future__ import annotations

import functools
import hashlib
import http.server
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sweep.data import _corpus, _vectorize, cache_dir, download_imdb, load_dataset, locate
from sweep.data._vectorize import OOV, PAD, tokenize
from sweep.errors import DataError
from sweep.params import resolve

#: Small subsets of the real archive. vocab_size is larger than any subset's vocabulary so
#: every training word is learned, and post/post keeps the first maxlen tokens in place.
REAL = {"n_train": 301, "n_val": 150, "n_test": 201, "maxlen": 400, "vocab_size": 200_000,
        "padding": "post", "truncating": "post", "data_seed": 3}
IMDB_SHA256 = "e6b6ef8882b04d90034576e3b283915438e498770b4d68209f2dc2ecc296a5af"  # its README


def _arrays_equal(a: Any, b: Any) -> None:
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(a.x[split], b.x[split])
        np.testing.assert_array_equal(a.y[split], b.y[split])
        np.testing.assert_array_equal(a.lengths[split], b.lengths[split])


def _entry(dataset: Any) -> Path:
    return cache_dir() / "arrays" / f"{dataset.cache_key}.npz"


def _forget(dataset: Any) -> None:
    """Drop the vectorized arrays of ``dataset`` from the cache (the parsed corpus stays)."""
    entry = _entry(dataset)
    entry.unlink()
    entry.with_name(entry.name + ".sha256").unlink()


@pytest.fixture(scope="module")
def real(imdb_archive: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[dict[str, Any]]:
    """One fresh load of REAL from the archive, with the texts it tokenized, split by split."""
    texts: list[str] = []

    def spy(text: str) -> list[str]:
        texts.append(text)
        return tokenize(text)

    with pytest.MonkeyPatch.context() as patch:  # module scope runs before the autouse fixture
        patch.setenv("SWEEP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        patch.setattr(_vectorize, "tokenize", spy)
        config = resolve(REAL)
        dataset = load_dataset(config, imdb_archive)
    sizes = np.cumsum([0, REAL["n_train"], REAL["n_val"], REAL["n_test"]])
    assert len(texts) == sizes[-1], "each subset review is tokenized exactly once"
    by_split = {split: texts[sizes[i]: sizes[i + 1]]
                for i, split in enumerate(("train", "val", "test"))}
    yield {"config": config, "dataset": dataset, "texts": by_split}


def test_real_subsets_have_the_asked_sizes_and_shapes(real: dict[str, Any]) -> None:
    """x is (n, maxlen) int32, y is 0/1 float32, lengths count tokens before padding."""
    dataset = real["dataset"]
    assert not dataset.from_cache
    for split, n in (("train", 301), ("val", 150), ("test", 201)):
        assert dataset.x[split].shape == (n, REAL["maxlen"])
        assert dataset.x[split].dtype == np.int32
        assert dataset.y[split].dtype == np.float32
        assert set(np.unique(dataset.y[split])) == {0.0, 1.0}
        assert dataset.lengths[split].tolist() == [len(tokenize(t))
                                                   for t in real["texts"][split]]


def test_real_subsets_are_stratified(real: dict[str, Any]) -> None:
    """IMDB is balanced, so each subset is half positive, within one review."""
    for split in ("train", "val", "test"):
        y = real["dataset"].y[split]
        assert abs(y.sum() - len(y) / 2) <= 0.5 + 1e-9


def test_real_labels_belong_to_the_texts(real: dict[str, Any], imdb_corpus: pd.DataFrame) -> None:
    """Each row's label is the label of the review it was built from."""
    label_of = dict(zip(imdb_corpus["text"], imdb_corpus["label"], strict=True))
    for split in ("train", "val", "test"):
        assert [label_of[t] for t in real["texts"][split]] == real["dataset"].y[split].tolist()


def test_real_train_and_val_are_disjoint_and_from_train_test_from_test(
        real: dict[str, Any], imdb_corpus: pd.DataFrame) -> None:
    """No review is in both train and val (up to IMDB's own duplicates); test is IMDB's test."""
    pools = {split: imdb_corpus.loc[imdb_corpus["split"] == split, "text"]
             for split in ("train", "test")}
    copies = pools["train"].value_counts()
    texts = real["texts"]
    assert set(texts["train"]) <= set(pools["train"])
    assert set(texts["val"]) <= set(pools["train"])
    assert set(texts["test"]) <= set(pools["test"])
    shared = set(texts["train"]) & set(texts["val"])
    assert all(copies[t] > 1 for t in shared), "only texts IMDB itself holds twice may repeat"
    assert len(set(texts["train"])) >= len(texts["train"]) - 2


def test_vocabulary_is_learned_on_the_training_subset_only(real: dict[str, Any]) -> None:
    """A word absent from the training subset is OOV (1) in val and test; train has no OOV."""
    dataset, texts = real["dataset"], real["texts"]
    train_words = {w for t in texts["train"] for w in tokenize(t)}
    assert not np.any(dataset.x["train"] == OOV)
    unseen = 0
    for split in ("val", "test"):
        for row, text in zip(dataset.x[split], texts[split], strict=True):
            tokens = tokenize(text)[: REAL["maxlen"]]
            expected_oov = np.array([t not in train_words for t in tokens], dtype=bool)
            np.testing.assert_array_equal(row[: len(tokens)] == OOV, expected_oov)
            assert np.all(row[len(tokens):] == PAD)
            unseen += int(expected_oov.sum())
    assert unseen > 100, "the check must have seen words that only val/test hold"
    assert dataset.stats["vocabulary_learned"] == len(train_words) + 2


def test_same_word_gets_the_same_id_in_every_split(real: dict[str, Any]) -> None:
    """One vocabulary encodes all splits: a training word has one id everywhere."""
    dataset, texts = real["dataset"], real["texts"]
    ids: dict[str, int] = {}
    for split in ("train", "val", "test"):
        for row, text in zip(dataset.x[split], texts[split], strict=True):
            for word, index in zip(tokenize(text), row, strict=False):
                if index != OOV:
                    assert ids.setdefault(word, int(index)) == index
    assert 2 in ids.values() and min(ids.values()) == 2


def test_stats_are_recorded_per_split(real: dict[str, Any]) -> None:
    """Mean length, truncated share, padded share and positive share describe the arrays."""
    dataset = real["dataset"]
    for split in ("train", "val", "test"):
        stats, lengths = dataset.stats[split], dataset.lengths[split]
        assert stats["n"] == len(lengths)
        assert stats["mean_length"] == pytest.approx(lengths.mean())
        assert stats["truncated_share"] == pytest.approx(np.mean(lengths > REAL["maxlen"]))
        assert stats["padded_share"] == pytest.approx(np.mean(dataset.x[split] == PAD))
        assert stats["positive_share"] == pytest.approx(dataset.y[split].mean())
        assert 150 < stats["mean_length"] < 350  # IMDB reviews: about 230 words on average


def test_same_data_seed_rebuilds_the_same_subsets(real: dict[str, Any],
                                                  imdb_archive: Path) -> None:
    """Rebuilt from scratch (cache entry removed), the arrays are identical."""
    _forget(real["dataset"])
    again = load_dataset(real["config"], imdb_archive)
    assert not again.from_cache
    assert again.cache_key == real["dataset"].cache_key
    assert again.fingerprint == IMDB_SHA256
    _arrays_equal(again, real["dataset"])
    assert again.stats == real["dataset"].stats


def test_other_data_seeds_draw_other_subsets(real: dict[str, Any], imdb_archive: Path) -> None:
    """A different data_seed changes every split and the cache key."""
    other = load_dataset(resolve({**REAL, "data_seed": 4}), imdb_archive)
    assert other.cache_key != real["dataset"].cache_key
    for split in ("train", "val", "test"):
        assert not np.array_equal(other.lengths[split], real["dataset"].lengths[split])


def test_more_reviews_than_the_split_holds_is_a_data_error(imdb_archive: Path) -> None:
    """25,000 train reviews cannot give n_train + n_val = 25,001, nor test 25,001."""
    with pytest.raises(DataError, match="asks for 25001 reviews but the split holds 25000"):
        load_dataset(resolve({**REAL, "n_train": 24_901, "n_val": 100}), imdb_archive)
    with pytest.raises(DataError, match="n_test asks for 25001"):
        load_dataset(resolve({**REAL, "n_test": 25_001}), imdb_archive)


def test_whole_split_can_be_drawn(small_aclimdb_dir: Path) -> None:
    """Asking for exactly what a split holds works, and uses every review once."""
    dataset = load_dataset(resolve({"n_train": 4, "n_val": 2, "n_test": 4, "maxlen": 5}),
                           small_aclimdb_dir)
    assert [len(dataset.y[s]) for s in ("train", "val", "test")] == [4, 2, 4]
    assert dataset.y["train"].sum() + dataset.y["val"].sum() == 3


# ----------------------------------------------------------------------------- the cache

def _raise(*args: Any, **kwargs: Any) -> None:
    raise AssertionError("the cache was bypassed: data was parsed or tokenized again")


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in ((_corpus, "read_aclimdb"), (_corpus, "read_table"),
                         (_corpus, "synthetic_corpus"), (_vectorize, "tokenize"),
                         (_vectorize, "build_vocabulary"), (_vectorize, "pad")):
        monkeypatch.setattr(module, name, _raise)


def test_second_call_is_a_cache_hit_without_parsing(real: dict[str, Any], imdb_archive: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The same settings again: from_cache, identical arrays, nothing parsed or tokenized."""
    load_dataset(real["config"], imdb_archive)  # whatever earlier tests did, it is cached now
    _no_parsing(monkeypatch)
    hit = load_dataset(real["config"], imdb_archive)
    assert hit.from_cache
    _arrays_equal(hit, real["dataset"])
    assert hit.stats == real["dataset"].stats


@pytest.mark.parametrize("name", ["maxlen", "padding", "truncating", "vocab_size", "n_test",
                                  "data_seed"])
def test_every_data_setting_is_part_of_the_cache_key(name: str) -> None:
    """Changing any parameter that shapes the arrays misses the cache."""
    base = resolve({"source": "synthetic", "n_train": 50, "n_val": 20, "n_test": 20,
                    "maxlen": 30, "vocab_size": 300})
    changed = {"maxlen": 31, "padding": "pre", "truncating": "post", "vocab_size": 301,
               "n_test": 21, "data_seed": 1}[name]
    first = load_dataset(base)
    other = load_dataset({**base, name: changed})
    assert other.cache_key != first.cache_key
    assert (len(other.y["test"]), other.x["test"].shape[1]) == (
        20 + (name == "n_test"), 30 + (name == "maxlen"))


def test_model_settings_share_the_cached_arrays() -> None:
    """Parameters that change only the network reuse the same arrays."""
    base = resolve({"source": "synthetic", "n_train": 50, "n_val": 20, "n_test": 20,
                    "maxlen": 30, "vocab_size": 300})
    first = load_dataset(base)
    second = load_dataset({**base, "head": "last", "units": 7, "epochs": 2, "seed": 5})
    assert second.cache_key == first.cache_key and second.from_cache


@pytest.mark.parametrize("damage", ["flip", "truncate", "sidecar"])
def test_corrupted_cache_entry_is_detected_and_rebuilt(damage: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Flipped bytes, a truncated file or a wrong checksum: rebuilt, never trusted."""
    config = resolve({"source": "synthetic", "n_train": 40, "n_val": 20, "n_test": 30,
                      "maxlen": 25, "vocab_size": 500, "data_seed": 11})
    good = load_dataset(config)
    entry = _entry(good)
    data = bytearray(entry.read_bytes())
    if damage == "flip":
        middle = len(data) // 2
        data[middle: middle + 8] = bytes(b ^ 0xFF for b in data[middle: middle + 8])
        entry.write_bytes(bytes(data))
    elif damage == "truncate":
        entry.write_bytes(bytes(data[: len(data) // 3]))
    else:
        entry.with_name(entry.name + ".sha256").write_text("0" * 64)
    rebuilt = load_dataset(config)
    assert not rebuilt.from_cache
    _arrays_equal(rebuilt, good)
    _no_parsing(monkeypatch)
    assert load_dataset(config).from_cache, "the rebuilt entry is cached again"


def test_corrupted_corpus_cache_is_reparsed(small_aclimdb_dir: Path) -> None:
    """The parsed-corpus cache is verified too: a damaged parquet is parsed again."""
    config = resolve({"n_train": 3, "n_val": 1, "n_test": 2, "maxlen": 6, "data_seed": 9})
    first = load_dataset(config, small_aclimdb_dir)
    corpus_files = list((cache_dir() / "corpus").glob(f"{first.fingerprint[:32]}-*.parquet"))
    assert len(corpus_files) == 1
    corpus_files[0].write_bytes(b"garbage" + corpus_files[0].read_bytes()[7:])
    _forget(first)
    again = load_dataset(config, small_aclimdb_dir)
    assert not again.from_cache
    _arrays_equal(again, first)


def test_changed_data_content_misses_the_cache(tmp_path: Path) -> None:
    """Editing one review changes the fingerprint, so old arrays are not reused."""
    from tests.data.conftest import SMALL_REVIEWS, write_aclimdb

    base = write_aclimdb(tmp_path / "copy")
    config = resolve({"n_train": 3, "n_val": 1, "n_test": 2, "maxlen": 6})
    before = load_dataset(config, base)
    split, polarity, review_id, rating, _ = SMALL_REVIEWS[0]
    (base / split / polarity / f"{review_id}_{rating}.txt").write_text("Changed text.")
    after = load_dataset(config, base)
    assert after.fingerprint != before.fingerprint
    assert after.cache_key != before.cache_key and not after.from_cache


def test_targz_and_directory_give_the_same_arrays(small_aclimdb_dir: Path,
                                                  small_aclimdb_targz: Path) -> None:
    """The archive and its unpacked copy vectorize identically."""
    config = resolve({"n_train": 4, "n_val": 1, "n_test": 3, "maxlen": 8, "data_seed": 2})
    _arrays_equal(load_dataset(config, small_aclimdb_dir),
                  load_dataset(config, small_aclimdb_targz))


def test_table_source_is_loaded_from_a_csv(tmp_path: Path) -> None:
    """source=csv reads the user's file with its configured columns."""
    rows = 50
    table = pd.DataFrame({"body": [f"good film {i}" if i % 2 else f"bad film {i}"
                                   for i in range(rows)],
                          "y": [i % 2 for i in range(rows)]})
    path = tmp_path / "mine.csv"
    table.to_csv(path, index=False)
    config = resolve({"source": "csv", "text_column": "body", "label_column": "y",
                      "n_train": 30, "n_val": 10, "n_test": 10, "maxlen": 4})
    dataset = load_dataset(config, path)
    assert dataset.fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(dataset.y["test"]) == 10
    with pytest.raises(DataError, match="asks for 41 reviews but the split holds 40"):
        load_dataset({**config, "n_train": 31}, path)


def test_aclimdb_source_refuses_a_table_file(tmp_path: Path) -> None:
    """Pointing source=aclimdb at a CSV says to use source=csv."""
    path = tmp_path / "mine.csv"
    path.write_text("text,label\ngood,1\n")
    with pytest.raises(DataError, match="use source=csv"):
        load_dataset(resolve({}), path)


# ----------------------------------------------------------------------------- locating

@pytest.fixture
def three_paths(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name in ("cli", "env", "config"):
        paths[name] = tmp_path / f"{name}.tar.gz"
        paths[name].write_bytes(b"x")
    return paths


def test_data_option_wins_over_env_and_config(three_paths: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """--data, then SWEEP_DATA, then data.path: the first one given wins."""
    monkeypatch.setenv("SWEEP_DATA", str(three_paths["env"]))
    cli, config = str(three_paths["cli"]), str(three_paths["config"])
    assert locate("aclimdb", cli, config) == three_paths["cli"]
    assert locate("aclimdb", None, config) == three_paths["env"]
    monkeypatch.delenv("SWEEP_DATA")
    assert locate("aclimdb", None, config) == three_paths["config"]
    assert locate("csv", cli, None) == three_paths["cli"]


def test_load_dataset_follows_the_precedence(small_aclimdb_dir: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """load_dataset reads the file --data names even when SWEEP_DATA and data.path are set."""
    from tests.data.conftest import write_aclimdb

    other = write_aclimdb(tmp_path / "other", [("train", "pos", 0, 9, "yes"),
                                                ("train", "neg", 0, 1, "no"),
                                                ("test", "pos", 0, 8, "yes yes")])
    config = resolve({"n_train": 1, "n_val": 1, "n_test": 1, "maxlen": 3})
    monkeypatch.setenv("SWEEP_DATA", str(small_aclimdb_dir))
    explicit = load_dataset(config, data_path=other, config_path=small_aclimdb_dir)
    from_env = load_dataset(config, config_path=other)
    assert explicit.fingerprint == _corpus.fingerprint_aclimdb_dir(other)
    assert from_env.fingerprint == _corpus.fingerprint_aclimdb_dir(small_aclimdb_dir)


@pytest.mark.parametrize("origin", ["--data", "SWEEP_DATA", "data.path"])
def test_missing_path_is_a_data_error_naming_its_origin(origin: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A named path that does not exist is an error naming where it came from, no fallback."""
    missing = tmp_path / "nowhere" / "aclImdb_v1.tar.gz"
    existing = tmp_path / "there.tar.gz"
    existing.write_bytes(b"x")
    cli = str(missing) if origin == "--data" else None
    if origin == "SWEEP_DATA":
        monkeypatch.setenv("SWEEP_DATA", str(missing))
    config = str(missing) if origin == "data.path" else None
    if origin == "--data":
        monkeypatch.setenv("SWEEP_DATA", str(existing))  # a later candidate must not rescue it
    with pytest.raises(DataError) as caught:
        load_dataset(resolve({}), cli, config)
    assert str(caught.value) == f"{origin}: {missing} does not exist"


def test_synthetic_needs_no_path_and_tables_need_one() -> None:
    """Synthetic data is generated; a csv source without a file says how to give one."""
    assert locate("synthetic", "/does/not/matter") is None
    with pytest.raises(DataError, match="needs a file: pass --data PATH"):
        locate("csv")


# ----------------------------------------------------------------------------- downloading

class _Server:
    """A loopback HTTP server for one directory, counting the requests it answers."""

    def __init__(self, directory: Path) -> None:
        server = self
        self.requests = 0

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def mirror(imdb_archive: Path) -> Iterator[_Server]:
    """The shared archive served from 127.0.0.1 only."""
    server = _Server(imdb_archive.parent)
    yield server
    server.close()


@pytest.fixture
def empty_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache directory of this test's own, so downloads never leak into other tests."""
    path = tmp_path / "cache"
    monkeypatch.setenv("SWEEP_CACHE_DIR", str(path))
    return path


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_download_lands_in_the_cache_and_is_read(mirror: _Server, empty_cache: Path,
                                                 imdb_archive: Path, tmp_path_factory: Any,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a path, the archive is fetched once, checked, cached, and read as IMDB."""
    monkeypatch.setenv("SWEEP_IMDB_URL", f"{mirror.url}/{imdb_archive.name}")
    monkeypatch.setenv("SWEEP_IMDB_SHA256", IMDB_SHA256)
    path = download_imdb()
    assert path == empty_cache / "aclImdb_v1.tar.gz"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == IMDB_SHA256
    assert _files(empty_cache) == ["aclImdb_v1.tar.gz"]
    assert locate("aclimdb") == path and mirror.requests == 1, "the cached copy is reused"

    shared_corpus = tmp_path_factory.getbasetemp() / "cache" / "corpus"
    if shared_corpus.exists():  # skip the 8 s parse if this session already parsed the archive
        shutil.copytree(shared_corpus, empty_cache / "corpus")
    config = resolve({"n_train": 20, "n_val": 10, "n_test": 10, "maxlen": 50})
    downloaded = load_dataset(config)
    assert downloaded.fingerprint == IMDB_SHA256 and mirror.requests == 1
    monkeypatch.setenv("SWEEP_CACHE_DIR", str(tmp_path_factory.mktemp("other-cache")))
    if shared_corpus.exists():
        shutil.copytree(shared_corpus, cache_dir() / "corpus")
    _arrays_equal(downloaded, load_dataset(config, imdb_archive))


def test_damaged_cached_download_is_not_trusted(mirror: _Server, empty_cache: Path,
                                                imdb_archive: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached archive whose bytes no longer match the checksum is fetched again."""
    monkeypatch.setenv("SWEEP_IMDB_URL", f"{mirror.url}/{imdb_archive.name}")
    monkeypatch.setenv("SWEEP_IMDB_SHA256", IMDB_SHA256)
    empty_cache.mkdir(parents=True, exist_ok=True)
    cached = empty_cache / "aclImdb_v1.tar.gz"
    cached.write_bytes(imdb_archive.read_bytes()[: 1 << 20])  # e.g. a copy cut short
    path = download_imdb()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == IMDB_SHA256
    assert mirror.requests == 1


def test_concurrent_workers_download_once(mirror: _Server, empty_cache: Path,
                                          imdb_archive: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Three workers asking at once get the same verified file from a single download."""
    monkeypatch.setenv("SWEEP_IMDB_URL", f"{mirror.url}/{imdb_archive.name}")
    monkeypatch.setenv("SWEEP_IMDB_SHA256", IMDB_SHA256)
    paths: list[Path] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            paths.append(download_imdb())
        except BaseException as err:  # reported below, not lost in the thread
            errors.append(err)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and len(paths) == 3 and len(set(paths)) == 1
    assert mirror.requests == 1
    assert hashlib.sha256(paths[0].read_bytes()).hexdigest() == IMDB_SHA256
    assert _files(empty_cache) == ["aclImdb_v1.tar.gz"]


def test_wrong_checksum_is_a_data_error_and_leaves_nothing(mirror: _Server, empty_cache: Path,
                                                           imdb_archive: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """A download whose SHA-256 differs is discarded and reported, with both checksums."""
    monkeypatch.setenv("SWEEP_IMDB_URL", f"{mirror.url}/{imdb_archive.name}")
    monkeypatch.setenv("SWEEP_IMDB_SHA256", "0" * 64)
    with pytest.raises(DataError) as caught:
        download_imdb()
    message = str(caught.value)
    assert IMDB_SHA256 in message and "0" * 64 in message and "\n" not in message
    assert _files(empty_cache) == []


def test_missing_file_on_the_server_is_a_data_error(mirror: _Server, empty_cache: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """An HTTP 404 is a one-line DataError; nothing partial stays in the cache."""
    monkeypatch.setenv("SWEEP_IMDB_URL", f"{mirror.url}/no-such-file.tar.gz")
    with pytest.raises(DataError, match="cannot download .*no-such-file"):
        load_dataset(resolve({}))
    assert _files(empty_cache) == []


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_offline_download_says_how_to_use_a_local_copy(empty_cache: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Connection refused: one line that names the URL and tells about --data / SWEEP_DATA."""
    url = f"http://127.0.0.1:{_closed_port()}/aclImdb_v1.tar.gz"
    monkeypatch.setenv("SWEEP_IMDB_URL", url)
    with pytest.raises(DataError) as caught:
        load_dataset(resolve({}))
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"cannot download {url}")
    assert "pass --data PATH or set SWEEP_DATA" in message
    assert _files(empty_cache) == []

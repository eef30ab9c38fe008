"""From a configuration to train/val/test arrays: locate, read, subset, vectorize, cache."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sweep.data import _corpus, _vectorize
from sweep.data._cache import load_verified, save_verified
from sweep.data._locate import cache_dir, locate
from sweep.errors import DataError
from sweep.params import names_in

SPLITS = ("train", "val", "test")


@dataclass
class Dataset:
    """Padded integer arrays per split, with what is needed to trust and explain them."""

    x: dict[str, np.ndarray]
    y: dict[str, np.ndarray]
    lengths: dict[str, np.ndarray]  # token counts before padding/truncating, per review
    fingerprint: str  # SHA-256 of the source data's content
    cache_key: str  # identity of these arrays: data content and every parameter that shapes them
    stats: dict[str, Any] = field(default_factory=dict)
    from_cache: bool = False


def load_dataset(config: Mapping[str, Any], data_path: str | Path | None = None,
                 config_path: str | Path | None = None) -> Dataset:
    """Return the arrays for ``config`` (a resolved parameter dict), from the cache when possible.

    Args:
        config: parameters, including the ``source`` and ``data`` groups of `sweep.params`.
        data_path: an explicit path (``--data``); wins over ``SWEEP_DATA`` and ``config_path``.
        config_path: the study file's ``data.path``.

    Raises:
        DataError: the data is missing, unreadable, or smaller than the subsets asked for.
    """
    source = config["source"]
    path = locate(source, None if data_path is None else str(data_path),
                  None if config_path is None else str(config_path))
    fingerprint = _fingerprint(source, path)
    shaping = {name: config[name] for name in names_in("source", "data")}
    key_material = {"fingerprint": fingerprint, "tokenizer": _vectorize.TOKENIZER_VERSION,
                    **shaping}
    key = hashlib.sha256(json.dumps(key_material, sort_keys=True).encode()).hexdigest()[:32]
    entry = cache_dir() / "arrays" / f"{key}.npz"

    cached = load_verified(entry, _read_arrays)
    if cached is not None:
        return Dataset(**cached, fingerprint=fingerprint, cache_key=key, from_cache=True)

    corpus = _load_corpus(config, path, fingerprint)
    arrays = _vectorize_subsets(corpus, config)
    save_verified(entry, lambda tmp: _write_arrays(tmp, arrays))
    return Dataset(**arrays, fingerprint=fingerprint, cache_key=key, from_cache=False)


def _fingerprint(source: str, path: Path | None) -> str:
    if path is None:
        return "synthetic-v1"
    if path.is_dir():
        return _corpus.fingerprint_aclimdb_dir(path)
    return _corpus.fingerprint_file(path)


def _load_corpus(config: Mapping[str, Any], path: Path | None, fingerprint: str) -> pd.DataFrame:
    """Parse the source once per content fingerprint; later settings reuse the parsed reviews."""
    if path is None:
        return _corpus.synthetic_corpus()
    columns = (config["text_column"], config["label_column"], config["split_column"])
    variant = hashlib.sha256(json.dumps([config["source"], *columns]).encode()).hexdigest()[:8]
    entry = cache_dir() / "corpus" / f"{fingerprint[:32]}-{variant}.parquet"
    corpus = load_verified(entry, pd.read_parquet)
    if corpus is None:
        if config["source"] == "aclimdb":
            if path.suffix.lower() in _corpus.TABLE_SUFFIXES:
                raise DataError(f"{path}: a table file; use source=csv for your own data")
            corpus = _corpus.read_aclimdb(path)
        else:
            corpus = _corpus.read_table(path, *columns)
        save_verified(entry, lambda tmp: corpus.to_parquet(tmp, index=False))
    return corpus


def _draw(labels: np.ndarray, sizes: tuple[int, ...], rng: np.random.Generator,
          what: str) -> list[np.ndarray]:
    """Draw disjoint, stratified index sets of the given sizes from one split's labels."""
    if sum(sizes) > len(labels):
        raise DataError(f"{what} asks for {sum(sizes)} reviews but the split holds {len(labels)}")
    by_class = {c: rng.permutation(np.flatnonzero(labels == c)) for c in (0, 1)}
    shares = {c: len(members) / len(labels) for c, members in by_class.items()}
    taken = {c: 0 for c in by_class}
    drawn = []
    for size in sizes:
        wanted = {c: int(np.floor(size * shares[c])) for c in by_class}
        for c in sorted(by_class, key=lambda c: size * shares[c] - wanted[c], reverse=True):
            if sum(wanted.values()) < size and taken[c] + wanted[c] < len(by_class[c]):
                wanted[c] += 1
        if sum(wanted.values()) < size:  # one class ran out; the other makes up the rest
            spare = max(by_class, key=lambda c: len(by_class[c]) - taken[c] - wanted[c])
            wanted[spare] += size - sum(wanted.values())
        picked = [by_class[c][taken[c]: taken[c] + wanted[c]] for c in by_class]
        for c in by_class:
            taken[c] += wanted[c]
        drawn.append(rng.permutation(np.concatenate(picked)))
    return drawn


def _vectorize_subsets(corpus: pd.DataFrame, config: Mapping[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng(config["data_seed"])
    train_pool = corpus.index[corpus["split"] == "train"].to_numpy()
    test_pool = corpus.index[corpus["split"] == "test"].to_numpy()
    labels = corpus["label"].to_numpy()
    train_idx, val_idx = _draw(labels[train_pool], (config["n_train"], config["n_val"]), rng,
                               "n_train + n_val")
    (test_idx,) = _draw(labels[test_pool], (config["n_test"],), rng, "n_test")
    rows = {"train": train_pool[train_idx], "val": train_pool[val_idx], "test": test_pool[test_idx]}

    texts = corpus["text"].to_numpy()
    tokens = {split: [_vectorize.tokenize(texts[i]) for i in rows[split]] for split in SPLITS}
    vocabulary = _vectorize.build_vocabulary(tokens["train"], config["vocab_size"])
    x, y, lengths, stats = {}, {}, {}, {}
    for split in SPLITS:
        encoded = [_vectorize.encode(t, vocabulary) for t in tokens[split]]
        x[split] = _vectorize.pad(encoded, config["maxlen"], config["padding"],
                                  config["truncating"])
        y[split] = labels[rows[split]].astype(np.float32)
        lengths[split] = np.array([len(t) for t in tokens[split]], dtype=np.int32)
        stats[split] = _vectorize.split_stats(lengths[split], config["maxlen"])
        stats[split]["positive_share"] = float(y[split].mean()) if len(y[split]) else 0.0
    stats["vocabulary_learned"] = len(vocabulary) + 2
    return {"x": x, "y": y, "lengths": lengths, "stats": stats}


def _write_arrays(path: Path, arrays: dict[str, Any]) -> None:
    flat = {f"{kind}_{split}": arrays[kind][split] for kind in ("x", "y", "lengths")
            for split in SPLITS}
    with open(path, "wb") as handle:
        np.savez(handle, stats=np.array(json.dumps(arrays["stats"])), **flat)


def _read_arrays(path: Path) -> dict[str, Any]:
    with np.load(path) as npz:
        arrays = {kind: {split: npz[f"{kind}_{split}"] for split in SPLITS}
                  for kind in ("x", "y", "lengths")}
        arrays["stats"] = json.loads(str(npz["stats"]))
    return arrays

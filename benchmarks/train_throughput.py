"""`train_throughput`: training tokens/second of the question's model, sweep against PyTorch.

The model: Embedding(37252, 128) -> LSTM(128, dropout=0.2, return_sequences) -> Flatten ->
Dense(1, sigmoid), Adam(1e-3), batch 32, maxlen 300, on real IMDB arrays. sweep runs it twice
(``implementation=keras`` and ``fused``, built by `sweep.models.build_model` and fitted with
``model.fit``); PyTorch runs the same architecture with `torch.nn.LSTM`, with Keras's input
dropout (one mask per review, shared by all timesteps), on the same arrays in batches of 32.

Each framework runs in its own process, as a user's script would, with its default thread
settings, and PyTorch also with one thread (see `IMPLEMENTATIONS`); the rounds interleave them so
that a burst of load from elsewhere hits all of them. Target (issue 6): sweep >= 1.0x PyTorch.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks._common import figure, median
from benchmarks.data import cache_dir, imdb_tarball
from sweep.data import load_dataset
from sweep.params import resolve

#: The question's model; ``n_train`` sets how many batches one timed epoch has.
FULL = {"maxlen": 300, "embedding_dim": 128, "units": 128, "batch_size": 32, "n_train": 960,
        "n_val": 200, "n_test": 0}
QUICK = {**FULL, "n_train": 64, "n_val": 20, "source": "synthetic"}
#: ``torch`` runs with PyTorch's default threads (one per core); ``torch_1thread`` with one thread,
#: which is faster when other processes share the cores: sweep is held to the faster of the two.
IMPLEMENTATIONS = ("keras", "fused", "torch", "torch_1thread")
#: Where the IMDB arrays are cached between runs (ignored by git).
OUT = Path(__file__).resolve().parent / "out"


def run(quick: bool) -> list[dict[str, Any]]:
    """Interleave timed epochs of every implementation; report sweep's rates over torch's best."""
    config = resolve(QUICK if quick else FULL)
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="sweep-bench-train-") as tmp:
        cache = Path(tmp) if quick else OUT / "cache"
        with cache_dir(cache):
            dataset = load_dataset(config, None if quick else imdb_tarball())
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name in IMPLEMENTATIONS}
        for _ in range(rounds):
            for name in IMPLEMENTATIONS:
                runs[name].append(_in_subprocess(name, config, cache))
    rate = {name: median([r["tokens_per_second"] for r in runs[name]]) for name in runs}
    torch_best = max(rate["torch"], rate["torch_1thread"])
    values: dict[str, Any] = {}
    for name, results in runs.items():
        values[f"{name}_tokens_per_second"] = rate[name]
        values[f"{name}_tokens_per_cpu_second"] = median(
            [r["tokens"] / r["cpu_seconds"] for r in results])
        values[f"{name}_warmup_seconds"] = median([r["warmup_seconds"] for r in results])
        values[f"{name}_runtime"] = results[-1]["runtime"]
    settings = {"quick": quick, "rounds": rounds, "tokens_per_epoch": int(dataset.x["train"].size),
                "data": config["source"], "dropout": config["dropout"], "head": config["head"],
                **{key: config[key] for key in ("maxlen", "embedding_dim", "units", "batch_size",
                                                "n_train", "vocab_size")}}
    return [
        figure("train_throughput", "sweep_keras_over_torch", rate["keras"] / torch_best,
               ">= 1.0", values, settings),
        figure("train_throughput", "sweep_fused_over_torch", rate["fused"] / torch_best,
               ">= 1.0", values, settings),
        figure("train_throughput", "sweep_fused_over_keras", rate["fused"] / rate["keras"],
               None, values, settings),
    ]


def _in_subprocess(name: str, config: dict[str, Any], cache: Path) -> dict[str, Any]:
    """Run `measure` in a fresh interpreter, so neither framework's thread pools touch the other."""
    command = [sys.executable, "-m", "benchmarks.train_throughput", name, json.dumps(config)]
    env = {**os.environ, "SWEEP_CACHE_DIR": str(cache), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                          cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0:
        raise RuntimeError(f"train_throughput {name} worker failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Warm up on two batches (tracing, compiling), then time one epoch of training.

    CPU seconds (all threads of this process) are reported beside wall seconds: on a shared
    machine they show the work done, which other processes' load does not inflate as much.
    """
    dataset = load_dataset(config, None if config["source"] == "synthetic" else imdb_tarball())
    x, y = dataset.x["train"], dataset.y["train"]
    if name.startswith("torch"):
        train = _torch_trainer(config, threads=1 if name == "torch_1thread" else None)
    else:
        train = _keras_trainer(config, name)
    warm = 2 * config["batch_size"]
    started = time.perf_counter()
    train(x[:warm], y[:warm])
    warmup = time.perf_counter() - started
    started, cpu_started = time.perf_counter(), time.process_time()
    runtime = train(x, y)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"implementation": name, "seconds": seconds, "cpu_seconds": cpu_seconds,
            "warmup_seconds": warmup, "tokens": int(x.size),
            "tokens_per_second": x.size / seconds, "runtime": runtime}


def _keras_trainer(config: dict[str, Any], implementation: str) -> Any:
    import keras
    import tensorflow as tf

    from sweep.models import build_model, implementation_name

    keras.utils.set_random_seed(config["seed"])
    config = {**config, "implementation": implementation}
    model = build_model(config)
    runtime = {"layer": implementation_name(config), "tensorflow": tf.__version__,
               "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
               "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}

    def train(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        model.fit(x, y, batch_size=config["batch_size"], epochs=1, shuffle=True, verbose=0)
        return runtime

    return train


def _torch_trainer(config: dict[str, Any], threads: int | None) -> Any:
    import torch
    from torch import nn

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(config["seed"])

    class Classifier(nn.Module):
        """The question's model in PyTorch, with Keras's per-review input dropout."""

        def __init__(self) -> None:
            super().__init__()
            self.embedding = nn.Embedding(config["vocab_size"], config["embedding_dim"])
            self.lstm = nn.LSTM(config["embedding_dim"], config["units"], batch_first=True)
            self.classifier = nn.Linear(config["maxlen"] * config["units"], 1)

        def forward(self, tokens: torch.Tensor) -> torch.Tensor:
            embedded = self.embedding(tokens)
            if self.training:
                keep = torch.ones_like(embedded[:, :1])
                embedded = embedded * nn.functional.dropout(keep, config["dropout"], True)
            outputs, _ = self.lstm(embedded)
            return torch.sigmoid(self.classifier(outputs.flatten(1))).squeeze(1)

    model = Classifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=config["learning_rate"])
    runtime = {"layer": "torch.nn.LSTM", "torch": torch.__version__,
               "intra_op_threads": torch.get_num_threads(),
               "inter_op_threads": torch.get_num_interop_threads()}

    def train(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        tokens, labels = torch.from_numpy(x).long(), torch.from_numpy(y)
        model.train()
        for batch in torch.randperm(len(x)).split(config["batch_size"]):
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(tokens[batch]), labels[batch])
            loss.backward()
            optimizer.step()
        return runtime

    return train


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="one timed epoch; used by run()")
    parser.add_argument("implementation", choices=IMPLEMENTATIONS)
    parser.add_argument("config", help="the resolved configuration as JSON")
    args = parser.parse_args()
    print(json.dumps(measure(args.implementation, json.loads(args.config))))

"""The ``sweep`` command line: help everywhere, one clean line for bad input, train's outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from sweep.cli import cli

REPO = Path(__file__).resolve().parent.parent
#: Fast synthetic training through the CLI.
FAST_SETS = ["source=synthetic", "n_train=120", "n_val=60", "n_test=80", "maxlen=40",
             "vocab_size=400", "embedding_dim=4", "units=3", "epochs=2", "truncating=post"]
REQUIRED_KEYS = {"config", "params", "val_accuracy", "best_val_accuracy", "best_epoch",
                 "test_accuracy", "seconds", "mask_effective", "data"}


def _sets(items: list[str]) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


@pytest.fixture
def tf_threads_tolerant(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs share one TensorFlow: keep the first thread setting instead of failing.

    `configure_threads` may only run before TensorFlow's first op, which in a test session has
    usually happened already (see test_train_in_process_after_tensorflow_started for the bug).
    """
    import sweep.training

    original = sweep.training.configure_threads

    def tolerant(intra_op: int, inter_op: int) -> None:
        try:
            original(intra_op, inter_op)
        except RuntimeError:
            pass

    monkeypatch.setattr(sweep.training, "configure_threads", tolerant)


def run(args: list[str]) -> Result:
    """Invoke the CLI in-process with separate stdout and stderr."""
    return CliRunner().invoke(cli, args, prog_name="sweep")


def assert_one_line_error(result: Result, *fragments: str) -> str:
    """Exit code 2, nothing on stdout, exactly one 'sweep: error:' line, no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("sweep: error: ")
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_root_help_lists_every_command() -> None:
    """``sweep --help`` answers and names each subcommand."""
    result = run(["--help"])
    assert result.exit_code == 0
    for name in cli.commands:
        assert name in result.stdout


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help(name: str) -> None:
    """Each subcommand answers --help with its usage and the first line of its docstring."""
    result = run([name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: sweep {name}")
    command = cli.commands[name]
    assert isinstance(command, click.Command)
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line and " ".join(first_line.split()[:4]) in " ".join(result.stdout.split())


def test_train_help_lists_every_parameter() -> None:
    """``sweep train --help`` documents each --set key with its default."""
    from sweep.params import PARAMS

    text = run(["train", "--help"]).stdout
    for name, param in PARAMS.items():
        assert f"{name} " in text and f"(default {param.default})" in text


def test_help_does_not_import_tensorflow() -> None:
    """Help for the root and for train never imports TensorFlow (it must answer at once)."""
    code = ("import sys; from click.testing import CliRunner; from sweep.cli import cli; "
            "r = [CliRunner().invoke(cli, a) for a in (['--help'], ['train', '--help'])]; "
            "assert all(x.exit_code == 0 for x in r); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=REPO, timeout=120, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(("sets", "message"), [
    (["head=banana"], "The 'head' parameter must be one of flatten, last, mean, max, attention. "
                      "Got 'banana' instead."),
    (["maxlen=-5"], "The 'maxlen' parameter must be an int >= 1. Got -5 instead."),
    (["padding=middle"], "The 'padding' parameter must be one of pre, post. Got 'middle' instead."),
    (["dropout=1.5"], "The 'dropout' parameter must be a float with 0 <= value < 1. "
                      "Got 1.5 instead."),
    (["maxlen=300", "colour=red"], "Unknown parameter 'colour'. Known parameters: source, "),
    (["maxlen"], "--set expects KEY=VALUE, got 'maxlen'."),
])
def test_bad_parameters_exit_2_with_one_line(sets: list[str], message: str) -> None:
    """A bad --set value or key: exit 2, one line with the table's message, nothing trained."""
    line = assert_one_line_error(run(["train", *_sets(sets)]))
    assert line.startswith("sweep: error: " + message)


def test_missing_data_path_exits_2_naming_the_option(tmp_path: Path,
                                                     tf_threads_tolerant: None) -> None:
    """--data pointing nowhere names --data and the path."""
    missing = tmp_path / "aclImdb_v1.tar.gz"
    line = assert_one_line_error(run(["train", "--data", str(missing)]))
    assert line == f"sweep: error: --data: {missing} does not exist"


def test_corrupt_archive_exits_2_naming_the_file(imdb_archive: Path, tmp_path: Path,
                                                 tf_threads_tolerant: None) -> None:
    """A truncated archive is one line naming it."""
    broken = tmp_path / "aclImdb_v1.tar.gz"
    with open(imdb_archive, "rb") as source:
        broken.write_bytes(source.read(1 << 20))
    assert_one_line_error(run(["train", "--data", str(broken)]), str(broken))


def test_csv_without_text_column_exits_2_naming_file_and_column(
        tmp_path: Path, tf_threads_tolerant: None) -> None:
    """A user's CSV without the text column: the file, the column and what exists."""
    path = tmp_path / "mine.csv"
    path.write_text("body,label\ngood film,1\nbad film,0\n")
    line = assert_one_line_error(run(["train", "--data", str(path), "--set", "source=csv"]))
    assert line == (f"sweep: error: {path}: no column 'text' (text_column); "
                    "columns are: body, label")


def test_more_reviews_than_the_data_holds_exits_2(tmp_path: Path,
                                                  tf_threads_tolerant: None) -> None:
    """n_train above the data: one line with what was asked and what the split holds."""
    from tests.data.conftest import write_aclimdb

    root = write_aclimdb(tmp_path / "small")
    line = assert_one_line_error(run(["train", "--data", str(root),
                                      *_sets(["n_train=5", "n_val=2", "n_test=1"])]))
    assert line == "sweep: error: n_train + n_val asks for 7 reviews but the split holds 6"


def test_summary_only_json_reads_no_data(monkeypatch: pytest.MonkeyPatch,
                                         tf_threads_tolerant: None) -> None:
    """--summary-only --json prints the parameter count and layers; data is never touched."""
    import sweep.data

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("--summary-only must not read data")

    monkeypatch.setattr(sweep.data, "load_dataset", refuse)
    monkeypatch.setattr(sweep.data, "locate", refuse)
    monkeypatch.setattr(sweep.data._dataset, "locate", refuse)
    result = run(["train", "--summary-only", "--json", "--data", "/no/such/file.tar.gz"])
    assert result.exit_code == 0, (result.output, result.exception)
    summary = json.loads(result.stdout)
    assert summary["params"] == 4_963_841
    assert summary["mask_effective"] is False
    assert {layer["name"]: layer["params"] for layer in summary["layers"]} == {
        "tokens": 0, "embedding": 4_768_256, "lstm": 131_584, "flatten": 0,
        "classifier": 64_001}

    last = json.loads(run(["train", "--summary-only", "--json", "--set", "head=last",
                           "--set", "mask_zero=true"]).stdout)
    assert (last["params"], last["mask_effective"]) == (4_899_969, True)
    assert last["config"]["head"] == "last"


def test_summary_only_table_shows_the_count(tf_threads_tolerant: None) -> None:
    """Without --json, the Keras summary and a params line are printed."""
    result = run(["train", "--summary-only"])
    assert result.exit_code == 0, result.output
    assert "params: 4,963,841   mask_effective: False" in result.stdout
    assert "embedding" in result.stdout and "classifier" in result.stdout


def test_train_prints_a_result_table(tf_threads_tolerant: None) -> None:
    """Without --json, train prints per-epoch history, the best epoch and per-split stats."""
    result = run(["train", *_sets(FAST_SETS)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "best epoch " in result.stdout and "test_accuracy " in result.stdout
    for split in ("train", "val", "test"):
        assert f"{split:>5}: " in result.stdout


def test_train_in_process_after_tensorflow_started() -> None:
    """Calling the CLI from Python after TensorFlow has run an op still works.

    Fails today: `configure_threads` raises RuntimeError ("Intra op parallelism cannot be
    modified after initialization") once TensorFlow has executed anything.
    """
    import keras

    keras.ops.convert_to_numpy(keras.ops.ones((2,)) + 1)  # TensorFlow has started
    result = run(["train", "--summary-only", "--json", "--threads", "1"])
    assert result.exit_code == 0, repr(result.exception)


def _sweep(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m sweep`` in a fresh process, as a user would."""
    env = {**os.environ, "SWEEP_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "sweep", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=300)


def test_train_json_prints_one_object_on_stdout_and_progress_on_stderr() -> None:
    """A real process: stdout is exactly one JSON object; Keras progress goes to stderr."""
    out = _sweep("train", "--json", *_sets(FAST_SETS))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.strip().splitlines()) == 1
    result = json.loads(out.stdout)
    assert REQUIRED_KEYS <= set(result)
    assert len(result["val_accuracy"]) == 2 and result["config"]["maxlen"] == 40
    assert sum(b["n"] for b in result["test_by_length"]) == 80
    assert "Epoch 1/2" in out.stderr and "Epoch 2/2" in out.stderr
    assert "val_accuracy" in out.stderr


@pytest.mark.parametrize("args", [
    ["train", "--set", "head=banana"],
    ["train", "--data", "/no/such/aclImdb_v1.tar.gz"],
])
def test_bad_input_in_a_real_process_is_one_clean_line(args: list[str]) -> None:
    """In a real process too: exit 2 and a single stderr line, no TensorFlow chatter."""
    out = _sweep(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1, out.stderr
    assert out.stderr.startswith("sweep: error: ")


def test_debug_shows_the_traceback() -> None:
    """--debug lets the exception through instead of the one-line message."""
    result = CliRunner().invoke(cli, ["--debug", "train", "--set", "maxlen=-5"])
    assert result.exit_code != 2
    from sweep.errors import ConfigError

    assert isinstance(result.exception, ConfigError)

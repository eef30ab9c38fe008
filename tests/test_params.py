"""The parameter table: defaults, the one message template, ``--set`` parsing, and coverage."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sweep.errors import ConfigError
from sweep.params import DEFAULTS, GROUPS, PARAMS, check_param, parse_assignments, resolve

#: The canonical names issue 2 lists, plus where the data comes from.
ISSUE_NAMES = {
    "head", "cell", "bidirectional", "vocab_size", "maxlen", "padding", "truncating", "mask_zero",
    "embedding_dim", "units", "dropout", "recurrent_dropout", "epochs", "batch_size",
    "learning_rate", "seed", "n_train", "n_val", "n_test", "data_seed",
}

#: The question's setup (shared/seed/question.txt and issue 2).
SEED_SETUP = {
    "head": "flatten", "vocab_size": 37252, "maxlen": 500, "padding": "post",
    "embedding_dim": 128, "units": 128, "dropout": 0.2, "epochs": 7, "batch_size": 32,
    "n_train": 450, "n_val": 200, "cell": "lstm", "bidirectional": False, "mask_zero": False,
}


@pytest.mark.parametrize("name", list(PARAMS))
def test_every_default_is_valid_and_unchanged_by_checking(name: str) -> None:
    """Checking a default returns it unchanged, with its declared type."""
    param = PARAMS[name]
    assert param.group in GROUPS
    checked = param.check(param.default)
    assert checked == param.default
    if param.default is not None:
        assert type(checked) is param.type


def test_table_holds_the_issue_names_and_the_question_defaults() -> None:
    """Every canonical name is declared, and the defaults are the question's setup."""
    assert ISSUE_NAMES <= set(PARAMS)
    assert {name: DEFAULTS[name] for name in SEED_SETUP} == SEED_SETUP
    assert resolve() == DEFAULTS


@pytest.mark.parametrize(("name", "value", "message"), [
    ("maxlen", -5, "The 'maxlen' parameter must be an int >= 1. Got -5 instead."),
    ("maxlen", 2.5, "The 'maxlen' parameter must be an int >= 1. Got 2.5 instead."),
    ("maxlen", True, "The 'maxlen' parameter must be an int >= 1. Got True instead."),
    ("n_test", -1, "The 'n_test' parameter must be an int >= 0. Got -1 instead."),
    ("vocab_size", 2, "The 'vocab_size' parameter must be an int >= 3. Got 2 instead."),
    ("head", "banana",
     "The 'head' parameter must be one of flatten, last, mean, max, attention. "
     "Got 'banana' instead."),
    ("padding", "middle",
     "The 'padding' parameter must be one of pre, post. Got 'middle' instead."),
    ("dropout", 1.5,
     "The 'dropout' parameter must be a float with 0 <= value < 1. Got 1.5 instead."),
    ("dropout", 1.0,
     "The 'dropout' parameter must be a float with 0 <= value < 1. Got 1.0 instead."),
    ("dropout", float("nan"),
     "The 'dropout' parameter must be a float with 0 <= value < 1. Got nan instead."),
    ("learning_rate", float("inf"),
     "The 'learning_rate' parameter must be a float with 1e-12 <= value <= 10. Got inf instead."),
    ("mask_zero", "maybe", "The 'mask_zero' parameter must be a bool. Got 'maybe' instead."),
    ("head", None,
     "The 'head' parameter must be one of flatten, last, mean, max, attention. "
     "Got None instead."),
    ("text_column", 3, "The 'text_column' parameter must be a string. Got 3 instead."),
])
def test_bad_values_use_the_one_message_template(name: str, value: Any, message: str) -> None:
    """A bad value raises ConfigError with exactly the scikit-learn-style message."""
    with pytest.raises(ConfigError) as caught:
        check_param(name, value)
    assert str(caught.value) == message


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("maxlen", "300", 300),
    ("maxlen", 300.0, 300),
    ("dropout", 0, 0.0),
    ("dropout", "0.5", 0.5),
    ("learning_rate", "1e-3", 1e-3),
    ("mask_zero", "true", True),
    ("mask_zero", "No", False),
    ("split_column", None, None),
    ("n_test", 0, 0),
])
def test_values_are_coerced_to_the_declared_type(name: str, value: Any, expected: Any) -> None:
    """Strings and whole floats become the declared type; nullable names accept None."""
    checked = check_param(name, value)
    assert checked == expected
    assert type(checked) is type(expected)


def test_unknown_name_lists_the_known_ones() -> None:
    """An unknown key is named, and the message lists every known parameter."""
    with pytest.raises(ConfigError) as caught:
        check_param("maxlength", 3)
    text = str(caught.value)
    assert text.startswith("Unknown parameter 'maxlength'. Known parameters: ")
    assert all(name in text for name in PARAMS)


def test_resolve_overrides_and_leaves_defaults_alone() -> None:
    """resolve() fills defaults, validates overrides, and never mutates DEFAULTS."""
    before = dict(DEFAULTS)
    config = resolve({"maxlen": "20", "head": "last"})
    assert config["maxlen"] == 20 and config["head"] == "last"
    assert {k: v for k, v in config.items() if k not in ("maxlen", "head")} == {
        k: v for k, v in before.items() if k not in ("maxlen", "head")}
    assert DEFAULTS == before
    with pytest.raises(ConfigError, match="'units'"):
        resolve({"units": 0})


def test_parse_assignments_reads_yaml_literals() -> None:
    """``--set`` values use study-file literal syntax: ints, floats, booleans, null, strings."""
    parsed = parse_assignments([
        "maxlen=300", "dropout=0.5", "mask_zero=true", "bidirectional=False",
        "split_column=null", "padding=pre", " units = 16", "learning_rate=1e-4",
        "text_column=review body",
    ])
    assert parsed == {
        "maxlen": 300, "dropout": 0.5, "mask_zero": True, "bidirectional": False,
        "split_column": None, "padding": "pre", "units": 16, "learning_rate": 1e-4,
        "text_column": "review body",
    }
    assert type(parsed["maxlen"]) is int and type(parsed["dropout"]) is float


def test_parse_assignments_last_one_wins() -> None:
    """Repeating a key keeps the last value, as repeated options usually do."""
    assert parse_assignments(["maxlen=10", "maxlen=20"]) == {"maxlen": 20}


def test_parse_assignments_keeps_text_after_the_first_equals_sign() -> None:
    """Only the first ``=`` separates key and value."""
    assert parse_assignments(["text_column=a=b"]) == {"text_column": "a=b"}


@pytest.mark.parametrize("item", ["maxlen", "=300", " =300", ""])
def test_parse_assignments_rejects_forms_without_key_and_value(item: str) -> None:
    """Anything but KEY=VALUE is refused with the form quoted back."""
    with pytest.raises(ConfigError) as caught:
        parse_assignments([item])
    assert str(caught.value) == f"--set expects KEY=VALUE, got {item!r}."


@pytest.mark.parametrize(("item", "message"), [
    ("maxlen=-5", "The 'maxlen' parameter must be an int >= 1. Got -5 instead."),
    ("head=banana", "The 'head' parameter must be one of flatten, last, mean, max, attention. "
                    "Got 'banana' instead."),
    ("maxlen=[1, 2]", "The 'maxlen' parameter must be an int >= 1. Got [1, 2] instead."),
    ("maxlen={", "The 'maxlen' parameter must be an int >= 1. Got '{' instead."),
    ("maxlen=", "The 'maxlen' parameter must be an int >= 1. Got '' instead."),
    ("units=1.5", "The 'units' parameter must be an int >= 1. Got 1.5 instead."),
])
def test_parse_assignments_validates_values(item: str, message: str) -> None:
    """Parsed values go through the table: bad ones give the template message."""
    with pytest.raises(ConfigError) as caught:
        parse_assignments([item])
    assert str(caught.value) == message


def test_parse_assignments_rejects_unknown_keys() -> None:
    """An unknown key in ``--set`` is an error naming it."""
    with pytest.raises(ConfigError, match="^Unknown parameter 'colour'"):
        parse_assignments(["colour=red"])


class RecordingConfig(dict):
    """A config that remembers every key read from it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        return super().get(key, default)


#: Small enough to build and fit in a second or two.
TINY = {"source": "synthetic", "n_train": 64, "n_val": 32, "n_test": 32, "vocab_size": 200,
        "maxlen": 12, "embedding_dim": 4, "units": 3, "epochs": 1, "batch_size": 32}


@pytest.fixture(scope="module")
def read_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, set[str]]]:
    """The keys that load_dataset, build_model and train read from a config."""
    with pytest.MonkeyPatch.context() as patch:  # module scope runs before the autouse fixture
        patch.setenv("SWEEP_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))
        yield _keys_read()


def _keys_read() -> dict[str, set[str]]:
    from sweep.data import load_dataset
    from sweep.models import build_model
    from sweep.training import train

    seen: dict[str, set[str]] = {}
    for head in ("flatten", "last"):
        config = RecordingConfig(resolve({**TINY, "head": head, "bidirectional": True}))
        build_model(config)
        seen.setdefault("build_model", set()).update(config.read)

    config = RecordingConfig(resolve(TINY))
    dataset = load_dataset(config)
    seen["load_dataset"] = set(config.read)
    config = RecordingConfig(resolve(TINY))
    train(config, dataset, verbose=0)
    seen["train"] = set(config.read)
    return seen


def test_table_covers_every_key_the_code_reads(read_keys: dict[str, set[str]]) -> None:
    """build_model, train and load_dataset read nothing the table does not declare."""
    for reader, keys in read_keys.items():
        assert keys, reader
        assert keys <= set(PARAMS), (reader, keys - set(PARAMS))
    assert {"head", "cell", "units", "mask_zero", "vocab_size"} <= read_keys["build_model"]
    assert {"epochs", "batch_size", "seed"} <= read_keys["train"]


def test_every_declared_parameter_is_read_somewhere(read_keys: dict[str, set[str]]) -> None:
    """No parameter is silently ignored: each one is read by the code of its group."""
    readers = {"source": "load_dataset", "data": "load_dataset",
               "model": "build_model", "train": "train"}
    ignored = {name for name, p in PARAMS.items()
               if name not in read_keys[readers[p.group]]
               and name not in read_keys["train"]}  # train may consume any group
    assert not ignored, f"declared but never read: {sorted(ignored)}"

"""The one table of parameters a trial takes, shared by `sweep train --set`, study files and models.

Each parameter is declared once, with its type, default and allowed values, and checked at the door
with one message template (after scikit-learn's `_parameter_constraints`):
``The 'maxlen' parameter must be an int >= 1. Got -5 instead.``
Defaults reproduce the setup of the question in ``shared/seed/question.txt``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from sweep.errors import ConfigError

#: Groups: ``source`` says where the data is, ``data`` changes the vectorized arrays,
#: ``model`` changes the network, ``train`` changes the fit.
GROUPS = ("source", "data", "model", "train")


@dataclass(frozen=True)
class Param:
    """One parameter: its type (``str``, ``bool``, ``int``, ``float``) and what values it allows."""

    name: str
    type: type
    default: Any
    group: str
    help: str
    choices: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None
    high_inclusive: bool = True
    nullable: bool = False

    def describe(self) -> str:
        """Say in words what a valid value is, for error messages and `--help`."""
        kind = {str: "a string", bool: "a bool", int: "an int", float: "a float"}[self.type]
        if self.choices is not None:
            text = "one of " + ", ".join(str(c) for c in self.choices)
        elif self.low is not None and self.high is not None:
            upper = "<=" if self.high_inclusive else "<"
            text = f"{kind} with {self.low:g} <= value {upper} {self.high:g}"
        elif self.low is not None:
            text = f"{kind} >= {self.low:g}"
        else:
            text = kind
        return text + (" or null" if self.nullable else "")

    def check(self, value: Any) -> Any:
        """Return ``value`` coerced to this parameter's type, or raise `ConfigError`."""
        if value is None and self.nullable:
            return None
        coerced = _coerce(value, self.type)
        ok = coerced is not None
        if ok and self.choices is not None:
            ok = coerced in self.choices
        if ok and self.low is not None:
            ok = coerced >= self.low
        if ok and self.high is not None:
            ok = coerced <= self.high if self.high_inclusive else coerced < self.high
        if not ok:
            raise ConfigError(
                f"The '{self.name}' parameter must be {self.describe()}. Got {value!r} instead."
            )
        return coerced


def _coerce(value: Any, kind: type) -> Any:
    """Convert without surprises: no bool-as-int, no silent float truncation, no NaN."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        return None
    if isinstance(value, bool):
        return None
    if kind is int:
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                return None
        return None
    if kind is float:
        try:
            number = float(value) if isinstance(value, (int, float, str)) else None
        except ValueError:
            return None
        return number if number is not None and math.isfinite(number) else None
    return value if isinstance(value, str) else None


def _p(name: str, kind: type, default: Any, group: str, help: str, **limits: Any) -> Param:
    return Param(name, kind, default, group, help, **limits)


PARAMS: dict[str, Param] = {
    p.name: p
    for p in [
        # Where the data is.
        _p("source", str, "aclimdb", "source", "data source",
           choices=("aclimdb", "csv", "synthetic")),
        _p("text_column", str, "text", "source", "csv source: column holding the text"),
        _p("label_column", str, "label", "source", "csv source: column holding the 0/1 label"),
        _p("split_column", str, None, "source",
           "csv source: column with train/test (else the tool splits 80/20)", nullable=True),
        # What the arrays look like.
        _p("n_train", int, 450, "data", "training reviews, drawn from the train split", low=1),
        _p("n_val", int, 200, "data", "validation reviews, disjoint from n_train", low=1),
        _p("n_test", int, 1000, "data", "test reviews, drawn from the test split", low=0),
        _p("data_seed", int, 0, "data", "seed choosing the subsets", low=0),
        _p("vocab_size", int, 37252, "data",
           "Embedding rows: index 0 pads, 1 is out-of-vocabulary", low=3),
        _p("maxlen", int, 500, "data", "timesteps per review after padding/truncating", low=1),
        _p("padding", str, "post", "data", "where padding goes (pad_sequences)",
           choices=("pre", "post")),
        _p("truncating", str, "pre", "data", "where long reviews are cut (pad_sequences)",
           choices=("pre", "post")),
        # The network.
        _p("head", str, "flatten", "model", "how the recurrent outputs reach Dense(1)",
           choices=("flatten", "last", "mean", "max", "attention")),
        _p("cell", str, "lstm", "model", "recurrent cell", choices=("lstm", "gru")),
        _p("bidirectional", bool, False, "model", "wrap the recurrent layer in Bidirectional"),
        _p("mask_zero", bool, False, "model", "Embedding(mask_zero): skip padded timesteps"),
        _p("embedding_dim", int, 128, "model", "Embedding width", low=1),
        _p("units", int, 128, "model", "recurrent units", low=1),
        _p("dropout", float, 0.2, "model", "input dropout of the recurrent layer",
           low=0.0, high=1.0, high_inclusive=False),
        _p("recurrent_dropout", float, 0.0, "model", "recurrent-state dropout",
           low=0.0, high=1.0, high_inclusive=False),
        _p("implementation", str, "keras", "model",
           "recurrent kernel: keras.layers (reference) or fused (same math, faster on CPU)",
           choices=("keras", "fused")),
        # The fit.
        _p("epochs", int, 7, "train", "training epochs", low=1),
        _p("batch_size", int, 32, "train", "minibatch size", low=1),
        _p("learning_rate", float, 1e-3, "train", "Adam learning rate", low=1e-12, high=10.0),
        _p("seed", int, 0, "train", "training seed: initial weights, dropout, shuffling", low=0),
    ]
}

DEFAULTS: dict[str, Any] = {name: p.default for name, p in PARAMS.items()}


def check_param(name: str, value: Any) -> Any:
    """Validate one value by name; an unknown name is an error that lists the known ones."""
    if name not in PARAMS:
        raise ConfigError(
            f"Unknown parameter '{name}'. Known parameters: {', '.join(PARAMS)}."
        )
    return PARAMS[name].check(value)


def names_in(*groups: str) -> list[str]:
    """The parameter names of the given groups, in table order."""
    return [name for name, p in PARAMS.items() if p.group in groups]


def resolve(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Return a full, validated configuration: the defaults updated by ``overrides``."""
    config = dict(DEFAULTS)
    for name, value in (overrides or {}).items():
        config[name] = check_param(name, value)
    return config


def parse_assignments(assignments: Iterable[str]) -> dict[str, Any]:
    """Turn ``["maxlen=300", "head=last"]`` into a validated dict, as given to ``--set``."""
    parsed: dict[str, Any] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}.")
        name = name.strip()
        try:  # the same literal syntax as study files: 300, 0.5, true, null, pre
            value = yaml.safe_load(raw) if raw.strip() else raw
        except yaml.YAMLError:
            value = raw
        parsed[name] = check_param(name, value)
    return parsed

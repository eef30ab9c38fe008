"""Study files (``studies/*.yaml``): read, validate whole, and describe the trials they ask for.

Validation happens before anything touches storage. Each error names the file and the key path
(``studies/x.yaml: factors.head[1]: ...``); the CLI prints it on one line and exits 2.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sweep.errors import ConfigError, StudyFileError
from sweep.params import PARAMS, check_param, names_in, resolve

DESIGNS = ("grid", "tpe", "random")
METRICS = ("best_val_accuracy", "test_accuracy")
PRUNERS = {"none": set(), "median": {"n_startup_trials", "n_warmup_steps", "interval_steps"},
           "hyperband": {"min_resource", "max_resource", "reduction_factor"}}
TOP_KEYS = ("name", "description", "data", "fixed", "design", "factors", "space", "seeds",
            "n_trials", "timeout", "objective", "pruner")
DATA_KEYS = ("path", *names_in("source", "data"))
SPACE_TYPES = ("categorical", "int", "float")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class StudySpec:
    """A validated study file: what to vary, what to hold fixed, and how to search."""

    path: Path
    name: str
    description: str
    data_path: str | None
    base: dict[str, Any]  # every parameter not varied: defaults < data < fixed
    design: str
    factors: dict[str, list[Any]] = field(default_factory=dict)
    space: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    n_trials: int | None = None
    timeout: float | None = None
    metric: str = "best_val_accuracy"
    direction: str = "maximize"
    pruner: dict[str, Any] = field(default_factory=lambda: {"type": "none"})

    @property
    def is_grid(self) -> bool:
        return self.design == "grid"

    def cells(self) -> list[dict[str, Any]]:
        """Every grid cell as Optuna params: factor levels and the seed, in a stable order."""
        names = list(self.factors)
        return [{**dict(zip(names, levels, strict=True)), "seed": seed}
                for levels in itertools.product(*(self.factors[n] for n in names))
                for seed in self.seeds]

    def config_for(self, varied: Mapping[str, Any]) -> dict[str, Any]:
        """The full configuration of one trial: the base with its varied values applied."""
        return resolve({**self.base, **varied})

    def base_fingerprint(self) -> str:
        """Identity of what is held fixed; a study cannot change it between runs."""
        return hashlib.sha256(json.dumps(self.base, sort_keys=True).encode()).hexdigest()[:16]

    def design_record(self) -> dict[str, Any]:
        """What the study stores about its design (study user attr ``design``)."""
        return {"kind": self.design, "factors": list(self.factors or self.space),
                "levels": self.factors, "seeds": self.seeds,
                "objective": {"metric": self.metric, "direction": self.direction},
                "base": self.base, "base_fingerprint": self.base_fingerprint(),
                "n_trials": self.n_trials, "description": self.description,
                "total_trials": (len(self.cells()) if self.is_grid
                                 else (self.n_trials or 0) * len(self.seeds))}


class _Checker:
    """Collects the key path while walking the file, so every error can name it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> StudyFileError:
        return StudyFileError(f"{self.path}: {key}: {message}")

    def mapping(self, value: Any, key: str, allowed: tuple[str, ...] | None = None) -> dict:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a mapping, got {type(value).__name__}")
        for name in value:
            if allowed is not None and name not in allowed:
                raise self.fail(f"{key}.{name}" if key else str(name),
                                f"unknown key; allowed: {', '.join(allowed)}")
        return value

    def param(self, name: str, value: Any, key: str) -> Any:
        try:
            return check_param(name, value)
        except ConfigError as err:
            raise self.fail(key, str(err)) from None

    def number(self, value: Any, key: str, kind: type, low: float) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                (kind is int and not float(value).is_integer()) or value < low:
            raise self.fail(key, f"must be {'an int' if kind is int else 'a number'} >= {low:g}, "
                                 f"got {value!r}")
        return kind(value)


def load_study_file(path: str | Path) -> StudySpec:
    """Read and validate a study file.

    Raises:
        StudyFileError: the file is missing, not YAML, or breaks a rule; the message names
            the file and the key path.
    """
    path = Path(path)
    check = _Checker(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as err:
        raise StudyFileError(f"{path}: cannot read ({err.strerror})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "YAML"
        raise StudyFileError(f"{path}: {where}: not valid YAML ({getattr(err, 'problem', err)})"
                             ) from None
    top = check.mapping(raw, "", TOP_KEYS)
    if not top:
        raise check.fail("name", "the file is empty; a study needs at least name and design")

    name = top.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise check.fail("name", f"must be a word of letters, digits, '_', '.', '-', got {name!r}")
    description = top.get("description", "")
    if not isinstance(description, str):
        raise check.fail("description", "must be a string")

    data = check.mapping(top.get("data"), "data", DATA_KEYS)
    data_path = data.get("path")
    if data_path is not None and not isinstance(data_path, str):
        raise check.fail("data.path", f"must be a string, got {data_path!r}")
    base = {k: check.param(k, v, f"data.{k}") for k, v in data.items() if k != "path"}
    fixed = check.mapping(top.get("fixed"), "fixed", tuple(names_in("data", "model", "train")))
    for key, value in fixed.items():
        if key in base:
            raise check.fail(f"fixed.{key}", "also set in data; set it in one place")
        base[key] = check.param(key, value, f"fixed.{key}")

    design = top.get("design", "grid")
    if design not in DESIGNS:
        raise check.fail("design", f"must be one of {', '.join(DESIGNS)}, got {design!r}")
    seeds = _seeds(check, top.get("seeds", [0]))
    if "seed" in base:
        raise check.fail("fixed.seed", "use the top-level seeds list for training seeds")
    variable = tuple(names_in("data", "model", "train"))
    factors: dict[str, list[Any]] = {}
    space: dict[str, dict[str, Any]] = {}
    if design == "grid":
        if "space" in top:
            raise check.fail("space", "is for tpe/random designs; a grid takes factors")
        for key in ("n_trials", "pruner"):
            if key in top:
                raise check.fail(key, "does not apply to a grid (every cell runs once per seed)")
        raw_factors = check.mapping(top.get("factors"), "factors", variable)
        if not raw_factors:
            raise check.fail("factors", "a grid needs at least one factor with a list of levels")
        for key, levels in raw_factors.items():
            factors[key] = _levels(check, key, levels, base)
    else:
        if "factors" in top:
            raise check.fail("factors", f"is for grid designs; a {design} search takes space")
        raw_space = check.mapping(top.get("space"), "space", variable)
        if not raw_space:
            raise check.fail("space", f"a {design} search needs at least one parameter")
        for key, spec in raw_space.items():
            space[key] = _dimension(check, key, spec, base)

    n_trials = top.get("n_trials")
    if n_trials is not None:
        n_trials = check.number(n_trials, "n_trials", int, 1)
    timeout = top.get("timeout")
    if timeout is not None:
        timeout = check.number(timeout, "timeout", float, 1)
    if design != "grid" and n_trials is None and timeout is None:
        raise check.fail("n_trials", f"a {design} search needs n_trials or timeout")

    objective = check.mapping(top.get("objective"), "objective", ("metric", "direction"))
    metric = objective.get("metric", "best_val_accuracy")
    if metric not in METRICS:
        raise check.fail("objective.metric", f"must be one of {', '.join(METRICS)}, got {metric!r}")
    direction = objective.get("direction", "maximize")
    if direction not in ("maximize", "minimize"):
        raise check.fail("objective.direction", f"must be maximize or minimize, got {direction!r}")
    pruner = _pruner(check, top.get("pruner"))
    if pruner["type"] != "none" and direction != "maximize":
        raise check.fail("pruner", "prunes on per-epoch validation accuracy, so it needs "
                                   "objective.direction: maximize")
    spec = StudySpec(path=path, name=name, description=description, data_path=data_path,
                     base=base, design=design, factors=factors, space=space, seeds=seeds,
                     n_trials=n_trials, timeout=timeout, metric=metric, direction=direction,
                     pruner=pruner)
    if metric == "test_accuracy" and "n_test" not in factors:
        if spec.config_for({})["n_test"] == 0:
            raise check.fail("objective.metric", "test_accuracy needs data.n_test > 0")
    return spec


def _seeds(check: _Checker, seeds: Any) -> list[int]:
    if not isinstance(seeds, list) or not seeds:
        raise check.fail("seeds", f"must be a non-empty list of ints, got {seeds!r}")
    parsed = [check.param("seed", s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    if len(set(parsed)) != len(parsed):
        raise check.fail("seeds", "lists a seed twice")
    return parsed


def _levels(check: _Checker, key: str, levels: Any, base: dict[str, Any],
            where: str | None = None) -> list[Any]:
    where = where or f"factors.{key}"
    if key in base:
        raise check.fail(where, "is also held fixed (data/fixed); vary it or fix it, not both")
    if PARAMS[key].group == "source":
        raise check.fail(where, "where the data comes from cannot be a factor")
    if not isinstance(levels, list) or not levels:
        raise check.fail(where, f"must be a non-empty list of levels, got {levels!r}")
    parsed = [check.param(key, v, f"{where}[{i}]") for i, v in enumerate(levels)]
    if len(set(map(repr, parsed))) != len(parsed):
        raise check.fail(where, "lists a level twice")
    return parsed


def _dimension(check: _Checker, key: str, spec: Any, base: dict[str, Any]) -> dict[str, Any]:
    where = f"space.{key}"
    if key in base:
        raise check.fail(where, "is also held fixed (data/fixed); search it or fix it, not both")
    spec = check.mapping(spec, where, ("type", "choices", "low", "high", "step", "log"))
    kind = spec.get("type")
    if kind not in SPACE_TYPES:
        raise check.fail(f"{where}.type", f"must be one of {', '.join(SPACE_TYPES)}, got {kind!r}")
    param = PARAMS[key]
    if kind == "categorical":
        extra = set(spec) - {"type", "choices"}
        if extra:
            raise check.fail(f"{where}.{sorted(extra)[0]}", "does not apply to categorical")
        return {"type": kind,
                "choices": _levels(check, key, spec.get("choices"), {}, f"{where}.choices")}
    if param.type not in (int, float) or (kind == "float" and param.type is int):
        raise check.fail(f"{where}.type", f"{key} is {param.describe()}; use categorical"
                         if param.type not in (int, float) else f"{key} takes ints; use type int")
    if "choices" in spec:
        raise check.fail(f"{where}.choices", f"does not apply to type {kind}")
    for bound in ("low", "high"):
        if bound not in spec:
            raise check.fail(f"{where}.{bound}", f"is required for type {kind}")
        check.param(key, spec[bound], f"{where}.{bound}")
    low, high = spec["low"], spec["high"]
    if not low < high:
        raise check.fail(where, f"low must be below high, got low={low!r}, high={high!r}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise check.fail(f"{where}.log", f"must be true or false, got {log!r}")
    step = spec.get("step")
    if step is not None:
        step = check.number(step, f"{where}.step", int if kind == "int" else float, 0)
        if step <= 0:
            raise check.fail(f"{where}.step", "must be > 0")
        if log:
            raise check.fail(f"{where}.step", "cannot be combined with log: true (Optuna)")
    if log and low <= 0:
        raise check.fail(f"{where}.low", "must be > 0 with log: true")
    cast = int if kind == "int" else float
    return {"type": kind, "low": cast(low), "high": cast(high), "step": step, "log": log}


def _pruner(check: _Checker, pruner: Any) -> dict[str, Any]:
    if pruner is None:
        return {"type": "none"}
    if isinstance(pruner, str):
        pruner = {"type": pruner}
    pruner = check.mapping(pruner, "pruner")
    kind = pruner.get("type", "none")
    if kind not in PRUNERS:
        raise check.fail("pruner.type", f"must be one of {', '.join(PRUNERS)}, got {kind!r}")
    for key, value in pruner.items():
        if key == "type":
            continue
        if key not in PRUNERS[kind]:
            allowed = ", ".join(sorted(PRUNERS[kind])) or "none"
            raise check.fail(f"pruner.{key}", f"unknown option for {kind}; allowed: {allowed}")
        if key == "max_resource" and value == "auto":
            continue
        check.number(value, f"pruner.{key}", int, 1 if key != "n_startup_trials" else 0)
    return dict(pruner, type=kind)

"""Study files: every shipped study validates; every malformed one fails with the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from sweep.errors import StudyFileError
from sweep.studyfile import load_study_file

STUDIES = sorted((Path(__file__).resolve().parents[2] / "studies").glob("*.yaml"))

VALID = """
name: ok
data: {source: synthetic, n_train: 100, n_val: 50, maxlen: 40}
fixed: {epochs: 1}
design: grid
factors: {head: [flatten, last]}
"""


@pytest.mark.parametrize("path", STUDIES, ids=lambda p: p.name)
def test_shipped_studies_validate(path: Path) -> None:
    spec = load_study_file(path)
    assert spec.name == path.stem
    if spec.is_grid:
        assert len(spec.cells()) == len(spec.seeds) * _product(spec.factors)


def _product(factors: dict) -> int:
    total = 1
    for levels in factors.values():
        total *= len(levels)
    return total


def test_the_required_studies_ship() -> None:
    names = {p.stem for p in STUDIES}
    assert {"quickstart", "flatten_gap", "seed_question", "tune"} <= names
    quick = load_study_file(Path(STUDIES[0]).with_name("quickstart.yaml"))
    assert quick.factors == {"head": ["flatten", "last"], "padding": ["post", "pre"]}
    assert len(quick.seeds) == 2 and quick.base["source"] == "aclimdb"
    gap = load_study_file(Path(STUDIES[0]).with_name("flatten_gap.yaml"))
    assert {"head", "padding", "mask_zero", "maxlen"} <= set(gap.factors)
    assert set(gap.factors["head"]) >= {"flatten", "last", "mean", "max"}
    assert len(gap.seeds) >= 3
    seed = load_study_file(Path(STUDIES[0]).with_name("seed_question.yaml"))
    config = seed.config_for({"head": "flatten", "seed": 0})
    assert (config["n_train"], config["n_val"], config["maxlen"], config["epochs"]) == \
        (450, 200, 500, 7)
    tune = load_study_file(Path(STUDIES[0]).with_name("tune.yaml"))
    assert tune.design == "tpe" and tune.pruner["type"] != "none"
    assert {"head", "padding", "maxlen", "dropout", "embedding_dim", "units"} <= set(tune.space)


def test_cells_cover_levels_and_seeds(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(VALID + "seeds: [3, 4]\n")
    spec = load_study_file(path)
    assert spec.cells() == [{"head": "flatten", "seed": 3}, {"head": "flatten", "seed": 4},
                            {"head": "last", "seed": 3}, {"head": "last", "seed": 4}]
    assert spec.config_for({"head": "last", "seed": 4})["maxlen"] == 40


MALFORMED = [
    ("name: x\ndesign: grid\nfactors: {head: [flatten]}\nfactorz: 1\n", "factorz: unknown key"),
    ("name: x\ndesign: grid\nfactors: {head: [flatten, banana]}\n",
     "factors.head[1]: The 'head' parameter must be one of"),
    ("name: x\ndesign: grid\nfactors: {heads: [flatten]}\n", "factors.heads: unknown key"),
    ("name: x\ndesign: grid\nfactors: {head: []}\n", "factors.head: must be a non-empty list"),
    ("name: x\ndesign: grid\nfactors: {head: flatten}\n", "factors.head: must be a non-empty"),
    ("name: x\ndesign: grid\nfixed: {head: last}\nfactors: {head: [flatten, last]}\n",
     "factors.head: is also held fixed"),
    ("name: x\ndesign: grid\nfactors: {maxlen: [100, -5]}\n",
     "factors.maxlen[1]: The 'maxlen' parameter must be an int >= 1. Got -5 instead."),
    ("name: x\ndesign: grid\nfactors: {dropout: [0.1, 1.5]}\n", "factors.dropout[1]"),
    ("name: x\ndesign: grid\nfixed: {epochs: two}\nfactors: {head: [last]}\n",
     "fixed.epochs: The 'epochs' parameter must be an int"),
    ("name: x\ndesign: grid\ndata: {n_train: 0}\nfactors: {head: [last]}\n", "data.n_train"),
    ("name: x\ndesign: grid\ndata: {colour: red}\nfactors: {head: [last]}\n",
     "data.colour: unknown key"),
    ("name: x\ndesign: grid\ndata: {maxlen: 100}\nfixed: {maxlen: 200}\nfactors: {head: [last]}\n",
     "fixed.maxlen: also set in data"),
    ("name: x\ndesign: sweep\nfactors: {head: [last]}\n", "design: must be one of"),
    ("name: x\ndesign: grid\n", "factors: a grid needs at least one factor"),
    ("name: x\ndesign: grid\nfactors: {head: [last]}\nseeds: []\n", "seeds: must be a non-empty"),
    ("name: x\ndesign: grid\nfactors: {head: [last]}\nseeds: [1, 1]\n", "seeds: lists a seed"),
    ("name: x\ndesign: grid\nfactors: {head: [last]}\nseeds: [-1]\n", "seeds[0]"),
    ("name: x\ndesign: grid\nfactors: {head: [last], source: [csv]}\n", "factors.source"),
    ("name: x\ndesign: grid\nfactors: {head: [last]}\nn_trials: 5\n", "n_trials: does not apply"),
    ("name: x\ndesign: tpe\nspace: {head: {type: categorical, choices: [last]}}\n",
     "n_trials: a tpe search needs n_trials or timeout"),
    ("name: x\ndesign: tpe\nn_trials: 3\nfactors: {head: [last]}\n", "factors: is for grid"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {units: {type: int, low: 64, high: 8}}\n",
     "space.units: low must be below high"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {units: {type: float, low: 8, high: 64}}\n",
     "space.units.type"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {units: {type: int, low: 8}}\n",
     "space.units.high: is required"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {dropout: {type: float, low: 0, high: 0.5, "
     "log: true}}\n", "space.dropout.low: must be > 0 with log"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {head: {type: normal}}\n", "space.head.type"),
    ("name: x\ndesign: tpe\nn_trials: 3\nspace: {head: {type: categorical, choices: [x]}}\n",
     "space.head.choices[0]"),
    ("name: x\ndesign: tpe\nn_trials: 0\nspace: {head: {type: categorical, choices: [last]}}\n",
     "n_trials: must be an int >= 1"),
    ("name: x\ndesign: tpe\nn_trials: 3\npruner: {type: sometimes}\n"
     "space: {head: {type: categorical, choices: [last]}}\n", "pruner.type"),
    ("name: x\ndesign: tpe\nn_trials: 3\npruner: {type: median, patience: 3}\n"
     "space: {head: {type: categorical, choices: [last]}}\n", "pruner.patience: unknown option"),
    ("name: x\ndesign: grid\nfactors: {head: [last]}\nobjective: {metric: f1}\n",
     "objective.metric"),
    ("name: x\ndesign: grid\ndata: {n_test: 0}\nfactors: {head: [last]}\n"
     "objective: {metric: test_accuracy}\n", "objective.metric: test_accuracy needs"),
    ("name: 'has space'\ndesign: grid\nfactors: {head: [last]}\n", "name: must be a word"),
    ("design: grid\nfactors: {head: [last]}\n", "name: must be a word"),
    ("name: x\ndesign: grid\nfactors: {head: [last\n", "line"),
    ("- just\n- a list\n", "must be a mapping"),
    ("", "the file is empty"),
]


@pytest.mark.parametrize(("text", "expected"), MALFORMED, ids=[m[1][:40] for m in MALFORMED])
def test_malformed_study_names_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(StudyFileError) as caught:
        load_study_file(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert expected in message, message
    assert "\n" not in message


def test_missing_study_file(tmp_path: Path) -> None:
    with pytest.raises(StudyFileError, match="cannot read"):
        load_study_file(tmp_path / "absent.yaml")

"""The model builder: the question's parameter counts, every variant, and where masks reach."""

from __future__ import annotations

import itertools
from pathlib import Path

import keras
import numpy as np
import pytest

from sweep.data._vectorize import pad
from sweep.models import MASK_AWARE_HEADS, build_model, mask_effective
from sweep.params import PARAMS, resolve

HEADS = PARAMS["head"].choices
CELLS = PARAMS["cell"].choices
TINY = {"vocab_size": 50, "maxlen": 12, "embedding_dim": 6, "units": 5}


def _layer_params(model: keras.Model) -> dict[str, int]:
    return {layer.name: int(layer.count_params()) for layer in model.layers}


def test_question_model_has_4963841_parameters() -> None:
    """The defaults rebuild the question's Flatten model, layer by layer."""
    model = build_model(resolve({}))
    assert model.count_params() == 4_963_841
    counts = _layer_params(model)
    assert counts["embedding"] == 4_768_256
    assert counts["lstm"] == 131_584
    assert counts["classifier"] == 64_001
    assert counts["flatten"] == 0
    assert model.get_layer("embedding").embeddings.shape == (37252, 128)
    assert model.output_shape == (None, 1)


def test_question_model_with_last_state_head_has_4899969_parameters() -> None:
    """Without Flatten, the classifier reads one 128-wide state: 129 weights."""
    model = build_model(resolve({"head": "last"}))
    assert model.count_params() == 4_899_969
    counts = _layer_params(model)
    assert (counts["embedding"], counts["lstm"], counts["classifier"]) == (4_768_256, 131_584, 129)
    assert "flatten" not in counts


@pytest.mark.parametrize(("head", "cell", "bidirectional"),
                         list(itertools.product(HEADS, CELLS, (False, True))))
def test_every_variant_builds_predicts_and_has_the_expected_size(
        head: str, cell: str, bidirectional: bool) -> None:
    """Each head x cell x direction builds, predicts probabilities, has the derived size."""
    config = resolve({**TINY, "head": head, "cell": cell, "bidirectional": bidirectional,
                      "mask_zero": head == "mean"})
    model = build_model(config)
    x = np.random.default_rng(0).integers(0, TINY["vocab_size"], size=(4, TINY["maxlen"]))
    x[:, -1] = TINY["vocab_size"] - 1  # the highest id the vocabulary hands out
    probability = model.predict(x, verbose=0)
    assert probability.shape == (4, 1)
    assert np.all(np.isfinite(probability)) and np.all((probability > 0) & (probability < 1))

    e, u, directions = TINY["embedding_dim"], TINY["units"], 1 + bidirectional
    per_direction = (4 * u * (e + u + 1) if cell == "lstm"
                     else 3 * u * (e + u + 2))  # GRU with reset_after: two bias vectors
    width = u * directions
    features = {"flatten": TINY["maxlen"] * width, "attention": width}.get(head, width)
    expected = (TINY["vocab_size"] * e + directions * per_direction + features + 1
                + (width if head == "attention" else 0))
    assert model.count_params() == expected


def test_model_is_compiled_with_the_configured_adam() -> None:
    """Adam at learning_rate, binary cross-entropy, accuracy reported."""
    model = build_model(resolve({**TINY, "learning_rate": 0.0042}))
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.0042)
    x = np.ones((2, TINY["maxlen"]), dtype="int32")
    logs = model.evaluate(x, np.array([0.0, 1.0]), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "accuracy"}
    assert logs["loss"] == pytest.approx(np.log(2), abs=0.05)  # untrained: p close to 0.5


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("mask_zero", [False, True])
def test_mask_effective_per_head(head: str, mask_zero: bool) -> None:
    """Only last, mean and attention carry the mask to the classifier, and only with mask_zero."""
    config = resolve({"head": head, "mask_zero": mask_zero})
    assert mask_effective(config) is (mask_zero and head in ("last", "mean", "attention"))
    assert set(MASK_AWARE_HEADS) == {"last", "mean", "attention"}


def _pre_and_post(config: dict, n: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Predictions for the same token sequences, padded after and before."""
    rng = np.random.default_rng(1)
    maxlen = config["maxlen"]
    sequences = [list(rng.integers(1, config["vocab_size"], size=int(k)))
                 for k in rng.integers(2, maxlen - 3, size=n)]
    keras.utils.set_random_seed(0)
    model = build_model(config)
    post = model.predict(pad(sequences, maxlen, "post", "pre"), verbose=0)
    pre = model.predict(pad(sequences, maxlen, "pre", "pre"), verbose=0)
    return post[:, 0], pre[:, 0]


@pytest.mark.parametrize("head", MASK_AWARE_HEADS)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_heads_ignore_where_the_padding_sits(head: str, cell: str,
                                                    bidirectional: bool) -> None:
    """With mask_zero, a mask-aware head gives the same output for post- and pre-padding."""
    config = resolve({**TINY, "maxlen": 20, "head": head, "cell": cell,
                      "bidirectional": bidirectional, "mask_zero": True})
    post, pre = _pre_and_post(config)
    np.testing.assert_allclose(post, pre, atol=1e-5)


@pytest.mark.parametrize(("head", "mask_zero"), [("flatten", True), ("flatten", False),
                                                 ("last", False), ("mean", False),
                                                 ("attention", False)])
def test_unmasked_heads_see_where_the_padding_sits(head: str, mask_zero: bool) -> None:
    """Flatten (mask or not) and every head without mask_zero depend on the padding side."""
    config = resolve({**TINY, "maxlen": 20, "head": head, "mask_zero": mask_zero})
    assert not mask_effective(config)
    post, pre = _pre_and_post(config)
    assert np.max(np.abs(post - pre)) > 1e-4


def test_attention_model_round_trips_through_a_keras_file(tmp_path: Path) -> None:
    """The custom attention pool is registered: a saved model reloads and predicts the same."""
    config = resolve({**TINY, "head": "attention", "mask_zero": True})
    model = build_model(config)
    x = np.random.default_rng(2).integers(0, TINY["vocab_size"], size=(3, TINY["maxlen"]))
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.models.load_model(path, compile=False)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)


@pytest.mark.parametrize("head", ["flatten", "max"])
def test_dropped_mask_is_recorded_not_warned_about(head: str) -> None:
    """A head that drops the mask is recorded as mask_effective=False, silently, in fit too."""
    import warnings

    config = resolve({**TINY, "head": head, "mask_zero": True})
    assert mask_effective(config) is False
    x = np.ones((4, TINY["maxlen"]), dtype="int32")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = build_model(config)
        model.fit(x, np.array([0.0, 1.0, 0.0, 1.0]), epochs=1, verbose=0)
        model.predict(x, verbose=0)
    about_masks = [str(w.message) for w in caught if "mask" in str(w.message)]
    assert about_masks == []

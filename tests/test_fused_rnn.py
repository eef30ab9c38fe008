"""The fused LSTM and GRU are Keras's with the same weights: outputs and gradients within 1e-5."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from sweep.errors import ConfigError
from sweep.fused_rnn import FusedGRU, FusedLSTM
from sweep.models import build_model, implementation_name
from sweep.params import resolve

TOLERANCE = 1e-5
VOCAB, STEPS, FEATURES, UNITS = 30, 9, 6, 5
CELLS = {"lstm": (keras.layers.LSTM, FusedLSTM), "gru": (keras.layers.GRU, FusedGRU)}


def _tokens(padding: str) -> np.ndarray:
    """Reviews of lengths 9, 5, 1 and 0 (all padding), padded on one side with zeros."""
    rng = np.random.default_rng(1)
    tokens = np.zeros((4, STEPS), dtype="int32")
    for row, length in enumerate((9, 5, 1, 0)):
        start = 0 if padding == "post" else STEPS - length
        tokens[row, start:start + length] = rng.integers(1, VOCAB, size=length)
    return tokens


def _pair(cell: str, bidirectional: bool,
          **kwargs: object) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    reference, fused = (layer(UNITS, **kwargs) for layer in CELLS[cell])
    if bidirectional:
        return keras.layers.Bidirectional(reference), keras.layers.Bidirectional(fused)
    return reference, fused


def _run(layer: keras.layers.Layer, embedded: tf.Tensor, mask: tf.Tensor | None,
         training: bool) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs, and gradients of a loss that weighs every output differently."""
    with tf.GradientTape() as tape:
        tape.watch(embedded)
        outputs = layer(embedded, mask=mask, training=training)
        weights = tf.reshape(tf.sin(tf.range(tf.size(outputs), dtype=outputs.dtype)), outputs.shape)
        loss = tf.reduce_sum(outputs * weights)
    grads = tape.gradient(loss, [embedded, *layer.trainable_weights])
    return outputs.numpy(), [tf.convert_to_tensor(g).numpy() for g in grads]


def _same_random_weights(reference: keras.layers.Layer, fused: keras.layers.Layer) -> None:
    """Copy perturbed weights into both, so that zero biases cannot hide a bias bug."""
    rng = np.random.default_rng(2)
    weights = [w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in reference.get_weights()]
    reference.set_weights(weights)
    fused.set_weights(weights)


def _compare(reference: keras.layers.Layer, fused: keras.layers.Layer, padding: str | None,
             training: bool = False) -> None:
    embedding = keras.layers.Embedding(VOCAB, FEATURES, mask_zero=padding is not None)
    tokens = _tokens(padding or "post")
    embedded = tf.convert_to_tensor(embedding(tokens))
    mask = embedding.compute_mask(tokens)
    reference(embedded, mask=mask)
    fused(embedded, mask=mask)
    assert [w.shape for w in fused.weights] == [w.shape for w in reference.weights]
    _same_random_weights(reference, fused)

    expected, expected_grads = _run(reference, embedded, mask, training)
    got, got_grads = _run(fused, embedded, mask, training)
    np.testing.assert_allclose(got, expected, atol=TOLERANCE, rtol=TOLERANCE)
    assert len(got_grads) == len(expected_grads)
    for g, e in zip(got_grads, expected_grads, strict=True):
        np.testing.assert_allclose(g, e, atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("padding", [None, "post", "pre"])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_same_outputs_and_gradients_as_keras(cell: str, padding: str | None,
                                              return_sequences: bool, bidirectional: bool) -> None:
    _compare(*_pair(cell, bidirectional, return_sequences=return_sequences), padding)


@pytest.mark.parametrize("cell", list(CELLS))
def test_same_dropout_masks_as_keras_when_seeded(cell: str) -> None:
    """In training, both layers draw Keras's per-sequence input dropout mask from the same seed."""
    reference, fused = _pair(cell, False, return_sequences=True, dropout=0.4, seed=3)
    _compare(reference, fused, "post", training=True)


@pytest.mark.parametrize("cell", list(CELLS))
def test_inside_a_compiled_training_step(cell: str) -> None:
    """In a tf.function (as in `fit`), the gradients still match Keras's."""
    reference, fused = _pair(cell, True, return_sequences=True)
    embedded = tf.random.stateless_normal((3, STEPS, FEATURES), seed=(1, 2))
    mask = tf.sequence_mask([STEPS, 4, 1], STEPS)
    reference(embedded, mask=mask)
    fused(embedded, mask=mask)
    _same_random_weights(reference, fused)

    def step(layer: keras.layers.Layer) -> list[np.ndarray]:
        @tf.function
        def gradients() -> list[tf.Tensor]:
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(tf.square(layer(embedded, mask=mask, training=True)))
            return tape.gradient(loss, layer.trainable_weights)

        return [g.numpy() for g in gradients()]

    for g, e in zip(step(fused), step(reference), strict=True):
        np.testing.assert_allclose(g, e, atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("cell", list(CELLS))
@pytest.mark.parametrize("batch", [1, 2, 5])
def test_any_batch_size(cell: str, batch: int) -> None:
    """The batch is cut into `SHARDS` slices: uneven and empty slices give the same result."""
    reference, fused = _pair(cell, False, return_sequences=False)
    embedded = tf.random.stateless_normal((batch, STEPS, FEATURES), seed=(3, 4))
    reference(embedded)
    fused(embedded)
    _same_random_weights(reference, fused)
    np.testing.assert_allclose(_run(fused, embedded, None, False)[1][1],
                               _run(reference, embedded, None, False)[1][1],
                               atol=TOLERANCE, rtol=TOLERANCE)


@pytest.mark.parametrize("cell", list(CELLS))
def test_config_round_trip(cell: str) -> None:
    layer = CELLS[cell][1](UNITS, dropout=0.2, return_sequences=True, name=cell)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(clone) is CELLS[cell][1]
    assert (clone.units, clone.dropout, clone.return_sequences) == (UNITS, 0.2, True)


def test_refuses_what_it_does_not_compute() -> None:
    with pytest.raises(ValueError, match="recurrent_dropout"):
        FusedLSTM(UNITS, recurrent_dropout=0.1)
    with pytest.raises(ValueError, match="activation"):
        FusedLSTM(UNITS, activation="relu")
    with pytest.raises(ValueError, match="reset_after"):
        FusedGRU(UNITS, reset_after=False)


@pytest.mark.parametrize("overrides", [
    {},
    {"head": "last", "mask_zero": True},
    {"bidirectional": True, "head": "attention", "mask_zero": True, "padding": "pre"},
    {"cell": "gru", "head": "mean", "mask_zero": True},
])
def test_build_model_same_parameter_count(overrides: dict) -> None:
    base = {"maxlen": 20, "vocab_size": 50, "embedding_dim": 8, "units": 6, **overrides}
    keras_model = build_model(resolve({**base, "implementation": "keras"}))
    fused_model = build_model(resolve({**base, "implementation": "fused"}))
    assert fused_model.count_params() == keras_model.count_params()
    assert [w.shape for w in fused_model.weights] == [w.shape for w in keras_model.weights]


def test_build_model_records_and_refuses() -> None:
    assert implementation_name(resolve({})) == "keras.layers.LSTM"
    assert implementation_name(resolve({"cell": "gru"})) == "keras.layers.GRU"
    assert implementation_name(resolve({"implementation": "fused"})) == "sweep.fused_rnn.FusedLSTM"
    assert (implementation_name(resolve({"implementation": "fused", "cell": "gru"}))
            == "sweep.fused_rnn.FusedGRU")
    with pytest.raises(ConfigError, match="recurrent_dropout"):
        build_model(resolve({"implementation": "fused", "recurrent_dropout": 0.1}))

"""The network of the question and its variants, readable top to bottom.

``Input(maxlen) -> Embedding -> LSTM|GRU (optionally Bidirectional) -> head -> Dense(1, sigmoid)``.
The head is the experiment: ``flatten`` (every timestep, as in the question), ``last`` (the final
state), ``mean`` / ``max`` pooling, or a small learned ``attention`` pool.

Masks: with ``mask_zero`` the recurrent layer skips padded timesteps, but Keras 3's ``Flatten`` and
``GlobalMaxPooling1D`` drop the mask, so those heads still read the padded positions' outputs.
We build these combinations (they are part of the ablation) and record ``mask_effective`` - whether
the head itself honours the mask - instead of letting Keras warn. The mask still changes what those
heads read: at masked steps Keras' RNN layers repeat the last unmasked output
(``zero_output_for_mask=False``), so with post-padding Flatten sees copies of the state at the
review's last word where it would otherwise see states driven by padding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
from keras import layers, ops

from sweep.errors import ConfigError

#: Heads that honour the mask all the way to the classifier.
MASK_AWARE_HEADS = ("last", "mean", "attention")


def mask_effective(config: Mapping[str, Any]) -> bool:
    """Whether padded timesteps are invisible to the classifier for this configuration."""
    return bool(config["mask_zero"]) and config["head"] in MASK_AWARE_HEADS


@keras.saving.register_keras_serializable(package="sweep")
class AttentionPooling1D(layers.Layer):
    """Softmax-weighted mean over timesteps, scored by one learned vector; padding weighs zero."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        self.score = self.add_weight(shape=(input_shape[-1], 1), name="score")

    def call(self, inputs: Any, mask: Any = None) -> Any:
        logits = ops.squeeze(ops.matmul(inputs, self.score), axis=-1)
        if mask is not None:
            logits = ops.where(mask, logits, ops.full_like(logits, -1e9))
        weights = ops.softmax(logits, axis=-1)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        return (input_shape[0], input_shape[-1])


def recurrent_class(config: Mapping[str, Any]) -> type[layers.RNN]:
    """The recurrent layer for ``cell`` and ``implementation``: Keras's, or `sweep.fused_rnn`'s.

    Raises:
        ConfigError: ``implementation=fused`` with ``recurrent_dropout``, which it lacks.
    """
    if config["implementation"] == "keras":
        return {"lstm": layers.LSTM, "gru": layers.GRU}[config["cell"]]
    if config["recurrent_dropout"] > 0:
        raise ConfigError("implementation=fused does not support recurrent_dropout > 0; "
                          "use implementation=keras.")
    from sweep.fused_rnn import FusedGRU, FusedLSTM  # imports TensorFlow directly

    return {"lstm": FusedLSTM, "gru": FusedGRU}[config["cell"]]


def implementation_name(config: Mapping[str, Any]) -> str:
    """What a trial records as the recurrent kernel that ran, e.g. ``keras.layers.LSTM``."""
    cls = recurrent_class(config)
    module = "keras.layers" if config["implementation"] == "keras" else cls.__module__
    return f"{module}.{cls.__name__}"


@keras.saving.register_keras_serializable(package="sweep")
class MaskDroppingFlatten(layers.Flatten):
    """Keras' Flatten, dropping an incoming mask on purpose (recorded as ``mask_effective``)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True  # accepted, then discarded: no warning on every call

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


@keras.saving.register_keras_serializable(package="sweep")
class MaskDroppingGlobalMaxPooling1D(layers.GlobalMaxPooling1D):
    """Keras' GlobalMaxPooling1D, dropping an incoming mask on purpose (padded steps count)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> None:
        return None


HEADS = {
    "flatten": lambda: MaskDroppingFlatten(name="flatten"),
    "mean": lambda: layers.GlobalAveragePooling1D(name="mean_pool"),
    "max": lambda: MaskDroppingGlobalMaxPooling1D(name="max_pool"),
    "attention": lambda: AttentionPooling1D(name="attention_pool"),
}


def build_model(config: Mapping[str, Any]) -> keras.Model:
    """Build and compile the classifier for a resolved configuration (see `sweep.params`)."""
    tokens = keras.Input(shape=(config["maxlen"],), dtype="int32", name="tokens")
    x = layers.Embedding(config["vocab_size"], config["embedding_dim"],
                         mask_zero=config["mask_zero"], name="embedding")(tokens)
    cell = recurrent_class(config)
    recurrent = cell(config["units"], dropout=config["dropout"],
                     recurrent_dropout=config["recurrent_dropout"],
                     return_sequences=config["head"] != "last", name=config["cell"])
    if config["bidirectional"]:
        recurrent = layers.Bidirectional(recurrent, name=f"bi_{config['cell']}")
    x = recurrent(x)
    if config["head"] != "last":
        x = HEADS[config["head"]]()(x)
    probability = layers.Dense(1, activation="sigmoid", name="classifier")(x)
    model = keras.Model(tokens, probability, name=f"{config['cell']}_{config['head']}")
    model.compile(optimizer=keras.optimizers.Adam(config["learning_rate"]),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model

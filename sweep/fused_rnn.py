"""`FusedLSTM` and `FusedGRU`: Keras's LSTM and GRU math with a faster CPU kernel (``fused``).

Keras runs one cell call per timestep on CPU, and autodiff through that loop records every op of
every step. Here, as cuDNN does, the input projection ``x @ kernel + bias`` of all timesteps is one
big matmul before the loop; the loop only does ``h @ recurrent_kernel`` and the gates. The backward
pass is written by hand: one small matmul per step, and the weight gradients of all steps summed in
one large matmul after the loop instead of being accumulated step by step.

The layers subclass `keras.layers.LSTM` and `keras.layers.GRU`, so weights (``kernel``,
``recurrent_kernel``, ``bias``), constructor, dropout masks, config and `Bidirectional` wrapping
are Keras's own; only ``inner_loop`` is replaced. Masks follow
`keras.src.backend.tensorflow.rnn.rnn`: at a masked step the state is carried over and the output
repeats the previous output, or is zero when ``zero_output_for_mask`` is set (as `Bidirectional`
does with ``return_sequences``). With an explicit non-zero ``initial_state`` and leading masked
steps, Keras outputs zeros there and these layers the initial state; sweep's models never pass one.
tests/test_fused_rnn.py holds outputs and gradients to Keras's within 1e-5.
"""

from __future__ import annotations

import os
from typing import Any

import keras
import tensorflow as tf


def _per_step(tensor: tf.Tensor) -> tf.TensorArray:
    """A time-major tensor as a TensorArray: the cheapest per-step read inside a while_loop."""
    return tf.TensorArray(tensor.dtype, size=tf.shape(tensor)[0]).unstack(tensor)


def _lstm_forward(z: tf.Tensor, kernel: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor,
             mask: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """The recurrence; returns the carried states ``hs``, ``cs`` and the gate activations."""
    steps = tf.shape(z)[0]
    z_steps = _per_step(z)
    mask_steps = None if mask is None else _per_step(mask)

    def step(t, h, c, hs, cs, gates):
        i, f, g, o = tf.split(z_steps.read(t) + tf.matmul(h, kernel), 4, axis=1)
        i, f, g, o = tf.sigmoid(i), tf.sigmoid(f), tf.tanh(g), tf.sigmoid(o)
        c_new = f * c + i * g
        h_new = o * tf.tanh(c_new)
        if mask_steps is not None:
            m = mask_steps.read(t)
            h_new, c_new = tf.where(m, h_new, h), tf.where(m, c_new, c)
        return (t + 1, h_new, c_new, hs.write(t, h_new), cs.write(t, c_new),
                gates.write(t, tf.concat([i, f, g, o], axis=1)))

    empty = [tf.TensorArray(z.dtype, size=steps) for _ in range(3)]
    _, _, _, hs, cs, gates = tf.while_loop(
        lambda t, *_: t < steps, step, (0, h0, c0, *empty))
    return hs.stack(), cs.stack(), gates.stack()


def _lstm_backward(d_hs: tf.Tensor, d_c_last: tf.Tensor, kernel: tf.Tensor, h0: tf.Tensor,
              c0: tf.Tensor, hs: tf.Tensor, cs: tf.Tensor, gates: tf.Tensor,
              mask: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]:
    """Backpropagation through time for `_lstm_forward`: gradients of z, kernel, h0 and c0."""
    steps, units = tf.shape(hs)[0], kernel.shape[0]
    c_prev = tf.concat([c0[None], cs[:-1]], axis=0)
    # Everything that does not depend on the step-to-step gradient, for all steps at once.
    i, f, g, o = tf.split(gates, 4, axis=2)
    tanh_c = tf.tanh(cs)
    slopes = tf.concat([i * (1 - i) * g, f * (1 - f) * c_prev, (1 - g * g) * i,
                        o * (1 - o) * tanh_c], axis=2)
    read = [_per_step(a) for a in (d_hs, slopes, o * (1 - tanh_c * tanh_c), f)]
    mask_steps = None if mask is None else _per_step(mask)
    transposed = tf.transpose(kernel)

    def step(t, dh, dc, dzs):
        d_hs_t, slopes_t, c_through_h_t, f_t = (a.read(t) for a in read)
        dh = dh + d_hs_t
        if mask_steps is not None:  # a masked step passes the gradient straight through
            m = mask_steps.read(t)
            dh_new, dc_new = tf.where(m, dh, 0.0), tf.where(m, dc, 0.0)
            dh_skip, dc_skip = dh - dh_new, dc - dc_new
        else:
            dh_new, dc_new, dh_skip, dc_skip = dh, dc, 0.0, 0.0
        dc_new = dc_new + dh_new * c_through_h_t
        dz = slopes_t * tf.concat([dc_new, dc_new, dc_new, dh_new], axis=1)
        return (t - 1, tf.matmul(dz, transposed) + dh_skip, dc_new * f_t + dc_skip,
                dzs.write(t, dz))

    _, dh0, dc0, dzs = tf.while_loop(
        lambda t, *_: t >= 0, step,
        (steps - 1, tf.zeros_like(h0), d_c_last, tf.TensorArray(d_hs.dtype, size=steps)))
    dz = dzs.stack()
    h_prev = tf.concat([h0[None], hs[:-1]], axis=0)
    d_kernel = tf.matmul(tf.reshape(h_prev, (-1, units)), tf.reshape(dz, (-1, 4 * units)),
                         transpose_a=True)
    return dz, d_kernel, dh0, dc0



def _gru_forward(z: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor, h0: tf.Tensor,
                 mask: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor]:
    """The GRU recurrence (``reset_after``): ``hs``, and per step ``z, r, hh, (h @ R + b)_h``."""
    steps = tf.shape(z)[0]
    z_steps = _per_step(z)
    mask_steps = None if mask is None else _per_step(mask)

    def step(t, h, hs, gates):
        x_z, x_r, x_h = tf.split(z_steps.read(t), 3, axis=1)
        inner_z, inner_r, inner_h = tf.split(tf.matmul(h, kernel) + bias, 3, axis=1)
        update, reset = tf.sigmoid(x_z + inner_z), tf.sigmoid(x_r + inner_r)
        candidate = tf.tanh(x_h + reset * inner_h)
        h_new = update * h + (1 - update) * candidate
        if mask_steps is not None:
            h_new = tf.where(mask_steps.read(t), h_new, h)
        return (t + 1, h_new, hs.write(t, h_new),
                gates.write(t, tf.concat([update, reset, candidate, inner_h], axis=1)))

    empty = [tf.TensorArray(z.dtype, size=steps) for _ in range(2)]
    _, _, hs, gates = tf.while_loop(lambda t, *_: t < steps, step, (0, h0, *empty))
    return hs.stack(), gates.stack()


def _gru_backward(d_hs: tf.Tensor, kernel: tf.Tensor, h0: tf.Tensor, hs: tf.Tensor,
                  gates: tf.Tensor, mask: tf.Tensor | None) -> tuple[tf.Tensor, ...]:
    """Backpropagation through time for `_gru_forward`: gradients of z, kernel, bias and h0."""
    steps, units = tf.shape(hs)[0], kernel.shape[0]
    h_prev = tf.concat([h0[None], hs[:-1]], axis=0)
    update, reset, candidate, inner_h = tf.split(gates, 4, axis=2)
    # d(pre-activations)/d(h_new) for all steps at once: z, r and the candidate's.
    slope_z = (h_prev - candidate) * update * (1 - update)
    slope_h = (1 - update) * (1 - candidate * candidate)
    slope_r = slope_h * inner_h * reset * (1 - reset)
    slopes_inner = tf.concat([slope_z, slope_r, slope_h * reset], axis=2)
    read = [_per_step(a) for a in (d_hs, slopes_inner, update)]
    mask_steps = None if mask is None else _per_step(mask)
    transposed = tf.transpose(kernel)

    def step(t, dh, d_news):
        d_hs_t, slopes_t, update_t = (a.read(t) for a in read)
        dh = dh + d_hs_t
        d_new, d_skip = dh, 0.0
        if mask_steps is not None:  # a masked step passes the gradient straight through
            d_new = tf.where(mask_steps.read(t), dh, 0.0)
            d_skip = dh - d_new
        d_inner = slopes_t * tf.concat([d_new, d_new, d_new], axis=1)
        dh_prev = d_new * update_t + tf.matmul(d_inner, transposed) + d_skip
        return t - 1, dh_prev, d_news.write(t, d_new)

    _, dh0, d_news = tf.while_loop(
        lambda t, *_: t >= 0, step,
        (steps - 1, tf.zeros_like(h0), tf.TensorArray(d_hs.dtype, size=steps)))
    d_new = d_news.stack()
    d_inner = tf.concat([d_new * slope_z, d_new * slope_r, d_new * slope_h * reset], axis=2)
    d_z = tf.concat([d_new * slope_z, d_new * slope_r, d_new * slope_h], axis=2)
    d_kernel = tf.matmul(tf.reshape(h_prev, (-1, units)), tf.reshape(d_inner, (-1, 3 * units)),
                         transpose_a=True)
    return d_z, d_kernel, tf.reduce_sum(d_inner, axis=(0, 1)), dh0


#: XLA compiles each loop into one kernel that fuses each step's gate math; without it these loops
#: were no faster than Keras's own (benchmarks/RESULTS.md).
_lstm_forward_xla = tf.function(_lstm_forward, jit_compile=True, reduce_retracing=True)
_lstm_backward_xla = tf.function(_lstm_backward, jit_compile=True, reduce_retracing=True)
_gru_forward_xla = tf.function(_gru_forward, jit_compile=True, reduce_retracing=True)
_gru_backward_xla = tf.function(_gru_backward, jit_compile=True, reduce_retracing=True)

#: Independent slices of the batch whose recurrences run side by side: one per core, up to the
#: two cores this was measured on (benchmarks/RESULTS.md).
SHARDS = min(2, os.cpu_count() or 1)


def _lstm_recurrence(z: tf.Tensor, recurrent_kernel: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor,
                     mask: tf.Tensor | None) -> tuple[tf.Tensor, tf.Tensor]:
    """Run the LSTM recurrence on pre-projected inputs, with a hand-written backward pass.

    Args:
        z: ``x @ kernel + bias`` for every step, time-major ``(T, B, 4U)``, gates ``i, f, c, o``.
        recurrent_kernel: ``(U, 4U)``.
        h0, c0: initial states ``(B, U)``.
        mask: ``(T, B, 1)`` bool, or None.

    Returns:
        The carried hidden states ``(T, B, U)`` and the final carry state ``(B, U)``.
    """

    @tf.custom_gradient
    def run(z: tf.Tensor, kernel: tf.Tensor, h0: tf.Tensor, c0: tf.Tensor) -> Any:
        # No tape needs to see inside: `grad` is the gradient.
        hs, cs, gates = _lstm_forward_xla(*(tf.stop_gradient(v) for v in (z, kernel, h0, c0)), mask)

        def grad(d_hs: tf.Tensor | None, d_c_last: tf.Tensor | None) -> tuple[tf.Tensor, ...]:
            d_hs = tf.zeros_like(hs) if d_hs is None else d_hs
            d_c_last = tf.zeros_like(c0) if d_c_last is None else d_c_last
            return _lstm_backward_xla(d_hs, d_c_last, kernel, h0, c0, hs, cs, gates, mask)

        return (hs, cs[-1]), grad

    return run(z, recurrent_kernel, h0, c0)


def _gru_recurrence(z: tf.Tensor, recurrent_kernel: tf.Tensor, recurrent_bias: tf.Tensor,
                    h0: tf.Tensor, mask: tf.Tensor | None) -> tuple[tf.Tensor]:
    """`_lstm_recurrence` for the GRU: ``z`` is ``(T, B, 3U)``, gates ``z, r, h``; gives ``hs``."""

    @tf.custom_gradient
    def run(z: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor, h0: tf.Tensor) -> Any:
        hs, gates = _gru_forward_xla(*(tf.stop_gradient(v) for v in (z, kernel, bias, h0)), mask)

        def grad(d_hs: tf.Tensor) -> tuple[tf.Tensor, ...]:
            return _gru_backward_xla(d_hs, kernel, h0, hs, gates, mask)

        return hs, grad

    return (run(z, recurrent_kernel, recurrent_bias, h0),)


def _sharded(recurrence: Any, z: tf.Tensor, weights: list[tf.Tensor], states: list[tf.Tensor],
             mask: tf.Tensor | None) -> list[tf.Tensor]:
    """Run ``recurrence`` on `SHARDS` slices of the batch, which TensorFlow runs concurrently.

    Rows of a batch never interact, so this changes no result; the per-step matmul is too small
    to use a second core by itself, two independent loops are not.
    """
    batch = tf.shape(z)[1]
    sizes = [batch // SHARDS] * (SHARDS - 1) + [batch - (SHARDS - 1) * (batch // SHARDS)]
    z_parts = tf.split(z, sizes, axis=1)
    state_parts = [tf.split(state, sizes) for state in states]
    mask_parts = [None] * SHARDS if mask is None else tf.split(mask, sizes, axis=1)
    results = [recurrence(z_parts[i], *weights, *(part[i] for part in state_parts), mask_parts[i])
               for i in range(SHARDS)]
    hs, *finals = zip(*results, strict=True)  # hs is time-major, final states batch-major
    return [tf.concat(hs, axis=1), *(tf.concat(parts, axis=0) for parts in finals)]


def _check_supported(layer: keras.layers.RNN) -> None:
    """Refuse options the fused kernels do not compute, rather than computing something else."""
    cell = layer.cell
    unsupported = {
        "activation": cell.activation is not keras.activations.tanh,
        "recurrent_activation": cell.recurrent_activation is not keras.activations.sigmoid,
        "use_bias": not cell.use_bias,
        "unroll": layer.unroll,
        "recurrent_dropout": cell.recurrent_dropout > 0,
        "reset_after=False": not getattr(cell, "reset_after", True),
    }
    bad = [name for name, is_bad in unsupported.items() if is_bad]
    if bad:
        raise ValueError(f"{type(layer).__name__} does not support {', '.join(bad)}; "
                         "use the keras.layers class it derives from")


def _time_major_inputs(layer: keras.layers.RNN, sequences: Any, mask: Any,
                       training: bool) -> tuple[tf.Tensor, tf.Tensor | None]:
    """Inputs with Keras's per-sequence dropout applied, and the mask, time-major, in run order."""
    cell = layer.cell
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
    if training and 0.0 < cell.dropout < 1.0:  # the mask Keras drew for this call, every step
        sequences = sequences * tf.expand_dims(cell.get_dropout_mask(sequences[:, 0, :]), 1)
    x = tf.transpose(sequences, (1, 0, 2))
    if mask is not None:
        mask = tf.transpose(tf.cast(mask, tf.bool), (1, 0))[:, :, None]
    if layer.go_backwards:
        x = tf.reverse(x, (0,))
        mask = None if mask is None else tf.reverse(mask, (0,))
    return x, mask


def _project(x: tf.Tensor, kernel: Any, bias: Any) -> tf.Tensor:
    """``x @ kernel + bias`` for all timesteps as one matmul, as cuDNN does."""
    steps, batch = tf.shape(x)[0], tf.shape(x)[1]
    z = tf.matmul(tf.reshape(x, (-1, x.shape[-1])), kernel) + bias
    return tf.reshape(z, (steps, batch, kernel.shape[-1]))


def _outputs(layer: keras.layers.RNN, hs: tf.Tensor, mask: tf.Tensor | None) -> tuple[Any, Any]:
    """``last_output`` and ``outputs`` as `keras.src.backend.tensorflow.rnn.rnn` returns them."""
    outputs = hs
    if layer.zero_output_for_mask and mask is not None:
        outputs = tf.where(mask, hs, tf.zeros_like(hs))
    last_output = outputs[-1]
    return last_output, (tf.transpose(outputs, (1, 0, 2)) if layer.return_sequences
                         else last_output[:, None])


@keras.saving.register_keras_serializable(package="sweep")
class FusedLSTM(keras.layers.LSTM):
    """`keras.layers.LSTM` (tanh/sigmoid, with bias) computed by `_lstm_recurrence`."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        _check_supported(self)

    def inner_loop(self, sequences: Any, initial_state: list[Any], mask: Any = None,
                   training: bool = False) -> tuple[Any, Any, list[Any]]:
        x, mask = _time_major_inputs(self, sequences, mask, training)
        z = _project(x, self.cell.kernel, self.cell.bias)
        kernel = tf.convert_to_tensor(self.cell.recurrent_kernel)
        hs, c_last = _sharded(_lstm_recurrence, z, [kernel], initial_state[:2], mask)
        return *_outputs(self, hs, mask), [hs[-1], c_last]


@keras.saving.register_keras_serializable(package="sweep")
class FusedGRU(keras.layers.GRU):
    """`keras.layers.GRU` (tanh/sigmoid, bias, ``reset_after``) computed by `_gru_recurrence`."""

    def __init__(self, units: int, **kwargs: Any) -> None:
        super().__init__(units, **kwargs)
        _check_supported(self)

    def inner_loop(self, sequences: Any, initial_state: list[Any], mask: Any = None,
                   training: bool = False) -> tuple[Any, Any, list[Any]]:
        x, mask = _time_major_inputs(self, sequences, mask, training)
        input_bias, recurrent_bias = tf.unstack(tf.convert_to_tensor(self.cell.bias))
        z = _project(x, self.cell.kernel, input_bias)
        kernel = tf.convert_to_tensor(self.cell.recurrent_kernel)
        (hs,) = _sharded(_gru_recurrence, z, [kernel, recurrent_bias], initial_state[:1], mask)
        return *_outputs(self, hs, mask), [hs[-1]]

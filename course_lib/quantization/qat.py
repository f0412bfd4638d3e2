"""Fake quantization with the straight-through estimator, and quantization-aware training
layers for Keras 3 (notebook 09)."""

from __future__ import annotations

from collections.abc import Mapping

import keras
import numpy as np
import tensorflow as tf

from ..parameters import ParameterError, check_param
from .formulas import qrange, round_half_away

# --- fake quantization (TensorFlow) ------------------------------------------------------------


def _tf_round_half_away(x: tf.Tensor) -> tf.Tensor:
    return tf.sign(x) * tf.floor(tf.abs(x) + 0.5)


def fake_quant(x: tf.Tensor, lo: float, hi: float, bits: int = 8) -> tf.Tensor:
    """Affine quantize-dequantize of ``x`` on ``[lo, hi]`` (widened to contain 0, zero-point
    rounded as in :func:`affine_params`) with the clipped straight-through estimator.

    Forward: values are clipped to the representable range and rounded to the grid, exactly as
    ``dequantize(quantize(x))`` with unsigned :func:`affine_params`. Backward: the gradient is
    1 inside that range and 0 outside (the gradient of the clip): with ``c = clip(x)``, the
    output is ``c + stop_gradient(round(c) - c)``, so the rounding is skipped.
    """
    qmin, qmax = qrange(bits, signed=False)
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi == lo:
        raise ParameterError(f"parameters lo and hi must not both be 0 (zero range); got "
                             f"lo={lo}, hi={hi}")
    scale = (hi - lo) / (qmax - qmin)
    zero_point = float(round_half_away(qmin - lo / scale))
    x = tf.convert_to_tensor(x)
    clipped = tf.clip_by_value(x, (qmin - zero_point) * scale, (qmax - zero_point) * scale)
    rounded = _tf_round_half_away(clipped / scale) * scale
    return clipped + tf.stop_gradient(rounded - clipped)


def fake_quant_weights(w: tf.Tensor, bits: int = 8, axis: int | None = -1) -> tf.Tensor:
    """Symmetric quantize-dequantize of a kernel, per channel along ``axis`` (None: per tensor),
    with the straight-through estimator (gradient 1 everywhere: nothing is clipped, because the
    scale comes from the weights' own ``max|w|``; the scale itself is held constant)."""
    _, qmax = qrange(bits, signed=True, narrow=True)
    w = tf.convert_to_tensor(w)
    if axis is None:
        absmax = tf.reduce_max(tf.abs(w))
    else:
        axes = [i for i in range(w.shape.rank) if i != axis % w.shape.rank]
        absmax = tf.reduce_max(tf.abs(w), axis=axes, keepdims=True)
    scale = tf.stop_gradient(tf.maximum(absmax, 1e-12) / qmax)  # an all-zero channel stays 0
    rounded = tf.clip_by_value(_tf_round_half_away(w / scale), -qmax, qmax) * scale
    return w + tf.stop_gradient(rounded - w)


class _FakeQuantMixin:
    """Shared settings of :class:`QATConv2D` and :class:`QATDense`."""

    def _init_quant(self, weight_bits: int, per_channel: bool, activation_bits: int | None,
                    activation_range: tuple[float, float] | None) -> None:
        check_param("weight_bits", weight_bits, int, ge=2, le=16)
        self.weight_bits = int(weight_bits)
        self.per_channel = bool(per_channel)
        if activation_bits is not None:
            check_param("activation_bits", activation_bits, int, ge=2, le=16)
        self.activation_bits = None if activation_bits is None else int(activation_bits)
        if self.activation_bits is not None:
            if activation_range is None or not activation_range[0] < activation_range[1]:
                raise ParameterError(f"parameter activation_range must be (lo, hi) with lo < hi "
                                     f"when activation_bits is given; got {activation_range!r}")
        self.activation_range = activation_range

    def quantized_kernel(self) -> tf.Tensor:
        """The kernel as the forward pass uses it: on the ``weight_bits`` grid, per output
        channel (or per tensor)."""
        return fake_quant_weights(self.kernel, self.weight_bits,
                                  axis=-1 if self.per_channel else None)

    def _finish(self, outputs: tf.Tensor) -> tf.Tensor:
        if self.use_bias:
            outputs = outputs + self.bias
        if self.activation is not None:
            outputs = self.activation(outputs)
        if self.activation_bits is not None:
            outputs = fake_quant(outputs, *self.activation_range, bits=self.activation_bits)
        return outputs

    def _quant_config(self) -> dict:
        return {"weight_bits": self.weight_bits, "per_channel": self.per_channel,
                "activation_bits": self.activation_bits,
                "activation_range": self.activation_range}


class QATConv2D(_FakeQuantMixin, keras.layers.Conv2D):
    """``Conv2D`` whose forward pass fake-quantizes its kernel (symmetric, per output channel,
    ``weight_bits``) and, if ``activation_bits`` is given, its output on
    ``activation_range``."""

    def __init__(self, *args, weight_bits: int = 8, per_channel: bool = True,
                 activation_bits: int | None = None,
                 activation_range: tuple[float, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_quant(weight_bits, per_channel, activation_bits, activation_range)

    def call(self, inputs):
        return self._finish(self.convolution_op(inputs, self.quantized_kernel()))

    def get_config(self) -> dict:
        return {**super().get_config(), **self._quant_config()}


class QATDense(_FakeQuantMixin, keras.layers.Dense):
    """``Dense`` counterpart of :class:`QATConv2D`."""

    def __init__(self, *args, weight_bits: int = 8, per_channel: bool = True,
                 activation_bits: int | None = None,
                 activation_range: tuple[float, float] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._init_quant(weight_bits, per_channel, activation_bits, activation_range)

    def call(self, inputs, training=None):
        return self._finish(keras.ops.matmul(inputs, self.quantized_kernel()))

    def get_config(self) -> dict:
        return {**super().get_config(), **self._quant_config()}


class FakeQuant(keras.layers.Layer):
    """A layer that applies :func:`fake_quant` on a fixed ``(lo, hi)`` range (used on the
    model's input by :func:`quantize_for_training`)."""

    def __init__(self, bits: int, value_range: tuple[float, float], **kwargs):
        super().__init__(**kwargs)
        check_param("bits", bits, int, ge=2, le=16)
        self.bits = int(bits)
        self.value_range = tuple(float(v) for v in value_range)

    def call(self, inputs):
        return fake_quant(inputs, *self.value_range, bits=self.bits)

    def get_config(self) -> dict:
        return {**super().get_config(), "bits": self.bits, "value_range": self.value_range}


_QAT_LAYERS = {"Conv2D": QATConv2D, "Dense": QATDense}


def activation_ranges(model: keras.Sequential, x: np.ndarray) -> dict[str, tuple[float, float]]:
    """``(min, max)`` of ``x`` (key ``"input"``) and of the output of every Conv2D and Dense
    layer of ``model`` on ``x``: the calibration of :func:`quantize_for_training`."""
    names = [layer.name for layer in model.layers if type(layer).__name__ in _QAT_LAYERS]
    probe = keras.Model(model.inputs, [model.get_layer(n).output for n in names])
    outputs = probe.predict(x, batch_size=1000, verbose=0)
    ranges = {n: (float(out.min()), float(out.max())) for n, out in zip(names, outputs,
                                                                       strict=True)}
    return {"input": (float(np.min(x)), float(np.max(x))), **ranges}


def quantize_for_training(model: keras.Sequential, weight_bits: int, per_channel: bool = True,
                          activation_bits: int | None = None,
                          ranges: Mapping[str, tuple[float, float]] | None = None
                          ) -> keras.Sequential:
    """A copy of ``model`` with every Conv2D/Dense replaced by :class:`QATConv2D` /
    :class:`QATDense` (weights copied), kernels fake-quantized to ``weight_bits`` (symmetric,
    per output channel or per tensor). With ``activation_bits``, the input and the output of
    every such layer (the logits too) are fake-quantized on the calibrated ``ranges`` (from
    :func:`activation_ranges`); these ranges stay fixed while it trains (tfmot's default scheme
    instead tracks each range during training with moving averages of the batches' minimum and
    maximum). Evaluating it simulates post-training quantization; training it is
    quantization-aware training."""
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"quantize_for_training needs a keras.Sequential, got "
                        f"{type(model).__name__}")
    if activation_bits is not None and ranges is None:
        raise ParameterError("parameter ranges must be given (the calibrated ranges from "
                             "activation_ranges) when activation_bits is; got None")
    layers = []
    if activation_bits is not None:
        layers.append(FakeQuant(activation_bits, ranges["input"], name="input_quant"))
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in _QAT_LAYERS:
            layers.append(layer.__class__.from_config(layer.get_config()))
            continue
        layers.append(_QAT_LAYERS[kind](
            **layer.get_config(), weight_bits=weight_bits, per_channel=per_channel,
            activation_bits=activation_bits,
            activation_range=ranges[layer.name] if activation_bits is not None else None))
    quantized = keras.Sequential([keras.Input(model.inputs[0].shape[1:]), *layers],
                                 name=f"{model.name}_qat")
    for layer in model.layers:
        quantized.get_layer(layer.name).set_weights(layer.get_weights())
    return quantized



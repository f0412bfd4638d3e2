"""Quantization: the affine and symmetric formulas, integer matmul, fake quantization and LiteRT.

Introduced in notebook 09 (quantization), which derives every formula here and checks it;
notebook 13 (capstone) combines it with pruning. Four parts:

- **The formulas (NumPy).** :func:`qrange` gives the integer range of a bit width;
  :func:`affine_params` and :func:`symmetric_params` compute scale and zero-point per tensor or
  per channel (:class:`QuantParams`); :func:`quantize` and :func:`dequantize` apply them.
  Rounding is half away from zero (as TFLite's ``std::round``), and
  ``|x - dequantize(quantize(x))| <= scale / 2`` for every ``x`` inside the calibrated range.
- **Integer arithmetic.** :func:`int_matmul` multiplies quantized matrices with int32
  accumulation and rescales once; :func:`matmul_error_bound` is the worst-case error derived
  in the notebook.
- **Fake quantization for quantization-aware training (TensorFlow).** :func:`fake_quant` and
  :func:`fake_quant_weights` quantize and dequantize in the forward pass and pass gradients
  straight through (the straight-through estimator, STE), zero outside the clipping range.
  :class:`QATConv2D` and :class:`QATDense` use them, and :func:`quantize_for_training` turns a
  trained ``Sequential`` CNN into one that trains with quantized weights and activations.
  TensorFlow Model Optimization Toolkit (tfmot) has ``quantize_model`` for this, but only for
  legacy ``tf_keras`` models: with Keras 3 it raises ValueError, and Keras 3 has no
  quantization-aware training of its own.
- **LiteRT.** :func:`convert` runs ``tf.lite.TFLiteConverter`` (float32, dynamic-range,
  float16, full int8) with its chatter silenced; :class:`LiteModel` runs a ``.tflite`` model
  with ``ai_edge_litert``, quantizing int8 inputs and dequantizing outputs;
  :func:`size_breakdown` says where the bytes of a ``.tflite`` file go.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

MODES = ("float32", "dynamic", "float16", "int8")


# --- the formulas ------------------------------------------------------------------------------


def _check_bits(bits: int) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an int in 2..16, got {bits!r}")
    return int(bits)


def qrange(bits: int, signed: bool = True, narrow: bool = False) -> tuple[int, int]:
    """The integers ``(qmin, qmax)`` of a ``bits``-bit code.

    Signed: ``[-2^(b-1), 2^(b-1) - 1]`` (``narrow`` drops the lowest, giving a range symmetric
    about 0, as symmetric weight quantization uses); unsigned: ``[0, 2^b - 1]``.
    """
    bits = _check_bits(bits)
    if not signed:
        if narrow:
            raise ValueError("narrow ranges are only defined for signed codes")
        return 0, 2**bits - 1
    return -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1


def round_half_away(x: np.ndarray) -> np.ndarray:
    """Round to the nearest integer, halves away from zero (TFLite's rounding)."""
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


@dataclass(frozen=True)
class QuantParams:
    """Scale(s) and zero-point(s) of a quantizer, and its integer range.

    ``axis`` is None for one scale for the whole tensor, or the channel axis for one scale per
    channel (``scale`` and ``zero_point`` then have one entry per channel).
    """

    scale: np.ndarray
    zero_point: np.ndarray
    qmin: int
    qmax: int
    axis: int | None = None

    def _broadcast(self, values: np.ndarray, ndim: int, shape: tuple[int, ...]) -> np.ndarray:
        if self.axis is None:
            return values
        axis = self.axis % ndim if -ndim <= self.axis < ndim else None
        if axis is None or shape[axis] != values.size:
            raise ValueError(f"per-channel parameters for {values.size} channels on axis "
                             f"{self.axis} do not fit an array of shape {shape}")
        return values.reshape([-1 if i == axis else 1 for i in range(ndim)])

    def scale_for(self, x: np.ndarray) -> np.ndarray:
        """``scale`` shaped to broadcast against ``x``."""
        return self._broadcast(self.scale, np.ndim(x), np.shape(x))

    def zero_point_for(self, x: np.ndarray) -> np.ndarray:
        """``zero_point`` shaped to broadcast against ``x``."""
        return self._broadcast(self.zero_point, np.ndim(x), np.shape(x))


def _ranges(x: np.ndarray, axis: int | None) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("cannot quantize an empty array or one with NaN or infinity")
    if axis is None:
        return np.array(x.min()), np.array(x.max())
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"axis {axis} is out of range for an array of shape {x.shape}")
    others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return x.min(axis=others), x.max(axis=others)


def affine_params(x: np.ndarray, bits: int = 8, axis: int | None = None,
                  signed: bool = True) -> QuantParams:
    """Affine (asymmetric) parameters that map ``[min(x, 0), max(x, 0)]`` onto the full range.

    ``scale = (hi - lo) / (qmax - qmin)`` and ``zero_point = round(qmin - lo / scale)``, so
    that 0.0 is represented exactly. Raises ValueError when a range is zero (all values 0).
    """
    qmin, qmax = qrange(bits, signed)
    lo, hi = _ranges(x, axis)
    lo, hi = np.minimum(lo, 0.0), np.maximum(hi, 0.0)
    if np.any(hi == lo):
        raise ValueError("zero range: every value is 0, so no scale can be derived")
    scale = (hi - lo) / (qmax - qmin)
    zero_point = round_half_away(qmin - lo / scale).astype(np.int64)
    return QuantParams(scale, zero_point, qmin, qmax, axis)


def symmetric_params(x: np.ndarray, bits: int = 8, axis: int | None = None) -> QuantParams:
    """Symmetric parameters: ``zero_point = 0`` and ``scale = max|x| / qmax`` on the narrow
    signed range ``[-qmax, qmax]`` (TFLite's choice for weights). Raises ValueError for a zero
    range."""
    qmin, qmax = qrange(bits, signed=True, narrow=True)
    lo, hi = _ranges(x, axis)
    absmax = np.maximum(np.abs(lo), np.abs(hi))
    if np.any(absmax == 0):
        raise ValueError("zero range: every value is 0, so no scale can be derived")
    return QuantParams(absmax / qmax, np.zeros_like(absmax, dtype=np.int64), qmin, qmax, axis)


def _int_dtype(params: QuantParams) -> np.dtype:
    for dtype in (np.int8, np.uint8, np.int16, np.uint16):
        info = np.iinfo(dtype)
        if info.min <= params.qmin and params.qmax <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int32)


def quantize(x: np.ndarray, params: QuantParams) -> np.ndarray:
    """``clip(round(x / scale) + zero_point, qmin, qmax)`` in the smallest integer dtype."""
    x = np.asarray(x, dtype=np.float64)
    q = round_half_away(x / params.scale_for(x)) + params.zero_point_for(x)
    return np.clip(q, params.qmin, params.qmax).astype(_int_dtype(params))


def dequantize(q: np.ndarray, params: QuantParams) -> np.ndarray:
    """``scale · (q - zero_point)`` as float64."""
    q = np.asarray(q)
    if not np.issubdtype(q.dtype, np.integer):
        raise ValueError(f"dequantize expects integers, got {q.dtype}")
    return params.scale_for(q) * (q.astype(np.int64) - params.zero_point_for(q))


# --- integer arithmetic ------------------------------------------------------------------------


def _check_matmul(qx: np.ndarray, px: QuantParams, qw: np.ndarray, pw: QuantParams) -> None:
    if qx.ndim != 2 or qw.ndim != 2 or qx.shape[1] != qw.shape[0]:
        raise ValueError(f"int_matmul needs (n, k) @ (k, m) matrices, got {qx.shape} and "
                         f"{qw.shape}")
    if px.axis is not None:
        raise ValueError("the activations x must be quantized per tensor (axis=None)")
    if pw.axis not in (None, 1, -1) or np.any(pw.zero_point != 0):
        raise ValueError("the weights w must be symmetric (zero_point 0), per tensor or per "
                         "output column (axis=1)")


def int_matmul(qx: np.ndarray, px: QuantParams, qw: np.ndarray, pw: QuantParams) -> np.ndarray:
    """``x @ w`` from integer codes: ``s_x · s_w · Σ (q_x - z_x) q_w`` with int32 accumulation.

    ``qx`` (n, k) is quantized per tensor (affine), ``qw`` (k, m) symmetrically, per tensor or
    per output column. Raises OverflowError if the int32 sums would have overflowed.
    """
    _check_matmul(qx, px, qw, pw)
    centered = qx.astype(np.int32) - np.int32(px.zero_point)
    acc = centered @ qw.astype(np.int32)  # integer products, int32 sums
    if not np.array_equal(acc, centered.astype(np.int64) @ qw.astype(np.int64)):
        raise OverflowError("int32 accumulation overflowed; use fewer terms or fewer bits")
    return float(px.scale) * pw.scale_for(acc) * acc


def matmul_error_bound(qx: np.ndarray, px: QuantParams, qw: np.ndarray,
                       pw: QuantParams) -> np.ndarray:
    """Worst case of ``|x @ w - int_matmul(...)|`` (n, m) when every x and w was inside its
    range: ``Σ_i (|x̂_i| s_w/2 + |ŵ_ij| s_x/2 + s_x s_w/4)`` with x̂, ŵ the dequantized values."""
    _check_matmul(qx, px, qw, pw)
    x_hat, w_hat = np.abs(dequantize(qx, px)), np.abs(dequantize(qw, pw))
    s_x, s_w = float(px.scale), pw.scale_for(w_hat)
    k = qx.shape[1]
    return x_hat.sum(axis=1, keepdims=True) * s_w / 2 + s_x / 2 * w_hat.sum(axis=0) \
        + k * s_x * s_w / 4


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
        raise ValueError("zero range: lo and hi must not both be 0")
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
        self.weight_bits, self.per_channel = _check_bits(weight_bits), bool(per_channel)
        self.activation_bits = None if activation_bits is None else _check_bits(activation_bits)
        if self.activation_bits is not None:
            if activation_range is None or not activation_range[0] < activation_range[1]:
                raise ValueError(f"activation_bits needs an activation_range (lo < hi), got "
                                 f"{activation_range!r}")
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
        self.bits, self.value_range = _check_bits(bits), tuple(float(v) for v in value_range)

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
    :func:`activation_ranges`). Evaluating it simulates post-training quantization; training it
    is quantization-aware training."""
    if not isinstance(model, keras.Sequential):
        raise TypeError(f"quantize_for_training needs a keras.Sequential, got "
                        f"{type(model).__name__}")
    if activation_bits is not None and ranges is None:
        raise ValueError("activation_bits needs the calibrated ranges (activation_ranges)")
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


# --- LiteRT ------------------------------------------------------------------------------------


@contextlib.contextmanager
def quiet_native_output() -> Iterator[None]:
    """Silence stdout and stderr, Python's and the C++ runtime's (file descriptors 1 and 2),
    for the duration of the block: the converter prints temp paths and object ids there."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        os.dup2(null.fileno(), 1)
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


def convert(model: keras.Model, mode: str, representative: np.ndarray | None = None) -> bytes:
    """The ``.tflite`` flatbuffer of ``model``, converted with ``tf.lite.TFLiteConverter``.

    ``mode``: ``float32`` (no optimization), ``dynamic`` (int8 weights, float activations
    quantized on the fly), ``float16`` (float16 weights) or ``int8`` (full integer: int8
    weights and activations, int8 input and output, activation ranges calibrated on the
    ``representative`` images, one at a time).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if (mode == "int8") != (representative is not None):
        raise ValueError("representative images are needed for mode 'int8', and only for it")
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if mode != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if mode == "int8":
        images = np.asarray(representative, dtype=np.float32)
        converter.representative_dataset = lambda: ([image[np.newaxis]] for image in images)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with quiet_native_output(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Statistics for quantized inputs")
        return converter.convert()


class LiteModel:
    """A ``.tflite`` model run by ``ai_edge_litert.interpreter.Interpreter``.

    Float inputs are quantized with the model's input scale and zero-point when its input is
    integer, and integer outputs are dequantized with the output's, so :meth:`predict` takes
    and returns floats whatever the model's I/O types. One interpreter per batch size is kept
    (its input resized with ``resize_tensor_input``).
    """

    def __init__(self, content: bytes, num_threads: int = 1):
        self.content, self.num_threads = bytes(content), num_threads
        self._interpreters: dict[int, object] = {}
        first = self.interpreter(1)
        self.input_details = first.get_input_details()[0]
        self.output_details = first.get_output_details()[0]
        self.input_shape = tuple(int(n) for n in self.input_details["shape"][1:])

    def interpreter(self, batch_size: int = 1):
        """The interpreter (allocated) whose input takes ``batch_size`` images."""
        if batch_size not in self._interpreters:
            from ai_edge_litert.interpreter import Interpreter

            with quiet_native_output():  # "Created TensorFlow Lite XNNPACK delegate" (stderr)
                interpreter = Interpreter(model_content=self.content,
                                          num_threads=self.num_threads)
                details = interpreter.get_input_details()[0]
                interpreter.resize_tensor_input(details["index"],
                                                [batch_size, *details["shape"][1:]])
                interpreter.allocate_tensors()
            self._interpreters[batch_size] = interpreter
        return self._interpreters[batch_size]

    def quantize_input(self, x: np.ndarray) -> np.ndarray:
        """``x`` as the model's input tensor: ``clip(round(x / s) + z)`` in the input's integer
        dtype when the input is quantized, else float32."""
        dtype = np.dtype(self.input_details["dtype"])
        if not np.issubdtype(dtype, np.integer):
            return np.asarray(x, dtype=dtype)
        scale, zero_point = self.input_details["quantization"]
        info = np.iinfo(dtype)
        q = round_half_away(np.asarray(x, dtype=np.float64) / scale) + zero_point
        return np.clip(q, info.min, info.max).astype(dtype)

    def _set_input(self, x: np.ndarray):
        if np.ndim(x) != 1 + len(self.input_shape) or tuple(np.shape(x)[1:]) != self.input_shape:
            raise ValueError(f"expected inputs of shape (n, {', '.join(map(str, self.input_shape))}"
                             f"), got {np.shape(x)}")
        interpreter = self.interpreter(len(x))
        interpreter.set_tensor(self.input_details["index"], self.quantize_input(x))
        return interpreter

    def predict(self, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Float outputs for ``x``, ``batch_size`` images per invoke (the last batch smaller)."""
        outputs = []
        for start in range(0, len(x), batch_size):
            interpreter = self._set_input(x[start:start + batch_size])
            interpreter.invoke()
            out = interpreter.get_tensor(self.output_details["index"])
            if np.issubdtype(out.dtype, np.integer):
                scale, zero_point = self.output_details["quantization"]
                out = scale * (out.astype(np.float32) - zero_point)
            outputs.append(out)
        return np.concatenate(outputs)

    def invoker(self, x: np.ndarray) -> Callable[[], None]:
        """A function that runs the model once on the batch ``x`` (set now), for timing."""
        return self._set_input(x).invoke


def median_seconds(calls: Mapping[str, Callable[[], object]], repeats: int = 20
                   ) -> dict[str, float]:
    """Median seconds of each zero-argument function. One warm-up call each, then ``repeats``
    rounds that call every function once in turn, so that a change in the machine's load
    affects all of them alike."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


_TENSOR_TYPES = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 9: "int8"}


def constant_tensors(content: bytes) -> list[dict]:
    """The constant tensors (weights, biases, shapes) stored in a ``.tflite`` flatbuffer, read
    with the schema that ``ai_edge_litert`` ships: index (as the interpreter numbers tensors),
    name, dtype, shape, bytes of data and the number of quantization scales."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    rows = []
    for index, tensor in enumerate(model.subgraphs[0].tensors):
        data = model.buffers[tensor.buffer].data
        if data is None or len(data) == 0:
            continue
        quant = tensor.quantization
        rows.append({"index": index, "name": tensor.name.decode(),
                     "dtype": _TENSOR_TYPES.get(tensor.type, "?"),
                     "shape": tuple(int(n) for n in tensor.shape), "bytes": len(data),
                     "scales": 0 if quant is None or quant.scale is None else len(quant.scale)})
    return rows


def size_breakdown(content: bytes) -> dict[str, int]:
    """Where the bytes of a ``.tflite`` file go: tensor data by dtype, quantization parameters
    (a float32 scale and an int64 zero-point per channel, for constant and activation tensors
    alike) and the rest (the flatbuffer's structure: tensor names and shapes, operators,
    signatures, metadata, alignment padding). The values sum to ``len(content)``."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    sizes: dict[str, int] = {}
    quant_bytes = 0
    for tensor in model.subgraphs[0].tensors:
        data = model.buffers[tensor.buffer].data
        if data is not None and len(data):
            key = f"{_TENSOR_TYPES.get(tensor.type, 'other')} data"
            sizes[key] = sizes.get(key, 0) + len(data)
        quant = tensor.quantization
        if quant is not None:
            quant_bytes += sum(4 * len(v) for v in (quant.scale, quant.min, quant.max)
                               if v is not None)
            quant_bytes += 8 * len(quant.zeroPoint) if quant.zeroPoint is not None else 0
    sizes["quantization parameters"] = quant_bytes
    sizes["flatbuffer structure and metadata"] = len(content) - sum(sizes.values())
    return sizes

"""Convolution arithmetic: output shapes, parameter counts and multiply-accumulates (MACs).

Introduced in notebook 05, which derives the formulas; notebooks 08 (pruning), 09
(quantization) and 10 (distillation) use :func:`layer_costs` and :func:`total_macs` to report
what a model costs.
The shapes are computed here from the formulas, not read from Keras, so that comparing them
with Keras checks the formulas.

For an input of size ``n`` along one axis, a kernel of size ``k``, stride ``s`` and total
padding ``p_total`` (``2p`` for ``p`` zeros on each side)::

    out = floor((n + p_total - k) / s) + 1

A Conv2D layer with a ``k_h × k_w`` kernel, ``c_in`` input and ``c_out`` output channels has
``k_h·k_w·c_in·c_out + c_out`` parameters and performs ``out_h·out_w·k_h·k_w·c_in·c_out`` MACs
per image. A Dense layer from ``d_in`` to ``d_out`` units has ``d_in·d_out + d_out`` parameters
and ``d_in·d_out`` MACs. Pooling and flattening have no parameters and no MACs (max pooling
compares, it does not multiply). Bias additions and activations are not counted as MACs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from .parameters import ParameterError, check_param

PADDINGS = ("valid", "same")


def total_padding(n: int, k: int, s: int = 1, padding: str = "valid") -> int:
    """Zeros added along one axis in all (both sides together), as TensorFlow/Keras pad.

    ``valid`` adds none. ``same`` adds just enough that ``out = ceil(n / s)``:
    ``max((ceil(n / s) - 1)·s + k - n, 0)``; when that is odd, the extra zero goes at the end.
    """
    for name, value in (("n", n), ("k", k), ("s", s)):
        check_param(name, value, int, ge=1)
    n, k, s = int(n), int(k), int(s)
    check_param("padding", padding, str, choices=PADDINGS)
    if padding == "valid":
        return 0
    return max((math.ceil(n / s) - 1) * s + k - n, 0)


def conv_output_size(n: int, k: int, s: int = 1, padding: str = "valid") -> int:
    """Output size along one axis: ``floor((n + p_total - k) / s) + 1``.

    Raises :class:`~course_lib.parameters.ParameterError` (a ValueError) for a bad argument,
    including a kernel that does not fit in the (padded) input.
    """
    p_total = total_padding(n, k, s, padding)
    if n + p_total < k:
        raise ParameterError(f"parameter k must be ≤ n + total padding = {n + p_total} (the "
                             f"kernel does not fit in an input of size n = {n} with {padding!r} "
                             f"padding); got {k}")
    return (n + p_total - k) // s + 1


def conv2d_params(k_h: int, k_w: int, c_in: int, c_out: int, bias: bool = True) -> int:
    """Parameters of a Conv2D layer: ``k_h·k_w·c_in·c_out`` weights (+ ``c_out`` biases)."""
    return k_h * k_w * c_in * c_out + (c_out if bias else 0)


def conv2d_macs(out_h: int, out_w: int, k_h: int, k_w: int, c_in: int, c_out: int) -> int:
    """Multiply-accumulates of a Conv2D layer per image: ``out_h·out_w·k_h·k_w·c_in·c_out``."""
    return out_h * out_w * k_h * k_w * c_in * c_out


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _conv2d(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    if tuple(_pair(layer.dilation_rate)) != (1, 1) or getattr(layer, "groups", 1) != 1:
        raise ValueError(f"layer {layer.name!r}: dilated or grouped convolutions are not "
                         f"supported by layer_costs")
    if layer.data_format != "channels_last":
        raise ValueError(f"layer {layer.name!r}: only channels_last data is supported")
    (h, w, c_in), (k_h, k_w), (s_h, s_w) = shape, layer.kernel_size, layer.strides
    out_h = conv_output_size(h, k_h, s_h, layer.padding)
    out_w = conv_output_size(w, k_w, s_w, layer.padding)
    params = conv2d_params(k_h, k_w, c_in, layer.filters, bias=layer.use_bias)
    return (out_h, out_w, layer.filters), params, conv2d_macs(out_h, out_w, k_h, k_w, c_in,
                                                                 layer.filters)


def _pool2d(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    if layer.data_format != "channels_last":
        raise ValueError(f"layer {layer.name!r}: only channels_last data is supported")
    (h, w, c), (k_h, k_w), (s_h, s_w) = shape, layer.pool_size, layer.strides
    return (conv_output_size(h, k_h, s_h, layer.padding),
            conv_output_size(w, k_w, s_w, layer.padding), c), 0, 0


def _dense(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    d_in, d_out = shape[-1], layer.units
    positions = math.prod(shape[:-1])  # Dense acts on the last axis of a higher-rank input
    params = d_in * d_out + (d_out if layer.use_bias else 0)
    return (*shape[:-1], d_out), params, positions * d_in * d_out


def _flatten(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    return (math.prod(shape),), 0, 0


def _identity(layer, shape: tuple[int, ...]) -> tuple[tuple[int, ...], int, int]:
    return shape, 0, 0


_RULES = {"Conv2D": _conv2d, "MaxPooling2D": _pool2d, "Flatten": _flatten, "Dense": _dense,
          "Dropout": _identity, "ReLU": _identity, "Activation": _identity}
SUPPORTED = tuple(_RULES)


def layer_costs(model) -> list[dict]:
    """One row per layer of a chain-shaped Keras model: output shape, parameters and MACs.

    Rows are dicts with keys ``layer`` (name), ``type`` (class name), ``output_shape`` (without
    the batch axis), ``params`` and ``macs`` (multiply-accumulates per image). Shapes are
    propagated from the model's input shape with the formulas of this module. Supported layers:
    :data:`SUPPORTED` (input layers are skipped); any other layer raises ValueError naming it.
    """
    if len(model.inputs) != 1:
        raise ValueError(f"layer_costs needs a model with one input, {model.name!r} has "
                         f"{len(model.inputs)}")
    shape = tuple(model.inputs[0].shape[1:])
    if any(d is None for d in shape):
        raise ValueError(f"layer_costs needs a fixed input shape, got {(None, *shape)}")
    rows = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind not in _RULES:
            raise ValueError(f"layer {layer.name!r} of type {kind} is not supported by "
                             f"layer_costs (supported: {', '.join(SUPPORTED)})")
        shape, params, macs = _RULES[kind](layer, shape)
        rows.append({"layer": layer.name, "type": kind, "output_shape": shape,
                     "params": params, "macs": macs})
    return rows


def total_macs(model) -> int:
    """Multiply-accumulates of one forward pass of one image: the sum over :func:`layer_costs`."""
    return sum(row["macs"] for row in layer_costs(model))

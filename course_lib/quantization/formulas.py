"""The quantization formulas in NumPy: integer ranges, affine and symmetric parameters,
quantize/dequantize, and integer matmul with its error bound (notebook 09)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..parameters import ParameterError, check_param

# --- the formulas ------------------------------------------------------------------------------


def qrange(bits: int, signed: bool = True, narrow: bool = False) -> tuple[int, int]:
    """The integers ``(qmin, qmax)`` of a ``bits``-bit code.

    Signed: ``[-2^(b-1), 2^(b-1) - 1]`` (``narrow`` drops the lowest, giving a range symmetric
    about 0, as symmetric weight quantization uses); unsigned: ``[0, 2^b - 1]``.
    """
    check_param("bits", bits, int, ge=2, le=16)
    bits = int(bits)
    if not signed:
        if narrow:
            raise ParameterError("parameter narrow must be False for unsigned codes: narrow "
                                 "ranges are only defined for signed ones; got True")
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
        raise ValueError(f"x must be a non-empty array of finite values (no NaN or infinity); "
                         f"got shape {x.shape} with {x.size - np.isfinite(x).sum()} non-finite")
    if axis is None:
        return np.array(x.min()), np.array(x.max())
    check_param("axis", axis, int, ge=-x.ndim, lt=x.ndim)
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
        raise ValueError("zero range: x is 0 everywhere (in some channel), so no scale can be "
                         "derived")
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
        raise ValueError("zero range: x is 0 everywhere (in some channel), so no scale can be "
                         "derived")
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
        raise ValueError(f"q must be an array of integer codes; got dtype {q.dtype}")
    return params.scale_for(q) * (q.astype(np.int64) - params.zero_point_for(q))


# --- integer arithmetic ------------------------------------------------------------------------


def _check_matmul(qx: np.ndarray, px: QuantParams, qw: np.ndarray, pw: QuantParams) -> None:
    if qx.ndim != 2 or qw.ndim != 2 or qx.shape[1] != qw.shape[0]:
        raise ValueError(f"qx and qw must be (n, k) and (k, m) matrices for (n, k) @ (k, m); got "
                         f"shapes {qx.shape} and {qw.shape}")
    if px.axis is not None:
        raise ValueError(f"px must quantize the activations x per tensor (axis=None); got "
                         f"axis={px.axis}")
    if pw.axis not in (None, 1, -1) or np.any(pw.zero_point != 0):
        raise ValueError(f"pw must quantize the weights w symmetrically (zero_point 0), per "
                         f"tensor or per output column (axis=1); got axis={pw.axis}")


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



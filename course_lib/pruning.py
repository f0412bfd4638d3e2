"""Pruning for Keras 3: magnitude masks, the polynomial sparsity schedule, structured slicing.

Introduced in notebook 08 (pruning), which derives each piece and checks it; the capstone,
notebook 13, reuses it for iterative pruning before weight sharing. The TensorFlow Model
Optimization Toolkit (tfmot) offers ``prune_low_magnitude``, ``PolynomialDecay``,
``UpdatePruningStep`` and ``strip_pruning``, but only for legacy ``tf_keras`` models: with
Keras 3 it raises ValueError, and Keras 3 has no pruning API of its own. This module provides
the same workflow for Keras 3:

- **Unstructured magnitude pruning.** :func:`magnitude_mask` / :func:`magnitude_masks` zero
  the weights of smallest magnitude, per layer or with one global threshold.
  :class:`PrunedModel` wraps a model, keeps one 0/1 mask per kernel as a non-trainable
  variable and re-applies the masks after every optimizer step, so pruned weights stay exactly
  zero while fine-tuning; :class:`UpdateMasks` raises the sparsity along a
  :class:`PolynomialDecay` schedule (Zhu & Gupta, 2017); :func:`strip_pruning` returns a plain
  Keras model with the masked weights. :func:`random_masks` prunes as many weights at random:
  the baseline that magnitude pruning must beat.
- **Size.** :func:`float32_bytes`, :func:`gzip_bytes` and the bitmask sparse encoding
  :func:`bitmask_encode` / :func:`bitmask_decode`.
- **Structured pruning.** :func:`l1_norms` and :func:`strongest` rank conv filters / dense
  units; :func:`shrink_model` builds a physically smaller chain model with the kept filters and
  the matching input channels of the layers downstream, weights copied.
- **Latency** is measured with :func:`course_lib.timing.compare`.

Ties: a mask prunes exactly ``k = floor(s·n + 1/2)`` weights (``s·n`` rounded to the nearest
integer, halves up); among weights of equal magnitude the one that comes first in C order
(flattened index; for global masks, layers in the order given) is pruned first.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import keras
import numpy as np

from .parameters import ParameterError, check_param

PRUNABLE = ("Conv2D", "Dense")
SCOPES = ("global", "layer")


def n_pruned(n: int, sparsity: float) -> int:
    """How many of ``n`` weights a mask of this ``sparsity`` prunes: ``floor(s·n + 1/2)``."""
    check_param("n", n, int, ge=0)
    check_param("sparsity", sparsity, float, ge=0, le=1)
    sparsity = float(sparsity)
    return min(n, math.floor(sparsity * n + 0.5))


def magnitude_mask(weights: np.ndarray, sparsity: float) -> np.ndarray:
    """Boolean keep-mask of ``weights``'s shape that prunes the :func:`n_pruned` weights of
    smallest ``|w|`` (ties: the earlier flattened index is pruned first)."""
    magnitude = np.abs(np.asarray(weights)).ravel()
    order = np.argsort(magnitude, kind="stable")
    keep = np.ones(magnitude.size, dtype=bool)
    keep[order[:n_pruned(magnitude.size, sparsity)]] = False
    return keep.reshape(np.shape(weights))


def magnitude_masks(weights: Mapping[str, np.ndarray], sparsity: float,
                    scope: str = "global") -> dict[str, np.ndarray]:
    """Keep-masks for several tensors (e.g. the kernels of a model, by layer name).

    ``scope="layer"`` prunes the fraction ``sparsity`` of every tensor; ``scope="global"`` ranks
    all weights together (one threshold), so the per-tensor sparsities differ while the total
    is ``sparsity``.
    """
    check_param("scope", scope, str, choices=SCOPES)
    if scope == "layer":
        return {name: magnitude_mask(w, sparsity) for name, w in weights.items()}
    arrays = [np.asarray(w) for w in weights.values()]
    flat_mask = magnitude_mask(np.concatenate([a.ravel() for a in arrays]), sparsity)
    bounds = np.cumsum([a.size for a in arrays])[:-1]
    return {name: part.reshape(a.shape) for name, a, part
            in zip(weights, arrays, np.split(flat_mask, bounds), strict=True)}


def random_masks(weights: Mapping[str, np.ndarray], sparsity: float, rng: np.random.Generator,
                 scope: str = "global") -> dict[str, np.ndarray]:
    """Keep-masks that prune weights chosen uniformly at random: the baseline a criterion such
    as magnitude must beat (the same number of weights removed, no information used).

    ``scope="global"`` draws the :func:`n_pruned` pruned weights from all tensors together
    (each tensor's sparsity is ``sparsity`` only on average); ``scope="layer"`` draws exactly
    the fraction ``sparsity`` of every tensor. ``rng`` (a NumPy Generator) makes the draw
    reproducible.
    """
    check_param("scope", scope, str, choices=SCOPES)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    shapes = {name: np.shape(w) for name, w in weights.items()}

    def draw(size: int) -> np.ndarray:
        keep = np.ones(size, dtype=bool)
        keep[rng.permutation(size)[:n_pruned(size, sparsity)]] = False
        return keep

    if scope == "layer":
        return {name: draw(math.prod(shape)).reshape(shape) for name, shape in shapes.items()}
    sizes = [math.prod(shape) for shape in shapes.values()]
    parts = np.split(draw(sum(sizes)), np.cumsum(sizes)[:-1])
    return {name: part.reshape(shape)
            for (name, shape), part in zip(shapes.items(), parts, strict=True)}


def sparsity_of(arrays: Sequence[np.ndarray]) -> float:
    """Fraction of exact zeros over all elements of ``arrays``."""
    total = sum(np.size(a) for a in arrays)
    if total == 0:
        raise ValueError(f"arrays must hold at least one element; got shapes "
                         f"{[np.shape(a) for a in arrays]}")
    return sum(int(np.sum(np.asarray(a) == 0)) for a in arrays) / total


@dataclass(frozen=True)
class PolynomialDecay:
    """The sparsity schedule of Zhu & Gupta (2017), ``To prune, or not to prune``.

    At the update steps ``t = t0, t0 + Δt, ..., t0 + nΔt`` (``t0 = begin_step``,
    ``t0 + nΔt = end_step``, ``Δt = frequency``) the target sparsity is
    ``s_t = s_f + (s_i - s_f)·(1 - (t - t0)/(nΔt))**power`` (``power`` 3 in the paper); between
    updates the last target holds, before ``t0`` nothing is pruned, after ``end_step`` the
    sparsity stays ``s_f``.
    """

    initial_sparsity: float
    final_sparsity: float
    begin_step: int
    end_step: int
    frequency: int
    power: float = 3.0

    def __post_init__(self):
        check_param("final_sparsity", self.final_sparsity, float, ge=0, le=1)
        check_param("initial_sparsity", self.initial_sparsity, float, ge=0,
                    le=self.final_sparsity)  # the sparsity only grows
        check_param("begin_step", self.begin_step, int, ge=0)
        check_param("end_step", self.end_step, int, gt=self.begin_step)
        check_param("frequency", self.frequency, int, ge=1)
        if (self.end_step - self.begin_step) % self.frequency:
            raise ParameterError(f"parameter frequency must divide end_step - begin_step = "
                                 f"{self.end_step - self.begin_step}; got {self.frequency}")
        check_param("power", self.power, float, gt=0)

    def is_update_step(self, step: int) -> bool:
        """Whether the masks are recomputed at ``step``."""
        return (self.begin_step <= step <= self.end_step
                and (step - self.begin_step) % self.frequency == 0)

    def __call__(self, step: int) -> float:
        """The target sparsity in force at optimizer step ``step`` (0-based)."""
        if step < self.begin_step:
            return 0.0
        last_update = min(step, self.end_step)
        last_update -= (last_update - self.begin_step) % self.frequency
        progress = (last_update - self.begin_step) / (self.end_step - self.begin_step)
        return (self.final_sparsity
                + (self.initial_sparsity - self.final_sparsity) * (1 - progress) ** self.power)


def prunable_layers(model: keras.Model) -> list[str]:
    """Names of the layers of ``model`` with a kernel to prune (Conv2D and Dense)."""
    return [layer.name for layer in model.layers if type(layer).__name__ in PRUNABLE]


def copy_model(model: keras.Model) -> keras.Model:
    """A new, uncompiled model with ``model``'s architecture and a copy of its weights."""
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


class PrunedModel(keras.Model):
    """``base`` with a 0/1 mask on the kernel of each layer in ``layer_names``.

    The masks are non-trainable variables of this model (all ones at first). After every
    optimizer step of ``fit``, :meth:`train_step` multiplies each kernel by its mask, so pruned
    weights are exactly zero whenever a step ends. Biases are not pruned. ``base`` is used, and
    changed, in place: wrap a :func:`copy_model` to keep the original. :meth:`train_step` extends
    the TensorFlow backend's (the course's backend).
    """

    def __init__(self, base: keras.Model, layer_names: Sequence[str] | None = None,
                 name: str | None = None):
        super().__init__(name=name or f"pruned_{base.name}")
        self.base = base
        self.layer_names = list(layer_names if layer_names is not None else prunable_layers(base))
        if not self.layer_names:
            raise ValueError(f"model {base.name!r} has no layer to prune")
        self.masks = [self.add_weight(shape=base.get_layer(n).kernel.shape, initializer="ones",
                                      trainable=False, name=f"{n}_mask")
                      for n in self.layer_names]

    def call(self, inputs, training=None):
        return self.base(inputs, training=training)

    def kernels(self) -> dict[str, np.ndarray]:
        """The current kernels as NumPy arrays, by layer name."""
        return {n: self.base.get_layer(n).kernel.numpy() for n in self.layer_names}

    def mask_arrays(self) -> dict[str, np.ndarray]:
        """The current masks as boolean NumPy arrays, by layer name."""
        return {n: m.numpy() > 0 for n, m in zip(self.layer_names, self.masks, strict=True)}

    def apply_masks(self) -> None:
        """Multiply every pruned kernel by its mask."""
        for name, mask in zip(self.layer_names, self.masks, strict=True):
            kernel = self.base.get_layer(name).kernel
            kernel.assign(kernel * mask)

    def update_masks(self, sparsity: float, scope: str = "global") -> None:
        """New masks by magnitude from the current kernels (:func:`magnitude_masks`), applied.

        Weights pruned before are exactly zero, so they are pruned again first: as long as the
        sparsity grows, a pruned weight never comes back.
        """
        self.set_masks(magnitude_masks(self.kernels(), sparsity, scope))

    def set_masks(self, masks: Mapping[str, np.ndarray]) -> None:
        """Use the given keep-masks (e.g. from :func:`random_masks`), one per pruned layer, and
        apply them. Raises ValueError if a layer is missing or a shape differs."""
        if set(masks) != set(self.layer_names):
            raise ValueError(f"masks must name exactly the layers {self.layer_names}; got "
                             f"{sorted(masks)}")
        for name, variable in zip(self.layer_names, self.masks, strict=True):
            if np.shape(masks[name]) != tuple(variable.shape):
                raise ValueError(f"mask of {name!r} has shape {np.shape(masks[name])}, its "
                                 f"kernel {tuple(variable.shape)}")
            variable.assign(np.asarray(masks[name]).astype("float32"))
        self.apply_masks()

    def train_step(self, data):
        logs = super().train_step(data)
        self.apply_masks()
        return logs


class UpdateMasks(keras.callbacks.Callback):
    """Drive a :class:`PrunedModel`'s masks along a schedule during ``fit``.

    Before every batch whose optimizer step is an update step of ``schedule``, the masks are
    recomputed at the scheduled sparsity (``scope`` as in :func:`magnitude_masks`). ``history``
    collects ``(step, target sparsity, achieved sparsity)`` at each update.
    """

    def __init__(self, schedule: PolynomialDecay, scope: str = "global"):
        super().__init__()
        check_param("scope", scope, str, choices=SCOPES)
        self.schedule, self.scope = schedule, scope
        self.history: list[tuple[int, float, float]] = []

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if not isinstance(self.model, PrunedModel):
            raise TypeError("UpdateMasks needs a PrunedModel")
        step = int(self.model.optimizer.iterations.value)
        if self.schedule.is_update_step(step):
            target = self.schedule(step)
            self.model.update_masks(target, self.scope)
            achieved = 1 - np.mean(np.concatenate(
                [m.ravel() for m in self.model.mask_arrays().values()]))
            self.history.append((step, target, float(achieved)))


def strip_pruning(model: PrunedModel) -> keras.Model:
    """A plain Keras model (``base``'s architecture, no masks) with the masked weights.

    Its predictions equal ``model``'s; it can be saved, converted and served like any model.
    """
    if not isinstance(model, PrunedModel):
        raise TypeError(f"strip_pruning needs a PrunedModel, got {type(model).__name__}")
    plain = copy_model(model.base)
    for name, mask in model.mask_arrays().items():
        layer = plain.get_layer(name)
        layer.kernel.assign(layer.kernel.numpy() * mask)
    return plain


def float32_bytes(weights: Sequence[np.ndarray]) -> int:
    """Bytes of ``weights`` stored densely as float32 (4 bytes per value)."""
    return 4 * sum(int(np.size(w)) for w in weights)


def gzip_bytes(weights: Sequence[np.ndarray]) -> int:
    """Bytes of the gzip (level 9) of ``weights`` serialized as concatenated float32 values."""
    raw = b"".join(np.ascontiguousarray(w, dtype=np.float32).tobytes() for w in weights)
    return len(gzip.compress(raw, compresslevel=9, mtime=0))


@dataclass(frozen=True)
class BitmaskTensor:
    """A sparse tensor: its shape, one bit per element (1 = stored), the nonzero values."""

    shape: tuple[int, ...]
    bits: np.ndarray  # uint8, np.packbits of the flattened nonzero pattern
    values: np.ndarray  # float32, the nonzeros in C order

    @property
    def nbytes(self) -> int:
        """Stored bytes: the bitmask plus the values (the few bytes of shape not counted)."""
        return self.bits.nbytes + self.values.nbytes


def bitmask_encode(weights: np.ndarray) -> BitmaskTensor:
    """Encode ``weights`` as a bitmask of its nonzeros plus their float32 values."""
    flat = np.asarray(weights, dtype=np.float32).ravel()
    nonzero = flat != 0
    return BitmaskTensor(tuple(np.shape(weights)), np.packbits(nonzero), flat[nonzero].copy())


def bitmask_decode(encoded: BitmaskTensor) -> np.ndarray:
    """The dense float32 array that :func:`bitmask_encode` encoded."""
    size = math.prod(encoded.shape)
    nonzero = np.unpackbits(encoded.bits, count=size).astype(bool)
    if nonzero.sum() != encoded.values.size:
        raise ValueError(f"bitmask marks {nonzero.sum()} values but {encoded.values.size} "
                         f"are stored")
    flat = np.zeros(size, dtype=np.float32)
    flat[nonzero] = encoded.values
    return flat.reshape(encoded.shape)


def l1_norms(kernel: np.ndarray) -> np.ndarray:
    """L1 norm of each output filter / unit: the sum of ``|w|`` over every axis but the last."""
    kernel = np.asarray(kernel)
    if kernel.ndim < 2:
        raise ValueError(f"kernel must have at least 2 axes, the output axis last; got shape "
                         f"{kernel.shape}")
    return np.abs(kernel).reshape(-1, kernel.shape[-1]).sum(axis=0)


def strongest(norms: np.ndarray, fraction_removed: float) -> np.ndarray:
    """Sorted indices of the filters to keep: all but the :func:`n_pruned` of smallest norm
    (ties: the later index is removed first). At least one filter is always kept."""
    check_param("fraction_removed", fraction_removed, float, ge=0, le=1)
    norms = np.asarray(norms)
    n_keep = max(1, norms.size - n_pruned(norms.size, fraction_removed))
    return np.sort(np.argsort(-norms, kind="stable")[:n_keep])


_PASS_THROUGH = ("MaxPooling2D", "AveragePooling2D", "Dropout", "ReLU", "Activation")


def _sliced_layer(layer, kernel_in: np.ndarray, bias: np.ndarray | None, keep: np.ndarray):
    config = layer.get_config()
    config["filters" if "filters" in config else "units"] = len(keep)
    new = type(layer).from_config(config)
    weights = [kernel_in[..., keep]] + ([bias[keep]] if bias is not None else [])
    return new, weights


def shrink_model(model: keras.Sequential,
                 keep: Mapping[str, np.ndarray]) -> keras.Sequential:
    """A smaller copy of a chain model that keeps only the output channels ``keep[name]`` of the
    named Conv2D / Dense layers, slicing the input channels of the next weighted layer (through
    pooling, dropout, activations and a Flatten) to match. All weights are copied.

    Layers not in ``keep`` keep all their outputs. With every channel kept, the copy computes
    exactly what ``model`` computes. Raises ValueError for an unsupported layer or bad indices.
    """
    if not isinstance(model, keras.Sequential):
        raise ValueError(f"model must be a keras.Sequential chain model; got "
                         f"{type(model).__name__}")
    unknown = set(keep) - set(prunable_layers(model))
    if unknown:
        raise ParameterError(f"parameter keep must name only Conv2D/Dense layers of "
                             f"{model.name!r}; got {sorted(unknown)}")
    input_shape = tuple(model.inputs[0].shape[1:])
    channels = np.arange(input_shape[-1])  # input channels of the next layer that survive
    new_layers, new_weights = [], []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in PRUNABLE:
            if getattr(layer, "data_format", "channels_last") != "channels_last":
                raise ValueError(f"layer {layer.name!r}: only channels_last is supported")
            kernel, *rest = layer.get_weights()
            n_out = kernel.shape[-1]
            kept = np.asarray(keep.get(layer.name, np.arange(n_out)))
            if kept.ndim != 1 or kept.size == 0 or np.any(np.diff(kept) <= 0) \
                    or kept[0] < 0 or kept[-1] >= n_out:
                raise ParameterError(f"parameter keep[{layer.name!r}] must be increasing "
                                     f"indices in 0..{n_out - 1}; got {kept}")
            new, weights = _sliced_layer(layer, np.take(kernel, channels, axis=-2),
                                         rest[0] if rest else None, kept)
            channels = kept
        elif kind == "Flatten":
            positions = math.prod(layer.input.shape[1:-1])
            n_channels = layer.input.shape[-1]
            channels = (np.arange(positions)[:, None] * n_channels + channels[None, :]).ravel()
            new, weights = type(layer).from_config(layer.get_config()), []
        elif kind in _PASS_THROUGH:
            new, weights = type(layer).from_config(layer.get_config()), []
        else:
            raise ValueError(f"layer {layer.name!r} of type {kind} is not supported by "
                             f"shrink_model")
        new_layers.append(new)
        new_weights.append(weights)
    small = keras.Sequential([keras.Input(input_shape, name=model.inputs[0].name), *new_layers],
                             name=f"{model.name}_shrunk")
    for new, weights in zip(new_layers, new_weights, strict=True):
        if weights:
            new.set_weights(weights)
    return small

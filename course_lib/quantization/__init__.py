"""Quantization: the affine and symmetric formulas, integer matmul, fake quantization and LiteRT.

Introduced in notebook 09 (quantization), which derives every formula here and checks it;
the capstone, notebook 13, converts its pruned, weight-shared networks to int8 with
:mod:`.litert`. Three modules, re-exported
here so that notebooks write ``cl.quantization.X``:

- **The formulas (NumPy).** :func:`qrange` gives the integer range of a bit width;
  :func:`affine_params` and :func:`symmetric_params` compute scale and zero-point per tensor or
  per channel (:class:`QuantParams`); :func:`quantize` and :func:`dequantize` apply them.
  Rounding is half away from zero (as TFLite's ``std::round``), and ``|x -
  dequantize(quantize(x))| <= scale / 2`` for every ``x`` inside the calibrated range.
- **Integer arithmetic.** :func:`int_matmul` multiplies quantized matrices with int32
  accumulation and rescales once; :func:`matmul_error_bound` is the worst-case error derived in
  the notebook.
- **Fake quantization for quantization-aware training (TensorFlow).** :func:`fake_quant` and
  :func:`fake_quant_weights` quantize and dequantize in the forward pass and pass gradients
  straight through (the straight-through estimator, STE), zero outside the clipping range.
  :class:`QATConv2D` and :class:`QATDense` use them, and :func:`quantize_for_training` turns a
  trained ``Sequential`` CNN into one that trains with quantized weights and activations
  (the activation ranges stay fixed at their calibrated values; tfmot's default scheme instead
  tracks them during training with moving averages).
  TensorFlow Model Optimization Toolkit (tfmot) has ``quantize_model`` for this, but only for
  legacy ``tf_keras`` models: with Keras 3 it raises ValueError, and Keras 3 has no
  quantization-aware training of its own.
- **LiteRT.** :func:`convert` runs ``tf.lite.TFLiteConverter`` (float32, dynamic-range, float16,
  full int8) with its chatter silenced; :class:`LiteModel` runs a ``.tflite`` model with
  ``ai_edge_litert``, quantizing int8 inputs and dequantizing outputs; :func:`size_breakdown`
  says where the bytes of a ``.tflite`` file go, and :func:`operators` lists its operators.
"""

from .formulas import (
                       QuantParams,
                       affine_params,
                       dequantize,
                       int_matmul,
                       matmul_error_bound,
                       qrange,
                       quantize,
                       round_half_away,
                       symmetric_params,
)
from .litert import (
                       MODES,
                       LiteModel,
                       constant_tensors,
                       convert,
                       operators,
                       quiet_native_output,
                       size_breakdown,
)
from .qat import (
                       FakeQuant,
                       QATConv2D,
                       QATDense,
                       activation_ranges,
                       fake_quant,
                       fake_quant_weights,
                       quantize_for_training,
)

__all__ = ["MODES", "FakeQuant", "LiteModel", "QATConv2D", "QATDense", "QuantParams",
           "activation_ranges", "affine_params", "constant_tensors", "convert", "dequantize",
           "fake_quant", "fake_quant_weights", "int_matmul", "matmul_error_bound",
           "operators", "qrange", "quantize", "quantize_for_training", "quiet_native_output",
           "round_half_away", "size_breakdown", "symmetric_params"]

"""LiteRT: convert a Keras model (float32, dynamic-range, float16, int8), run it, and say where
the bytes of a ``.tflite`` file go (notebook 09)."""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Callable, Iterator

import keras
import numpy as np
import tensorflow as tf

from ..parameters import ParameterError, check_param
from .formulas import round_half_away

MODES = ("float32", "dynamic", "float16", "int8")

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
    check_param("mode", mode, str, choices=MODES)
    if (mode == "int8") != (representative is not None):
        raise ParameterError(f"parameter representative (images) must be given for mode 'int8', "
                             f"and only for it; got {type(representative).__name__} for mode "
                             f"{mode!r}")
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
            raise ValueError(f"x must have shape (n, {', '.join(map(str, self.input_shape))}); "
                             f"got {np.shape(x)}")
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


def operators(content: bytes) -> list[dict]:
    """The operators of a ``.tflite`` flatbuffer's main graph, in order, read with the schema
    that ``ai_edge_litert`` ships: the builtin operator's name (e.g. ``"CONV_2D"``,
    ``"DEQUANTIZE"``) and the dtypes of its input and output tensors (omitted inputs skipped).
    This is the graph as the file stores it, before the interpreter hands parts of it to a
    delegate such as XNNPACK."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(content), 0)
    names = {value: name for name, value in vars(schema.BuiltinOperator).items()
             if not name.startswith("_")}
    graph = model.subgraphs[0]

    def dtypes(indices) -> tuple[str, ...]:
        return tuple(_TENSOR_TYPES.get(graph.tensors[i].type, "?")
                     for i in ([] if indices is None else indices) if i >= 0)

    rows = []
    for op in graph.operators:
        code = model.operatorCodes[op.opcodeIndex]
        builtin = max(code.builtinCode, code.deprecatedBuiltinCode)  # the schema's rule
        rows.append({"op": names.get(builtin, str(builtin)), "inputs": dtypes(op.inputs),
                     "outputs": dtypes(op.outputs)})
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

"""The conversion targets a report gives verdicts for (DESIGN.md §3). Order here is report order."""

from __future__ import annotations

TARGETS: dict[str, str] = {
    "float": "TFLite converter, no optimizations",
    "dynamic": "Optimize.DEFAULT without a representative dataset (dynamic-range weights)",
    "int8": "Optimize.DEFAULT + representative dataset + TFLITE_BUILTINS_INT8 only, int8 input and output",
    "int8-fallback": "Optimize.DEFAULT + representative dataset, default supported ops (float fallback allowed)",
    "uint8-qat": "legacy fake-quant path: inference_type=uint8 with quantized_input_stats",
    "int16x8": "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8",
    "float16": "Optimize.DEFAULT + supported_types=[float16]",
    "tflm": "TensorFlow Lite Micro's interpreter running what the int8 settings write",
    "gpu": "the TFLite GPU delegate",
}
DEFAULT_TARGETS: tuple[str, ...] = ("float", "int8")
CONVERTER_TARGETS: tuple[str, ...] = ("float", "dynamic", "int8", "int8-fallback", "uint8-qat", "int16x8",
                                      "float16")
QUANTIZED_TARGETS: tuple[str, ...] = ("int8", "int8-fallback", "uint8-qat", "int16x8", "tflm")

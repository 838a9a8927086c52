// The conversion targets a model can be checked for (DESIGN.md §3), with a one-line explanation each.
export const TARGETS = [
  ['float', 'TFLite converter with no optimizations'],
  ['dynamic', 'dynamic-range quantization: int8 weights, float activations'],
  ['int8', 'full integer: every op int8, int8 input and output'],
  ['int8-fallback', 'integer where possible, float fallback allowed'],
  ['uint8-qat', 'legacy fake-quant (quantization-aware) uint8 path'],
  ['int16x8', '16-bit activations, 8-bit weights'],
  ['float16', 'float16 weights'],
  ['tflm', 'TensorFlow Lite Micro on a microcontroller'],
  ['gpu', 'the TFLite GPU delegate'],
];
export const DEFAULT_TARGETS = ['float', 'int8'];

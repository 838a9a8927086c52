"""Rules of the quantization category."""

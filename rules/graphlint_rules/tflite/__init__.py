"""Rules of the tflite category."""

"""Loader tests: GraphDef and TFLite files written by TensorFlow itself, and shape propagation."""

"""Fix and convert: the real TFLite converter in warm, sandboxed worker processes, and a numeric check.

Only :mod:`graphlint.convert.worker` imports TensorFlow, and only inside a worker process started by
:mod:`graphlint.convert.pool`. Everything else here (the pool, the I/O recipe, the service entry point and the
CLI commands) runs in the caller's process without TensorFlow.
"""

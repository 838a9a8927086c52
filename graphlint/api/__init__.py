"""The graphlint service: a REST API under ``/v1`` that lints uploaded models and keeps every report.

:func:`graphlint.api.app.create_app` builds the ASGI app from :class:`graphlint.api.settings.Settings`;
``graphlint serve`` runs it with uvicorn. Nothing in this package imports TensorFlow, and the server never
parses a user's model in its own process: linting runs in a pool of worker processes
(:mod:`graphlint.api.linting`), conversion in the conversion service's own workers (:mod:`graphlint.api.jobs`).
"""

"""Rules of the `internal` category."""

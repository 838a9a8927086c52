"""Rules of the `shapes` category."""

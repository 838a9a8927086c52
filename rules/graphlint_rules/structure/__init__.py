"""Rules of the `structure` category."""

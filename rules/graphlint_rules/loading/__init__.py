"""Rules of the `loading` category."""

"""Pause the cyclic garbage collector around bulk object construction."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Run the block with the cyclic collector off (restored after, as it was).

    Loading, linting and graph export allocate tens of thousands of small dicts, lists and records that
    live until the block ends and form no garbage cycles; each allocation threshold crossed starts a
    collection that walks all of them again, which costs as much as the work itself on large graphs.
    Garbage made in the block is still freed by reference counting; cycles wait for a full collection.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # Everything allocated in the block sits in the youngest generation, so the first collection after
            # it would walk all of it (0.1 s for a 10k-node graph). It is long-lived: move it to the oldest
            # generation (freeze, then unfreeze into it), where it is walked only by the rare full collection.
            gc.freeze()
            gc.unfreeze()
            gc.enable()

"""The storage contract as tests, for stores written in Python.

Run every case against a fresh store from ``factory`` and fail on any
deviation::

    from reservo import conformance
    for name in conformance.case_names():
        assert conformance.run_case(name, MyStore) is None

Each case gets a new, empty store, made before the case starts (so the
factory may open one that connects, like a ``PostgresStore``). The
concurrency cases call the store from several threads at once, so it must
be thread-safe. A built-in store wrapped in your own (for metrics or
tracing) must pass too: its methods answer awaitables that a wrapper can
return as they are.
"""

from __future__ import annotations

from collections.abc import Callable

from ._reservo import case_names, run_case
from .engine import Store

__all__ = ["StoreFactory", "case_names", "run_case"]

StoreFactory = Callable[[], Store]
"""Makes a new, empty store for one case."""

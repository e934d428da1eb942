"""Moving a store's contents into another: from the embedded SQLite file to
PostgreSQL when an app outgrows one machine (or between any two stores)."""

from __future__ import annotations

from typing import NamedTuple

from . import _reservo
from .engine import Store

__all__ = ["CopyReport", "copy_store"]


class CopyReport(NamedTuple):
    """What :func:`copy_store` copied."""

    records: int
    """Records copied, each with its bytes."""
    events: int
    """Outbox events copied, each with its sequence number."""


def copy_store(source: Store, target: Store) -> CopyReport:
    """Copies every record and outbox event of ``source`` into ``target``,
    which must be empty (a new SQLite file, a new PostgreSQL table prefix).

    Stop every writer of ``source`` first (engines, notifiers, sweeps).
    Events keep their sequence numbers, so the notifier's cursor and your own
    event cursors go on where they were. The copy is compared with
    ``source`` when it is done.

    Raises ``InvalidInput`` (nothing written) when ``target`` is not empty or
    ``source``'s events skip numbers, ``InvalidInput`` when ``source``
    changed during the copy (throw ``target`` away and copy again into a new
    one), ``StorageError`` from either store.

    >>> from reservo import PostgresStore, SqliteStore, copy_store
    >>> copy_store(SqliteStore("bookings.db"), PostgresStore(url))  # doctest: +SKIP
    CopyReport(records=1841, events=977)
    """
    records, events = _reservo.copy_store(source, target).wait()
    return CopyReport(records, events)

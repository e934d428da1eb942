"""``copy_store`` from Python: a SQLite file's bookings and outbox moved into
a new file and into a store written in Python, where an engine goes on with
them; refused into a store that is not empty."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from reservo import (
    CopyReport,
    Engine,
    ManualClock,
    MemoryStore,
    SqliteStore,
    copy_store,
    errors,
)

from .conftest import START, book_villa, set_up_catalog, villa
from .test_ports import DictStore


def booked_file(path: Path) -> tuple[SqliteStore, str]:
    store = SqliteStore(path)
    engine = Engine(store, clock=ManualClock(START))
    set_up_catalog(engine)
    return store, book_villa(engine, date(2026, 7, 10), date(2026, 7, 12)).id


@pytest.mark.parametrize("into", ["sqlite", "python"])
def test_a_copy_carries_the_bookings_and_events_over(tmp_path: Path, into: str) -> None:
    source, booking = booked_file(tmp_path / "old.db")
    target = SqliteStore(tmp_path / "new.db") if into == "sqlite" else DictStore()
    report = copy_store(source, target)
    assert isinstance(report, CopyReport)
    old = Engine(source, clock=ManualClock(START))
    new = Engine(target, clock=ManualClock(START))
    assert report.events == len(old.events(limit=1000))
    assert report.records > 0
    assert new.events(limit=1000) == old.events(limit=1000)
    assert new.booking(booking) == old.booking(booking)
    # The copy's inventory is the source's: the booked nights stay sold.
    with pytest.raises(errors.Unavailable):
        new.hold(
            [villa(date(2026, 7, 11), date(2026, 7, 12))],
            idempotency_key="h2",
            ttl_seconds=600,
        )


def test_a_copy_into_a_store_that_is_not_empty_is_refused(tmp_path: Path) -> None:
    source, _ = booked_file(tmp_path / "old.db")
    target = MemoryStore()
    copy_store(source, target)
    with pytest.raises(errors.InvalidInput, match="empty"):
        copy_store(source, target)
    with pytest.raises(TypeError):
        copy_store(source, object())  # type: ignore[arg-type]

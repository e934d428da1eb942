"""The built-in stores have the methods of ``reservo.Storage``: Python reads
them directly, and a host's own store can wrap one and pass the wrapper to
an engine (for metrics or tracing) without breaking the storage contract."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Union

import pytest
from reservo import (
    AsyncEngine,
    CommitBatch,
    CommitConflict,
    ManualClock,
    MemoryStore,
    PostgresStore,
    Record,
    SqliteStore,
    StoredEvent,
    conformance,
    errors,
)

from .conftest import START, book_villa, make_engine, villa

BuiltIn = Union[MemoryStore, SqliteStore, PostgresStore]


class Counted:
    """A host store that counts the calls it forwards to a built-in one,
    returning the built-in store's awaitable answers as they are."""

    def __init__(self, inner: BuiltIn) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def get(self, keys: list[str]) -> Awaitable[list[Record | None]]:
        self.calls["get"] += 1
        return self.inner.get(keys)

    def scan(self, start: str, end: str | None, limit: int) -> Awaitable[list[Record]]:
        self.calls["scan"] += 1
        return self.inner.scan(start, end, limit)

    def commit(self, batch: CommitBatch) -> Awaitable[int]:
        self.calls["commit"] += 1
        return self.inner.commit(batch)

    def read_events(self, after: int, limit: int) -> Awaitable[list[StoredEvent]]:
        self.calls["read_events"] += 1
        return self.inner.read_events(after, limit)


class AsyncCounted(Counted):
    """The same with ``async def`` methods awaiting the built-in store."""

    async def get(self, keys: list[str]) -> list[Record | None]:
        self.calls["get"] += 1
        return await self.inner.get(keys)

    async def scan(self, start: str, end: str | None, limit: int) -> list[Record]:
        self.calls["scan"] += 1
        return await self.inner.scan(start, end, limit)

    async def commit(self, batch: CommitBatch) -> int:
        self.calls["commit"] += 1
        return await self.inner.commit(batch)

    async def read_events(self, after: int, limit: int) -> list[StoredEvent]:
        self.calls["read_events"] += 1
        return await self.inner.read_events(after, limit)


def sqlite_in(directory: Path) -> Callable[[], SqliteStore]:
    """New, empty SQLite files in ``directory``, one a call."""
    made = iter(range(1_000_000))
    return lambda: SqliteStore(directory / f"store-{next(made)}.sqlite")


@pytest.mark.parametrize("name", conformance.case_names())
def test_a_wrapped_memory_store_passes_the_storage_contract(name: str) -> None:
    assert conformance.run_case(name, lambda: Counted(MemoryStore())) is None


@pytest.mark.parametrize("name", conformance.case_names())
def test_a_wrapped_sqlite_store_passes_the_storage_contract(
    name: str, tmp_path: Path
) -> None:
    files = sqlite_in(tmp_path)
    assert conformance.run_case(name, lambda: Counted(files())) is None


@pytest.mark.parametrize(
    "name",
    [n for n in conformance.case_names() if "conflict" in n or n.startswith("racing_")],
)
def test_an_async_wrapper_keeps_conflicts_and_races_right(
    name: str, tmp_path: Path
) -> None:
    files = sqlite_in(tmp_path)
    assert conformance.run_case(name, lambda: AsyncCounted(files())) is None


def test_the_engine_books_through_a_wrapped_store_and_python_reads_what_it_wrote(
    tmp_path: Path,
) -> None:
    store = SqliteStore(tmp_path / "bookings.sqlite")
    wrapped = Counted(store)
    engine = make_engine(wrapped, ManualClock(START))
    booking = book_villa(engine, date(2026, 7, 1), date(2026, 7, 3))
    assert wrapped.calls["commit"] >= 2, wrapped.calls
    # The booking's record, read straight from the store.
    records = store.scan("", None, 10_000).wait()
    keys = [r.key for r in records]
    assert keys == sorted(keys)
    mine = [r for r in records if booking.id in r.key]
    assert mine, keys
    [again] = store.get([mine[0].key]).wait()
    assert again == mine[0]
    assert store.get(["no/such/key"]).wait() == [None]
    first_two = store.scan("", None, 2).wait()
    assert first_two == records[:2]
    # The outbox, paged from a cursor.
    events = store.read_events(0, 1_000).wait()
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert "booking.confirmed" in [e.kind for e in events]
    confirmed = next(e for e in events if e.kind == "booking.confirmed")
    assert json.loads(confirmed.payload)["booking"]["id"] == booking.id
    assert store.read_events(events[-1].seq, 10).wait() == []
    assert store.read_events(1, 1).wait() == events[1:2]


def test_engines_book_through_an_async_wrapper_on_either_loop() -> None:
    store = MemoryStore()
    wrapped = AsyncCounted(store)
    # The blocking engine runs the wrapper's coroutines on a background loop.
    blocking = make_engine(wrapped, ManualClock(START))
    first = book_villa(blocking, date(2026, 7, 1), date(2026, 7, 3))

    async def main() -> None:
        # The async engine runs them on this loop.
        engine = AsyncEngine(wrapped, clock=ManualClock(START))
        hold = await engine.hold(
            [villa(date(2026, 7, 10), date(2026, 7, 12))],
            idempotency_key="h2",
            ttl_seconds=600,
        )
        records = await store.scan("", None, 10_000)
        assert any(hold.id in r.key for r in records)
        assert any(first.id in r.key for r in records)
        assert [e.kind for e in await store.read_events(0, 1_000)].count(
            "hold.created"
        ) == 2

    asyncio.run(main())
    assert wrapped.calls["commit"] >= 3, wrapped.calls


def test_a_conflict_from_a_built_in_store_is_the_protocols_commit_conflict() -> None:
    conflicts: list[str] = []

    class StaleOnce(AsyncCounted):
        """Commits each batch twice: the second time, an expectation of a
        key the first commit wrote no longer holds. (Inside a port the
        built-in store is awaited: a blocking ``wait()`` there is refused.)"""

        async def commit(self, batch: CommitBatch) -> int:
            version = await super().commit(batch)
            written = {k for k, _ in batch.mutations}
            stale = [k for k, _ in batch.expectations if k in written]
            if stale:
                with pytest.raises(CommitConflict) as raised:
                    await self.inner.commit(batch)
                assert raised.value.key in stale
                assert not isinstance(raised.value, errors.ReservoError)
                conflicts.append(raised.value.key)
            return version

    store = StaleOnce(MemoryStore())
    engine = make_engine(store, ManualClock(START))
    book_villa(engine, date(2026, 7, 1), date(2026, 7, 3))
    assert conflicts, store.calls


def test_bad_arguments_are_refused_before_anything_is_read() -> None:
    store = MemoryStore()
    with pytest.raises(errors.InvalidInput, match="limit"):
        store.scan("", None, -1)
    with pytest.raises(errors.InvalidInput, match="after"):
        store.read_events(-1, 10)
    with pytest.raises(TypeError):
        store.commit("not a batch")  # type: ignore[arg-type]
    pending = store.get(["a"])
    assert pending.wait() == [None]
    with pytest.raises(RuntimeError, match="already been run"):
        pending.wait()

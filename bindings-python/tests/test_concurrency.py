"""Many threads and asyncio tasks racing for the same inventory: the engine
never overbooks, from any store, and the GIL is released while it works."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from reservo import (
    AsyncEngine,
    Engine,
    Hold,
    Item,
    ManualClock,
    MemoryStore,
    Party,
    SqliteStore,
    Store,
    errors,
)

from .conftest import make_engine, set_up_catalog
from .test_ports import DictStore

ROOM = Item.stay(
    "room-double",
    check_in=date(2026, 7, 1),
    check_out=date(2026, 7, 3),
    party=Party(2),
)


def stores(tmp_path: Path) -> list[Store]:
    return [MemoryStore(), SqliteStore(tmp_path / "race.sqlite"), DictStore()]


@pytest.mark.parametrize("kind", ["memory", "sqlite", "python"])
def test_threads_racing_for_three_rooms_get_exactly_three(
    kind: str, tmp_path: Path, clock: ManualClock
) -> None:
    store = dict(zip(["memory", "sqlite", "python"], stores(tmp_path)))[kind]
    engine = make_engine(store, clock)
    start = threading.Barrier(8)

    def attempt(i: int) -> Hold | None:
        start.wait()
        try:
            return engine.hold([ROOM], idempotency_key=f"t{i}", ttl_seconds=60)
        except errors.Unavailable:
            return None

    with ThreadPoolExecutor(8) as pool:
        won = [h for h in pool.map(attempt, range(8)) if h is not None]
    assert len(won) == 3
    nights = engine.night_availability(
        "room-double", date(2026, 7, 1), date(2026, 7, 3)
    )
    assert all((n.held, n.available) == (3, 0) for n in nights)


def test_asyncio_tasks_racing_for_three_rooms_get_exactly_three(
    clock: ManualClock,
) -> None:
    async def main() -> None:
        store = MemoryStore()
        set_up_catalog(Engine(store, clock=clock))
        engine = AsyncEngine(store, clock=clock)

        async def attempt(i: int) -> Hold | None:
            try:
                return await engine.hold(
                    [ROOM], idempotency_key=f"a{i}", ttl_seconds=60
                )
            except errors.Unavailable:
                return None

        results = await asyncio.gather(*(attempt(i) for i in range(10)))
        assert sum(r is not None for r in results) == 3

    asyncio.run(main())


def test_the_event_loop_keeps_running_while_the_engine_works(
    clock: ManualClock, tmp_path: Path
) -> None:
    async def main() -> None:
        store = SqliteStore(tmp_path / "loop.sqlite")
        set_up_catalog(Engine(store, clock=clock))
        engine = AsyncEngine(store, clock=clock)
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        for _ in range(20):
            await engine.quote(ROOM)
        task.cancel()
        assert ticks > 20

    asyncio.run(main())

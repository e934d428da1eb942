"""The background event loop that runs ``async def`` ports for blocking calls.

When the blocking :class:`reservo.Engine` (or the conformance kit) calls a
port whose methods are coroutines, there is no asyncio loop awaiting the
call, so the coroutine runs here: one loop on one daemon thread, started on
first use. :class:`reservo.AsyncEngine` never uses it: its ports run on the
caller's own loop.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The package's background loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=_run, args=(loop,), name="reservo-ports", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop


def _run(loop: asyncio.AbstractEventLoop) -> None:
    """Runs ``loop`` for good. A port coroutine that raises
    ``KeyboardInterrupt`` or ``SystemExit`` makes asyncio re-raise it out of
    the loop; the engine call waiting on that port gets the exception (from
    the callbacks still queued), so the loop just runs on."""
    while True:
        try:
            loop.run_forever()
            return
        except (KeyboardInterrupt, SystemExit):
            continue


def resolve(
    future: asyncio.Future[Any], error: BaseException | None, value: Any
) -> None:
    """Settles ``future``, an awaited engine call's, on its own loop: with
    ``error`` if there is one, else with ``value``; a future cancelled
    meanwhile stays cancelled."""
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)

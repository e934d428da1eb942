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

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def background_loop() -> asyncio.AbstractEventLoop:
    """The package's background loop, started on first use."""
    global _loop
    with _lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="reservo-ports", daemon=True
            )
            thread.start()
            _loop = loop
        return _loop

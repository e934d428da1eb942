"""SMS notifications: outbox events to messages through a host ``SmsSender``."""

from __future__ import annotations

from typing import Any

from . import _reservo
from ._reservo import DispatchReport, ManualClock
from .engine import Store
from .ports import SmsSender

__all__ = ["DispatchReport", "Notifier"]


class Notifier:
    """Sends an SMS for every outbox event that has a template, at least once.

    Its cursor and deliveries live in ``store`` (the engine's store), so
    several notifiers may run; each delivery is claimed by one of them.
    """

    def __init__(
        self, store: Store, sender: SmsSender, *, clock: ManualClock | None = None
    ) -> None:
        self._native = _reservo.NativeNotifier(store, sender, clock=clock)

    def run_once(self, max: int = 100) -> DispatchReport:
        """Reads new events, queues deliveries and sends up to ``max`` due ones."""
        return self._native.run_once(max).wait()

    async def run_once_async(self, max: int = 100) -> DispatchReport:
        """:meth:`run_once`, awaitable; ``async def`` senders run on this loop."""
        return await self._native.run_once(max)

    def failed_deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries given up, as data (message, attempts, last error)."""
        return self._native.failed_deliveries(limit).wait()
